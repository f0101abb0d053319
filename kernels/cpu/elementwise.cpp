// Elementwise ops on the CPU: ReLU, dropout, products and sums.
#include <algorithm>

#include "backend.h"
#include "dropout_hash.h"
#include "nn/shards.h"
#include "parallel.h"
#include "vector_clones.h"

namespace nn::cpu {
namespace {

// Calls body(i) for every row, in parallel for big batches.
template <class Body>
void for_rows(Index rows, Index elements, Body&& body) {
#pragma omp parallel for schedule(static) if (worth_threads(elements))
  for (Index i = 0; i < rows; ++i) body(i);
}

template <class T>
void relu_forward(ConstView<T> x, View<T> y) {
  for_rows(x.rows, x.size(), [&](Index i) STARNN_VECTOR_CLONES {
    const T* xi = x.row(i);
    T* yi = y.row(i);
    for (Index j = 0; j < x.cols; ++j) yi[j] = std::max(xi[j], T(0));
  });
}

template <class T>
void relu_backward(ConstView<T> y, ConstView<T> dy, View<T> dx) {
  for_rows(y.rows, y.size(), [&](Index i) STARNN_VECTOR_CLONES {
    const T* yi = y.row(i);
    const T* dyi = dy.row(i);
    T* dxi = dx.row(i);
    // dy is loaded whatever the sign of y (a load under the condition would not vectorise
    // without masked loads), and `omp simd` because dx may be dy, which the compiler's overlap
    // check would send down the scalar path.
#pragma omp simd
    for (Index j = 0; j < y.cols; ++j) {
      const T d = dyi[j];
      dxi[j] = yi[j] > T(0) ? d : T(0);
    }
  });
}

template <class T>
void dropout_forward(ConstView<T> x, double p, std::uint64_t seed, View<T> mask, View<T> y) {
  const T keep_scale = T(1.0 / (1.0 - p));
  const Index first_row = current_batch_split().first_row;  // a shard's rows hash as the batch's
  for_rows(x.rows, x.size(), [&](Index i) STARNN_VECTOR_CLONES {
    const T* xi = x.row(i);
    T* mi = mask.row(i);
    T* yi = y.row(i);
    for (Index j = 0; j < x.cols; ++j) {
      mi[j] = dropout_keeps(seed, std::uint64_t((first_row + i) * x.cols + j), p) ? keep_scale : T(0);
      yi[j] = xi[j] * mi[j];
    }
  });
}

template <class T>
void multiply(ConstView<T> a, ConstView<T> b, View<T> out) {
  for_rows(a.rows, a.size(), [&](Index i) STARNN_VECTOR_CLONES {
    const T* ai = a.row(i);
    const T* bi = b.row(i);
    T* oi = out.row(i);
    for (Index j = 0; j < a.cols; ++j) oi[j] = ai[j] * bi[j];
  });
}

template <class T>
void copy(ConstView<T> src, View<T> dst) {
  for_rows(src.rows, src.size(), [&](Index i) { std::copy(src.row(i), src.row(i) + src.cols, dst.row(i)); });
}

template <class T>
void fill(View<T> dst, T value) {
  for_rows(dst.rows, dst.size(), [&](Index i) { std::fill(dst.row(i), dst.row(i) + dst.cols, value); });
}

template <class T>
void add(ConstView<T> a, ConstView<T> b, View<T> out) {
  for_rows(a.rows, a.size(), [&](Index i) STARNN_VECTOR_CLONES {
    const T* ai = a.row(i);
    const T* bi = b.row(i);
    T* oi = out.row(i);
    for (Index j = 0; j < a.cols; ++j) oi[j] = ai[j] + bi[j];
  });
}

}  // namespace

template <class T>
void fill_elementwise_ops(OpTable<T>& table) {
  table.relu_forward = relu_forward<T>;
  table.relu_backward = relu_backward<T>;
  table.dropout_forward = dropout_forward<T>;
  table.multiply = multiply<T>;
  table.copy = copy<T>;
  table.fill = fill<T>;
  table.add = add<T>;
}
template void fill_elementwise_ops(OpTable<float>&);
template void fill_elementwise_ops(OpTable<double>&);

}  // namespace nn::cpu
