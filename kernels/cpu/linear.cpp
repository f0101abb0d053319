// Linear layer ops on the CPU, with and without the ReLU after it: GEMMs through CBLAS (OpenBLAS).
#include "backend.h"
#include "gemm.h"

namespace nn::cpu {
namespace {

template <class T>
void linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  // x is (B, in), w is (out, in), b is (1, out), y is (B, out).
  // Broadcast the bias into y first, then y += x W^T in one GEMM.
  for (Index i = 0; i < y.rows; ++i) {
    T* yi = y.row(i);
    for (Index j = 0; j < y.cols; ++j) yi[j] = b.data[j];
  }
  add_x_wt(x, w, y);
}

template <class T>
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db) {
  // dy is (B, out). dw (out, in) += dy^T x; db (1, out) += sum over rows of dy.
  gemm(CblasTrans, CblasNoTrans, w.rows, w.cols, x.rows, T(1), dy.data, dy.stride, x.data, x.stride, T(1), dw.data,
       dw.stride);
  for (Index i = 0; i < dy.rows; ++i) {
    const T* dyi = dy.row(i);
    for (Index j = 0; j < dy.cols; ++j) db.data[j] += dyi[j];
  }
  // dx (B, in) = dy W, always as dx += dy W: to overwrite, dx is cleared first. OpenBLAS 0.3.21
  // clears C itself for beta = 0, in a pass slower than fill's (10 to 25 us of a 60 to 600 us
  // product at the training sizes, on two threads); either way dx = 0 + dy W exactly.
  if (!dx.empty()) {
    if (dx_write == GradWrite::overwrite) op_table<T>().fill(dx, T(0));
    gemm(CblasNoTrans, CblasNoTrans, dy.rows, w.cols, w.rows, T(1), dy.data, dy.stride, w.data, w.stride, T(1), dx.data,
         dx.stride);
  }
}

template <class T>
void linear_relu_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  // A second pass over y for the clamp: CBLAS has no epilogue to put it in, and relu_forward's
  // clamp is the one every ReLU of the CPU backend applies.
  linear_forward<T>(x, w, b, y);
  op_table<T>().relu_forward(y, y);
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
