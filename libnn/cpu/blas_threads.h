#pragma once
// How many threads OpenBLAS may use for one GEMM. OpenBLAS splits every product above
// m n k = 2^18 over all its threads, and waking a sleeping thread costs tens of microseconds:
// at the small nets' sizes (batch 256, widths 32 to 128) that is more than the product itself,
// and a training step on two threads ran at half the speed of one. Smaller products therefore
// run on the calling thread alone.
#include <cblas.h>
#include <omp.h>

#include "nn/tensor.h"

namespace nn::cpu {

// Below this many multiply-adds (about 50 microseconds of one core) a GEMM runs on one thread.
// Measured on two cores: 2^22 keeps the regression net's 256 x 256 x 256 products on both
// threads (2^25 made its step 25% slower) and takes the small net's step from 0.65 M to
// 1.09 M rows/s, the speed of a single-threaded run.
inline constexpr double kBlasSerialWork = double(1 << 22);

// Holds OpenBLAS to one thread while it lives, for a product of m n k multiply-adds below the
// threshold; larger products keep OpenBLAS's threads. In the OpenMP build of OpenBLAS (Debian's
// libopenblas0-openmp, which starnn links) openblas_set_num_threads also sets OpenMP's thread
// count, so both counts are put back. Like the rest of the backend, one thread drives it.
class BlasThreadsFor {
 public:
  BlasThreadsFor(Index m, Index n, Index k)
      : serial_(double(m) * double(n) * double(k) < kBlasSerialWork && omp_get_max_threads() > 1),
        blas_threads_(serial_ ? openblas_get_num_threads() : 0),
        omp_threads_(serial_ ? omp_get_max_threads() : 0) {
    if (serial_) openblas_set_num_threads(1);
  }
  ~BlasThreadsFor() {
    if (!serial_) return;
    openblas_set_num_threads(blas_threads_);
    omp_set_num_threads(omp_threads_);
  }
  BlasThreadsFor(const BlasThreadsFor&) = delete;
  BlasThreadsFor& operator=(const BlasThreadsFor&) = delete;

 private:
  bool serial_;
  int blas_threads_, omp_threads_;
};

}  // namespace nn::cpu
