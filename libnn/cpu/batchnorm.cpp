// BatchNorm1d ops on the CPU. Statistics are per column of a row-major batch, so threads
// take blocks of columns and walk all rows: contiguous inner loops the compiler vectorises,
// and a fixed summation order (reproducible runs).
#include <algorithm>
#include <cmath>

#include "nn/ops.h"
#include "parallel.h"

namespace nn::cpu {
namespace {

constexpr Index kColumnBlock = 64;

// Calls body(first_col, last_col) for blocks of columns, in parallel for big batches.
template <class Body>
void for_column_blocks(Index rows, Index cols, Body&& body) {
  const Index blocks = (cols + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static) if (worth_threads(rows * cols) && blocks > 1)
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index first = blk * kColumnBlock;
    body(first, std::min(cols, first + kColumnBlock));
  }
}

// Column means of x over the rows, into mean[first, last).
template <class T>
void column_means(ConstView<T> x, Index first, Index last, T* mean) {
  for (Index j = first; j < last; ++j) mean[j] = T(0);
  for (Index i = 0; i < x.rows; ++i) {
    const T* xi = x.row(i);
    for (Index j = first; j < last; ++j) mean[j] += xi[j];
  }
  for (Index j = first; j < last; ++j) mean[j] /= T(x.rows);
}

}  // namespace

template <class T>
void batchnorm_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var) {
  // x, y are (B, d); gamma, beta, mean, invstd, running_* are (1, d).
  const Index rows = x.rows;
  const T eps = T(options.eps), momentum = T(options.momentum);
  for_column_blocks(rows, x.cols, [&](Index first, Index last) {
    column_means(x, first, last, mean.data);
    T sq[kColumnBlock] = {};
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i);
      for (Index j = first; j < last; ++j) {
        const T c = xi[j] - mean.data[j];
        sq[j - first] += c * c;
      }
    }
    for (Index j = first; j < last; ++j) {
      const T biased_var = sq[j - first] / T(rows);
      invstd.data[j] = T(1) / std::sqrt(biased_var + eps);
      running_mean.data[j] = (T(1) - momentum) * running_mean.data[j] + momentum * mean.data[j];
      running_var.data[j] = (T(1) - momentum) * running_var.data[j] + momentum * sq[j - first] / T(rows - 1);
    }
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i);
      T* yi = y.row(i);
      for (Index j = first; j < last; ++j)
        yi[j] = gamma.data[j] * (xi[j] - mean.data[j]) * invstd.data[j] + beta.data[j];
    }
  });
}

template <class T>
void batchnorm_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  // Folded into one scale and shift per column: y = x * scale + shift.
  for_column_blocks(x.rows, x.cols, [&](Index first, Index last) {
    T scale[kColumnBlock], shift[kColumnBlock];
    for (Index j = first; j < last; ++j) {
      scale[j - first] = gamma.data[j] / std::sqrt(running_var.data[j] + T(options.eps));
      shift[j - first] = beta.data[j] - running_mean.data[j] * scale[j - first];
    }
    for (Index i = 0; i < x.rows; ++i) {
      const T* xi = x.row(i);
      T* yi = y.row(i);
      for (Index j = first; j < last; ++j) yi[j] = xi[j] * scale[j - first] + shift[j - first];
    }
  });
}

template <class T>
void batchnorm_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma, ConstView<T> dy,
                        View<T> dx, View<T> dgamma, View<T> dbeta) {
  // xhat = (x - mean) invstd is recomputed rather than saved: one (B, d) buffer less.
  const Index rows = x.rows;
  for_column_blocks(rows, x.cols, [&](Index first, Index last) {
    T sum_dy[kColumnBlock] = {}, sum_dy_xhat[kColumnBlock] = {};
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i);
      const T* dyi = dy.row(i);
      for (Index j = first; j < last; ++j) {
        sum_dy[j - first] += dyi[j];
        sum_dy_xhat[j - first] += dyi[j] * (xi[j] - mean.data[j]) * invstd.data[j];
      }
    }
    for (Index j = first; j < last; ++j) {
      dgamma.data[j] += sum_dy_xhat[j - first];
      dbeta.data[j] += sum_dy[j - first];
    }
    const T inv_rows = T(1) / T(rows);
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i);
      const T* dyi = dy.row(i);
      T* dxi = dx.row(i);
      for (Index j = first; j < last; ++j) {
        const T xhat = (xi[j] - mean.data[j]) * invstd.data[j];
        dxi[j] = gamma.data[j] * invstd.data[j] *
                 (dyi[j] - inv_rows * sum_dy[j - first] - xhat * inv_rows * sum_dy_xhat[j - first]);
      }
    }
  });
}

#define NN_INSTANTIATE(T)                                                                                       \
  template void batchnorm_forward_train<T>(ConstView<T>, ConstView<T>, ConstView<T>, const BatchNormOptions&,   \
                                           View<T>, View<T>, View<T>, View<T>, View<T>);                        \
  template void batchnorm_forward_eval<T>(ConstView<T>, ConstView<T>, ConstView<T>, ConstView<T>, ConstView<T>, \
                                          const BatchNormOptions&, View<T>);                                    \
  template void batchnorm_backward<T>(ConstView<T>, ConstView<T>, ConstView<T>, ConstView<T>, ConstView<T>,     \
                                      View<T>, View<T>, View<T>);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

}  // namespace nn::cpu
