// Linear layer ops on the CPU, with and without the ReLU after it: the products of products.h,
// whose providers put the bias (and a residual) into the product's own pass where they can.
#include "backend.h"
#include "products.h"

namespace nn::cpu {
namespace {

template <class T>
void linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  // x is (B, in), w is (out, in), b is (1, out), y is (B, out).
  linear_product<T>(x, w, b, LinearEpilogue::none, {}, y);
}

template <class T>
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db) {
  // dy is (B, out). dw (out, in) += dy^T x; db (1, out) += sum over rows of dy; dx (B, in) = dy W.
  weight_gradient_product<T>(dy, x, dw);
  for (Index i = 0; i < dy.rows; ++i) {
    const T* dyi = dy.row(i);
    for (Index j = 0; j < dy.cols; ++j) db.data[j] += dyi[j];
  }
  if (!dx.empty()) input_gradient_product<T>(dy, w, dx_write, dx);
}

template <class T>
void linear_relu_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  linear_product<T>(x, w, b, LinearEpilogue::relu, {}, y);
}

}  // namespace

template <class T>
void fill_linear_ops(OpTable<T>& table) {
  table.linear_forward = linear_forward<T>;
  table.linear_backward = linear_backward<T>;
  table.linear_relu_forward = linear_relu_forward<T>;
}
template void fill_linear_ops(OpTable<float>&);
template void fill_linear_ops(OpTable<double>&);

}  // namespace nn::cpu
