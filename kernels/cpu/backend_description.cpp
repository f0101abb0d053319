// What `starnn --version` says of the CPU backend on this machine.
#include <omp.h>

#include "backend.h"
#include "bf16_products.h"
#include "nn/error.h"
#include "products.h"
#include "vector_clones.h"

namespace nn::cpu {

std::string backend_description() {
  // The same test as the ifunc resolvers of STARNN_VECTOR_CLONES (vector_clones.h): the
  // x86-64-v3 build of the loops where the CPU has AVX2 and FMA, the baseline one otherwise.
#if STARNN_HAS_VECTOR_CLONES
  __builtin_cpu_init();
  const bool v3 = __builtin_cpu_supports("x86-64-v3");
  const char* loops = v3 ? "x86-64-v3 (AVX2, FMA)" : "baseline x86-64 (SSE2)";
#else
  const char* loops = "the compiler's baseline (this build has no run-time clones)";
#endif
  const std::string bf16_why = bf16_unavailable();
  return str(gemm_description(), "; bf16: ", bf16_why.empty() ? "yes" : "no (" + bf16_why + ")", "; ",
             omp_get_max_threads(), " OpenMP threads; the library's own loops built for ", loops);
}

}  // namespace nn::cpu
