#pragma once
// exp in float that the compiler can vectorise: glibc's expf is a call per element (its vector
// forms are declared for -ffast-math builds only), which made the attention's softmax a quarter of
// an AResDense net's inference. Cody and Waite's reduction x = n ln2 + r, |r| <= ln2 / 2, then
// Cephes's degree-6 polynomial for exp(r) and the exponent put in by two exact scalings by powers
// of two (so 2^n stays normal for every n in range); within 2 ulp of exp over the whole range, with
// exp's limits: +inf above log(FLT_MAX), 0 below log of the smallest normal, NaN for NaN. Only
// operations whose rounding does not depend on the vector width (and no contraction into FMA:
// kernels/cpu builds with -ffp-contract=off), so a loop of it gives the same bits in every clone.
#include <bit>
#include <cstdint>

namespace nn::cpu {

inline float vector_exp(float x) {
  constexpr float kMax = 88.7228394f;    // log(FLT_MAX)
  constexpr float kMin = -87.3365479f;   // log(FLT_MIN)
  constexpr float kRound = 12582912.0f;  // 1.5 2^23: adding it rounds to an integer, ties to even
  // The clamp keeps n in [-126, 128]; written so that a NaN becomes kMin here (and NaN at the end).
  float c = x > kMin ? x : kMin;
  c = c < kMax ? c : kMax;
  const float shifted = c * 1.44269504f + kRound;
  const float n = shifted - kRound;
  const std::int32_t ni = std::bit_cast<std::int32_t>(shifted) - std::bit_cast<std::int32_t>(kRound);
  // r = c - n ln2 in two parts, the first exact in float for |n| <= 2^9.
  float r = c - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e_r = p * (r * r) + r + 1.0f;
  // 2^n as 2^h 2^(n - h), h = n / 2: both factors are normal floats for n in [-126, 128].
  const std::int32_t h = ni / 2;
  const float scale_a = std::bit_cast<float>(std::uint32_t(h + 127) << 23);
  const float scale_b = std::bit_cast<float>(std::uint32_t(ni - h + 127) << 23);
  float y = e_r * scale_a * scale_b;
  y = x > kMax ? std::bit_cast<float>(0x7f800000u) : y;
  y = x < kMin ? 0.0f : y;
  return x != x ? x : y;
}

}  // namespace nn::cpu
