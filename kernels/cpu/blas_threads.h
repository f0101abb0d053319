#pragma once
// How many threads OpenBLAS may use for one GEMM. Waking a sleeping thread costs tens of
// microseconds, more than the smallest products (a head's 256 x 64 x 1) take, so those run on the
// calling thread alone. Where the line lies depends on the machine and on OpenBLAS's kernels for
// it (below).
#include <cblas.h>
#include <omp.h>

#include "nn/tensor.h"

namespace nn::cpu {

// Below this many multiply-adds a GEMM runs on one thread. On the 2-core AMD EPYC (Zen, AVX2)
// that the project builds and tests on, OpenBLAS 0.3.21's single-threaded driver runs many of a
// training step's products far below the core's peak of 40 GFLOP/s: 256 x 256 x 256 at 10 GFLOP/s
// in all three forms (forward, dW, dx), every weight gradient dy^T x of widths 64 to 256 at 10 to
// 13, where its threaded driver reaches 32 to 60 on two cores. With 2^16 the small net (one
// ResDense(64), batch 256) trains at 1.7 times the speed it had with the 2^22 that an AVX-512
// machine had called for (there single-threaded OpenBLAS ran near peak and waking the second
// thread cost more than it gained); the other nets are unchanged within noise.
inline constexpr double kBlasSerialWork = double(1 << 16);

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
