// BF16 inference's scope, the CPUs it runs on and the rounding of activations (bf16_products.h).
#include "bf16_products.h"

#include <cpuid.h>
#include <immintrin.h>

#include <vector>

#include "nn/error.h"
#include "parallel.h"
#if STARNN_WITH_ONEDNN
#include "onednn_matmul.h"
#endif

namespace nn::cpu {
namespace {

thread_local int scope_depth = 0;

// One row, 16 floats an instruction (VCVTNEPS2BF16, which rounds as to_bf16 does). Only called
// inside a scope, which only opens on a CPU with AVX512_BF16; a function of its own because the
// instructions need the target attribute, which a parallel region's outlined body would not have.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void round_row(const float* x, std::uint16_t* out,
                                                                               Index n) {
  Index j = 0;
  for (; j + 16 <= n; j += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + j)));
  if (j < n) {
    const __mmask16 tail = __mmask16((1u << (n - j)) - 1u);
    const __m256bh rounded = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(tail, x + j));
    _mm256_mask_storeu_epi16(out + j, tail, (__m256i)rounded);
  }
}

// AVX512_BF16 (CPUID leaf 7, subleaf 1, EAX bit 5), where the system keeps the AVX-512 state
// (which __builtin_cpu_supports("avx512f") checks). Every CPU with AMX has it too.
[[maybe_unused]] bool cpu_has_avx512_bf16() {
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __builtin_cpu_supports("avx512f") && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5));
}

}  // namespace

std::string bf16_unavailable() {
#if STARNN_WITH_ONEDNN
  if (cpu_has_avx512_bf16()) return {};
  return "BF16 products need a CPU with AVX512_BF16 (as every CPU with AMX has), and this one has none";
#else
  return "BF16 products run on oneDNN, and this build of starnn has none (configured with STARNN_ONEDNN=OFF or "
         "without libdnnl-dev)";
#endif
}

void enter_bf16_products() {
  if (const std::string why = bf16_unavailable(); !why.empty()) throw Error(why);
  ++scope_depth;
}

void leave_bf16_products(bool keep_weights) {
  if (--scope_depth > 0 || keep_weights) return;
#if STARNN_WITH_ONEDNN
  onednn::release_bf16_weights();
#endif
}

bool bf16_products_active() { return scope_depth > 0; }

const std::uint16_t* bf16_rows(ConstView<float> x) {
  thread_local std::vector<std::uint16_t> rounded;
  rounded.resize(std::size_t(x.rows * x.cols));
  std::uint16_t* out = rounded.data();
#pragma omp parallel for schedule(static) if (worth_threads(x.size()))
  for (Index i = 0; i < x.rows; ++i) round_row(x.row(i), out + i * x.cols, x.cols);
  return out;
}

}  // namespace nn::cpu
