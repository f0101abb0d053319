#pragma once
// The column loops of BatchNorm1d on the CPU, shared by the plain ops (batchnorm.cpp) and the
// ops that fuse a ReLU after them (fused_block.cpp): the ReLU is a template argument, so the
// fused op is the plain one with its last pass clamped, not a second copy of the statistics.
//
// Statistics are per column of a row-major batch, so threads take blocks of columns and walk
// all rows: contiguous inner loops the compiler vectorises, and a fixed summation order
// (reproducible runs).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "activation.h"
#include "nn/ops.h"
#include "nn/shards.h"
#include "parallel.h"
#include "vector_clones.h"

namespace nn::cpu {

template <Activation act, class T>
inline T activate(T v) {
  if constexpr (act == Activation::relu)
    return std::max(v, T(0));  // as relu_forward: a NaN passes through
  else
    return v;
}

// gamma xhat + beta, the pre-activation: one expression for the forward and for the backward's
// ReLU mask, so that both round it alike and agree on its sign (the CUDA kernels round it the
// same way: kernels/cuda/batchnorm.cuh).
template <class T>
inline T normalised(T x, T mean, T invstd, T gamma, T beta) {
  return gamma * (x - mean) * invstd + beta;
}

inline constexpr Index kColumnBlock = 64;

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

// The sums of a block of columns over the rows, row after row, each column's in row order as a
// scalar loop would add them: held in a local array rather than written through the output
// pointer, which the compiler could not prove apart from the inputs and left scalar.
template <class T>
struct BlockSums {
  Index first, width;
  T values[kColumnBlock] = {};
  BlockSums(Index first_col, Index last_col) : first(first_col), width(last_col - first_col) {}
  void store(View<T> to) const {
    for (Index j = 0; j < width; ++j) to.data[first + j] = values[j];
  }
};

// Runs passes (callables (first_col, last_col)) over the columns of a batch. A whole batch takes
// each block of columns through all passes in turn, in one parallel region, while the block is in
// cache. A batch split among shards (nn/shards.h) needs the whole batch's column sums between the
// passes: each pass covers every column, and after each but the last, between(k) sums across the
// shards what pass k wrote. The arithmetic is the same either way.
template <class Between, class... Passes>
void column_passes(Index rows, Index cols, bool split, Between&& between, Passes&&... passes) {
  if (!split) {
    for_column_blocks(rows, cols, [&](Index first, Index last) { (passes(first, last), ...); });
    return;
  }
  int k = 0;
  ((for_column_blocks(rows, cols, passes), k + 1 < int(sizeof...(passes)) ? between(k) : void(), ++k), ...);
}

// y = act(gamma xhat + beta) with the batch statistics: the mean, then the squares about it (two
// passes, so the variance does not cancel), the running estimates, then the normalising pass.
// invstd holds the sums of squares until the last pass.
template <Activation act, class T>
void batchnorm_train_columns(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var) {
  // x, y are (B, d); gamma, beta, mean, invstd, running_* are (1, d).
  const BatchSplit& split = current_batch_split();
  const Index rows = x.rows, batch_rows = split.shards ? split.batch_rows : rows;
  const T eps = T(options.eps), momentum = T(options.momentum);
  const auto sums = [&](Index first, Index last) STARNN_VECTOR_CLONES {
    BlockSums<T> sum(first, last);
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i) + first;
#pragma omp simd
      for (Index j = 0; j < sum.width; ++j) sum.values[j] += xi[j];
    }
    sum.store(mean);
  };
  const auto squares = [&](Index first, Index last) STARNN_VECTOR_CLONES {
    T block_mean[kColumnBlock];
    for (Index j = first; j < last; ++j) block_mean[j - first] = mean.data[j] /= T(batch_rows);
    BlockSums<T> sum(first, last);
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i) + first;
#pragma omp simd
      for (Index j = 0; j < sum.width; ++j) {
        const T c = xi[j] - block_mean[j];
        sum.values[j] += c * c;
      }
    }
    sum.store(invstd);
  };
  const auto normalise = [&](Index first, Index last) STARNN_VECTOR_CLONES {
    for (Index j = first; j < last; ++j) {
      const T sq = invstd.data[j];
      invstd.data[j] = T(1) / std::sqrt(sq / T(batch_rows) + eps);
      running_mean.data[j] = (T(1) - momentum) * running_mean.data[j] + momentum * mean.data[j];
      running_var.data[j] = (T(1) - momentum) * running_var.data[j] + momentum * sq / T(batch_rows - 1);
    }
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i);
      T* yi = y.row(i);
      for (Index j = first; j < last; ++j)
        yi[j] = activate<act>(normalised(xi[j], mean.data[j], invstd.data[j], gamma.data[j], beta.data[j]));
    }
  };
  const auto between = [&](int pass) { split.shards->sum((pass == 0 ? mean : invstd).data, x.cols); };
  column_passes(rows, x.cols, split.shards != nullptr, between, sums, squares, normalise);
}

// Evaluation mode is affine per column: BN_eval(v) = v scale + shift, from the running statistics.
template <class T>
struct EvalAffine {
  T scale, shift;
};
template <class T>
EvalAffine<T> eval_affine(ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean, ConstView<T> running_var,
                          const BatchNormOptions& options, Index j) {
  const T scale = gamma.data[j] / std::sqrt(running_var.data[j] + T(options.eps));
  return {scale, beta.data[j] - running_mean.data[j] * scale};
}

// y = act(x scale + shift).
template <Activation act, class T>
void batchnorm_eval_columns(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  for_column_blocks(x.rows, x.cols, [&](Index first, Index last) STARNN_VECTOR_CLONES {
    T scale[kColumnBlock], shift[kColumnBlock];
    for (Index j = first; j < last; ++j) {
      const EvalAffine<T> bn = eval_affine(gamma, beta, running_mean, running_var, options, j);
      scale[j - first] = bn.scale;
      shift[j - first] = bn.shift;
    }
    for (Index i = 0; i < x.rows; ++i) {
      const T* xi = x.row(i);
      T* yi = y.row(i);
      for (Index j = first; j < last; ++j) yi[j] = activate<act>(xi[j] * scale[j - first] + shift[j - first]);
    }
  });
}

// The gradient that reaches BN's output in row i: dy, or for the ReLU dy where the pre-activation
// is positive, recomputed from x rather than read from the forward's output or a mask (the
// backward reads x anyway). dy is loaded whatever the sign: a load under the condition would not
// vectorise.
template <Activation act, class T>
inline T incoming_gradient(const T* dyi, const T* xi, Index j, ConstView<T> mean, ConstView<T> invstd,
                           ConstView<T> gamma, ConstView<T> beta) {
  const T d = dyi[j];
  if constexpr (act == Activation::relu)
    return normalised(xi[j], mean.data[j], invstd.data[j], gamma.data[j], beta.data[j]) > T(0) ? d : T(0);
  else
    return d;
}

// The backward of y = act(BN(x)) in two passes over the batch. With g the incoming gradient: sums
// of g and g xhat per column, the parameter gradients accumulated from them, then
// dx = residual + gamma invstd (g - mean g - xhat mean(g xhat)), residual left out when empty.
// xhat is recomputed from x rather than saved: one (B, d) buffer less. dx may be dy or residual:
// each element is read before it is written (so `omp simd` may ignore the overlap, which would
// otherwise send the loop down the compiler's scalar path), and all of dy before the second pass.
// A shard accumulates its own rows' sums into dgamma and dbeta (the trainer sums the gradients
// over the shards) and the whole batch's into dx.
template <Activation act, class T>
void batchnorm_backward_columns(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma,
                                ConstView<T> beta, ConstView<T> dy, ConstView<T> residual, View<T> dx, View<T> dgamma,
                                View<T> dbeta) {
  // x, dy, residual, dx are (B, d); mean, invstd, gamma, beta, dgamma, dbeta are (1, d). beta is
  // only read for the ReLU.
  const BatchSplit& split = current_batch_split();
  const Index rows = x.rows, cols = x.cols;
  // The column sums of g, then of g xhat: the calling thread's, grown once.
  thread_local std::vector<T> column_sums;
  if (column_sums.size() < std::size_t(2 * cols)) column_sums.resize(std::size_t(2 * cols));
  T* const sum_dy = column_sums.data();
  T* const sum_dy_xhat = sum_dy + cols;
  const auto sums = [&](Index first, Index last) STARNN_VECTOR_CLONES {
    BlockSums<T> g_sum(first, last), g_xhat_sum(first, last);
    for (Index i = 0; i < rows; ++i) {
      const T* xi = x.row(i);
      const T* dyi = dy.row(i);
#pragma omp simd
      for (Index j = first; j < last; ++j) {
        const T g = incoming_gradient<act>(dyi, xi, j, mean, invstd, gamma, beta);
        g_sum.values[j - first] += g;
        g_xhat_sum.values[j - first] += g * (xi[j] - mean.data[j]) * invstd.data[j];
      }
    }
    for (Index j = first; j < last; ++j) {
      sum_dy[j] = g_sum.values[j - first];
      sum_dy_xhat[j] = g_xhat_sum.values[j - first];
      dgamma.data[j] += sum_dy_xhat[j];
      dbeta.data[j] += sum_dy[j];
    }
  };
  const T inv_rows = T(1) / T(split.shards ? split.batch_rows : rows);
  const auto input_gradient = [&](Index first, Index last) STARNN_VECTOR_CLONES {
    // One loop per case, so that neither tests for the residual inside.
    const auto rows_of = [&](auto with_residual) {
      for (Index i = 0; i < rows; ++i) {
        const T* xi = x.row(i);
        const T* dyi = dy.row(i);
        T* dxi = dx.row(i);
#pragma omp simd
        for (Index j = first; j < last; ++j) {
          const T xhat = (xi[j] - mean.data[j]) * invstd.data[j];
          const T d = gamma.data[j] * invstd.data[j] *
                      (incoming_gradient<act>(dyi, xi, j, mean, invstd, gamma, beta) - inv_rows * sum_dy[j] -
                       xhat * inv_rows * sum_dy_xhat[j]);
          if constexpr (decltype(with_residual)::value)
            dxi[j] = residual(i, j) + d;
          else
            dxi[j] = d;
        }
      }
    };
    if (residual.empty())
      rows_of(std::false_type{});
    else
      rows_of(std::true_type{});
  };
  const auto between = [&](int) { split.shards->sum(sum_dy, 2 * cols); };
  column_passes(rows, cols, split.shards != nullptr, between, sums, input_gradient);
}

}  // namespace nn::cpu
