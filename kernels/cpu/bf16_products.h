#pragma once
// BF16 inference on the CPU (`predict --precision bf16`): while an nn::Bf16Products scope lives on
// a thread, the float forward products of that thread (products.h, linear_product) run in BF16, as
// torch.autocast runs PyTorch's: each weight matrix rounded to BF16 once and packed in the
// kernel's own layout, each product's input rounded to BF16, the products summed in float, and
// the bias, the residual and everything between the products (BatchNorm, ReLU, attention) in
// float as before. BF16 keeps float's exponent and 8 of its 24 significand bits, so the product of
// two BF16 numbers is exact in float: the only rounding beyond float's is of the inputs (relative
// 2^-9). The kernels are oneDNN's for CPUs with AVX512_BF16 or AMX, found at run time.
#include <bit>
#include <cstdint>
#include <string>

#include "nn/tensor.h"

namespace nn::cpu {

// Empty where this process can run BF16 products; otherwise why it cannot (a build without
// oneDNN, or a CPU without AVX512_BF16 and AMX).
std::string bf16_unavailable();

// Opens and closes a BF16 scope on the calling thread (nn::Bf16Products, nn/devices.h, is the
// guard): while one is open the thread's float forward products are BF16 ones and backward
// products throw (BF16 is for inference). enter throws what bf16_unavailable() says where BF16
// cannot run. Within the scope a weight is rounded and packed at its first product and reused
// while its values stay the same (each use compares them with those it was packed from, so a
// weight that changes is packed again); the packed copies go when the outermost scope closes,
// unless keep_weights: a thread that works for another's scope (Net::forward_on_threads) keeps
// them for its next batch (a thread holds at most kCachedShapes of them).
void enter_bf16_products();
void leave_bf16_products(bool keep_weights = false);
bool bf16_products_active();

// x (B, in) rounded to BF16, rows contiguous, in the calling thread's scratch: valid until its next call.
const std::uint16_t* bf16_rows(ConstView<float> x);

// Round to nearest, ties to even, as AVX512_BF16's VCVTNEPS2BF16 rounds activations: a NaN stays a
// NaN (quieted), an infinity an infinity, a finite number beyond BF16's range becomes an infinity,
// and a subnormal becomes a zero of its sign (the instruction treats subnormal inputs as zero).
inline std::uint16_t to_bf16(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((bits >> 16) | 0x0040u);
  if ((bits & 0x7f800000u) == 0) return std::uint16_t((bits >> 16) & 0x8000u);
  return std::uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

inline float from_bf16(std::uint16_t value) { return std::bit_cast<float>(std::uint32_t(value) << 16); }

}  // namespace nn::cpu
