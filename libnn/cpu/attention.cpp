// Feature attention on the CPU: a row softmax over the features, its application, its backward.
#include <algorithm>
#include <cmath>

#include "nn/ops.h"
#include "parallel.h"

namespace nn::cpu {

template <class T>
void attention_forward(ConstView<T> z, ConstView<T> h, ConstView<T> residual, View<T> a, View<T> y) {
  // z, h, residual, a, y are (B, d). One pass per row: the softmax of z, shifted by the row
  // maximum so exp never overflows, then y = residual + d a h, so uniform attention (a = 1/d)
  // passes h through unchanged. Each element of residual is read before y's is written.
  const T d = T(z.cols);
  const bool add_residual = !residual.empty();
#pragma omp parallel for schedule(static) if (worth_threads(z.size()))
  for (Index i = 0; i < z.rows; ++i) {
    const T* zi = z.row(i);
    const T* hi = h.row(i);
    T* ai = a.row(i);
    T* yi = y.row(i);
    const T top = *std::max_element(zi, zi + z.cols);
    T sum = 0;
    for (Index j = 0; j < z.cols; ++j) {
      ai[j] = std::exp(zi[j] - top);
      sum += ai[j];
    }
    const T inv = T(1) / sum;
    for (Index j = 0; j < z.cols; ++j) ai[j] *= inv;
    if (add_residual) {
      const T* ri = residual.row(i);
      for (Index j = 0; j < z.cols; ++j) yi[j] = ri[j] + d * ai[j] * hi[j];
    } else {
      for (Index j = 0; j < z.cols; ++j) yi[j] = d * ai[j] * hi[j];
    }
  }
}

template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz) {
  // With g = d h dy (the gradient reaching a), the softmax Jacobian gives
  // dz = a (g - sum_j a_j g_j); the direct path of h gives dh = d a dy.
  const T d = T(h.cols);
#pragma omp parallel for schedule(static) if (worth_threads(h.size()))
  for (Index i = 0; i < h.rows; ++i) {
    const T* hi = h.row(i);
    const T* ai = a.row(i);
    const T* dyi = dy.row(i);
    T* dhi = dh.row(i);
    T* dzi = dz.row(i);
    T a_dot_g = 0;
    for (Index j = 0; j < h.cols; ++j) a_dot_g += ai[j] * d * hi[j] * dyi[j];
    for (Index j = 0; j < h.cols; ++j) {
      dzi[j] = ai[j] * (d * hi[j] * dyi[j] - a_dot_g);
      dhi[j] = d * ai[j] * dyi[j];
    }
  }
}

#define NN_INSTANTIATE(T)                                                                    \
  template void attention_forward<T>(ConstView<T>, ConstView<T>, ConstView<T>, View<T>, View<T>); \
  template void attention_backward<T>(ConstView<T>, ConstView<T>, ConstView<T>, View<T>, View<T>);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

}  // namespace nn::cpu
