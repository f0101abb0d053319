// The elementwise ops on the GPU: ReLU, dropout, products, sums, copies and fills.
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"
#include "elementwise.h"
#include "nn/shards.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T>
void relu_forward(const T* x, Index x_stride, T* y, Index y_stride, Index rows, Index cols, cudaStream_t stream,
                  const LaunchShape& shape) {
  for_each_element(rows, cols, ReluForward<T>{x, x_stride, y, y_stride}, stream, shape);
}

template <class T>
void relu_backward(const T* y, Index y_stride, const T* dy, Index dy_stride, T* dx, Index dx_stride, Index rows,
                   Index cols, cudaStream_t stream, const LaunchShape& shape) {
  for_each_element(rows, cols, ReluBackward<T>{y, y_stride, dy, dy_stride, dx, dx_stride}, stream, shape);
}

template <class T>
void dropout_forward(const T* x, Index x_stride, double p, std::uint64_t seed, T* mask, Index mask_stride, T* y,
                     Index y_stride, Index rows, Index cols, Index first_row, cudaStream_t stream,
                     const LaunchShape& shape) {
  const T keep_scale = T(1.0 / (1.0 - p));  // as the CPU rounds it
  for_each_element(rows, cols,
                   DropoutForward<T>{x, x_stride, mask, mask_stride, y, y_stride, cols, first_row, p, seed, keep_scale},
                   stream, shape);
}

template <class T>
void multiply(const T* a, Index a_stride, const T* b, Index b_stride, T* out, Index out_stride, Index rows, Index cols,
              cudaStream_t stream, const LaunchShape& shape) {
  for_each_element(rows, cols, Multiply<T>{a, a_stride, b, b_stride, out, out_stride}, stream, shape);
}

template <class T>
void add(const T* a, Index a_stride, const T* b, Index b_stride, T* out, Index out_stride, Index rows, Index cols,
         cudaStream_t stream, const LaunchShape& shape) {
  for_each_element(rows, cols, Add<T>{a, a_stride, b, b_stride, out, out_stride}, stream, shape);
}

template <class T>
void copy(const T* src, Index src_stride, T* dst, Index dst_stride, Index rows, Index cols, cudaStream_t stream,
          const LaunchShape& shape) {
  for_each_element(rows, cols, Copy<T>{src, src_stride, dst, dst_stride}, stream, shape);
}

template <class T>
void fill(T* dst, Index dst_stride, T value, Index rows, Index cols, cudaStream_t stream, const LaunchShape& shape) {
  for_each_element(rows, cols, Fill<T>{dst, dst_stride, value}, stream, shape);
}

}  // namespace launch

template <class T>
void relu_forward(ConstView<T> x, View<T> y) {
  detail::expect_on_device("relu_forward", x, y);
  launch::relu_forward(x.data, x.stride, y.data, y.stride, x.rows, x.cols, detail::stream());
}

template <class T>
void relu_backward(ConstView<T> y, ConstView<T> dy, View<T> dx) {
  detail::expect_on_device("relu_backward", y, dy, dx);
  launch::relu_backward(y.data, y.stride, dy.data, dy.stride, dx.data, dx.stride, y.rows, y.cols, detail::stream());
}

template <class T>
void dropout_forward(ConstView<T> x, double p, std::uint64_t seed, View<T> mask, View<T> y) {
  detail::expect_on_device("dropout_forward", x, mask, y);
  // A shard of a split batch (nn/shards.h) hashes its rows as the whole batch's.
  launch::dropout_forward(x.data, x.stride, p, seed, mask.data, mask.stride, y.data, y.stride, x.rows, x.cols,
                          current_batch_split().first_row, detail::stream());
}

template <class T>
void multiply(ConstView<T> a, ConstView<T> b, View<T> out) {
  detail::expect_on_device("multiply", a, b, out);
  launch::multiply(a.data, a.stride, b.data, b.stride, out.data, out.stride, a.rows, a.cols, detail::stream());
}

template <class T>
void add(ConstView<T> a, ConstView<T> b, View<T> out) {
  detail::expect_on_device("add", a, b, out);
  launch::add(a.data, a.stride, b.data, b.stride, out.data, out.stride, a.rows, a.cols, detail::stream());
}

template <class T>
void copy(ConstView<T> src, View<T> dst) {
  detail::expect_on_device("copy", src, dst);
  launch::copy(src.data, src.stride, dst.data, dst.stride, src.rows, src.cols, detail::stream());
}

template <class T>
void fill(View<T> dst, T value) {
  detail::expect_on_device("fill", dst);
  launch::fill(dst.data, dst.stride, value, dst.rows, dst.cols, detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                              \
  template void launch::relu_forward<T>(const T*, Index, T*, Index, Index, Index, cudaStream_t, const LaunchShape&);   \
  template void launch::relu_backward<T>(const T*, Index, const T*, Index, T*, Index, Index, Index, cudaStream_t,      \
                                         const LaunchShape&);                                                          \
  template void launch::dropout_forward<T>(const T*, Index, double, std::uint64_t, T*, Index, T*, Index, Index, Index, \
                                           Index, cudaStream_t, const LaunchShape&);                                   \
  template void launch::multiply<T>(const T*, Index, const T*, Index, T*, Index, Index, Index, cudaStream_t,           \
                                    const LaunchShape&);                                                               \
  template void launch::add<T>(const T*, Index, const T*, Index, T*, Index, Index, Index, cudaStream_t,                \
                               const LaunchShape&);                                                                    \
  template void launch::copy<T>(const T*, Index, T*, Index, Index, Index, cudaStream_t, const LaunchShape&);           \
  template void launch::fill<T>(T*, Index, T, Index, Index, cudaStream_t, const LaunchShape&);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

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

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
