// The context lines printed above the results: how many threads the numbers were taken with.
// The library's loops use OpenMP's default team; its GEMMs run on OpenBLAS's own threads.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <string>

namespace {

[[maybe_unused]] const bool context_added = [] {
  benchmark::AddCustomContext("omp_get_max_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  return true;
}();

}  // namespace
