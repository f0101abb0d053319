// Feature attention on the CPU: a row softmax over the features, its application, its backward.
#include <algorithm>
#include <cmath>

#include "backend.h"
#include "parallel.h"
#include "vector_clones.h"
#include "vector_exp.h"

namespace nn::cpu {
namespace {

// exp for the softmax: in float the vectorisable one (vector_exp.h), in double the library's.
inline float softmax_exp(float x) { return vector_exp(x); }
inline double softmax_exp(double x) { return std::exp(x); }

// One row of attention_forward; residual is null where there is none. The rows are plain
// functions rather than lambdas over the views: inside a closure GCC left the loops scalar.
template <class T>
STARNN_VECTOR_CLONES void attention_forward_row(const T* zi, const T* hi, const T* ri, T* ai, T* yi, Index cols) {
  const T d = T(cols);
  const T top = *std::max_element(zi, zi + cols);
  // The exponentials in a loop of their own, which vectorises; the sum in a loop of its own,
  // in order (a vectorised sum would change its rounding with the vector width).
  for (Index j = 0; j < cols; ++j) ai[j] = softmax_exp(zi[j] - top);
  T sum = 0;
  for (Index j = 0; j < cols; ++j) sum += ai[j];
  const T inv = T(1) / sum;
  for (Index j = 0; j < cols; ++j) ai[j] *= inv;
  if (ri != nullptr) {
    for (Index j = 0; j < cols; ++j) yi[j] = ri[j] + d * ai[j] * hi[j];
  } else {
    for (Index j = 0; j < cols; ++j) yi[j] = d * ai[j] * hi[j];
  }
}

template <class T>
STARNN_VECTOR_CLONES void attention_backward_row(const T* hi, const T* ai, const T* dyi, T* dhi, T* dzi, Index cols) {
  const T d = T(cols);
  T a_dot_g = 0;
  for (Index j = 0; j < cols; ++j) a_dot_g += ai[j] * d * hi[j] * dyi[j];
  for (Index j = 0; j < cols; ++j) {
    dzi[j] = ai[j] * (d * hi[j] * dyi[j] - a_dot_g);
    dhi[j] = d * ai[j] * dyi[j];
  }
}

template <class T>
void attention_forward(ConstView<T> z, ConstView<T> h, ConstView<T> residual, View<T> a, View<T> y) {
  // z, h, residual, a, y are (B, d). One pass per row: the softmax of z, shifted by the row
  // maximum so exp never overflows, then y = residual + d a h, so uniform attention (a = 1/d)
  // passes h through unchanged. Each element of residual is read before y's is written.
  const bool add_residual = !residual.empty();
#pragma omp parallel for schedule(static) if (worth_threads(z.size()))
  for (Index i = 0; i < z.rows; ++i)
    attention_forward_row(z.row(i), h.row(i), add_residual ? residual.row(i) : nullptr, a.row(i), y.row(i), z.cols);
}

template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz) {
  // With g = d h dy (the gradient reaching a), the softmax Jacobian gives
  // dz = a (g - sum_j a_j g_j); the direct path of h gives dh = d a dy.
#pragma omp parallel for schedule(static) if (worth_threads(h.size()))
  for (Index i = 0; i < h.rows; ++i)
    attention_backward_row(h.row(i), a.row(i), dy.row(i), dh.row(i), dz.row(i), h.cols);
}

}  // namespace

template <class T>
void fill_attention_ops(OpTable<T>& table) {
  table.attention_forward = attention_forward<T>;
  table.attention_backward = attention_backward<T>;
}
template void fill_attention_ops(OpTable<float>&);
template void fill_attention_ops(OpTable<double>&);

}  // namespace nn::cpu
