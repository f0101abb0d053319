// Feature attention on the GPU: the row softmax, its application and the backward pass.
#include "attention.cuh"
#include "attention.h"
#include "context.h"
#include "cuda_backend.h"
#include "elementwise.cuh"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T>
void softmax_rows(const T* z, Index z_stride, T* a, Index a_stride, Index rows, Index cols, cudaStream_t stream,
                  const LaunchShape& shape) {
  const dim3 grid = warp_per_row_grid("softmax_rows", rows, shape);
  if (rows == 0 || cols == 0) return;
  SIMT_LAUNCH(softmax_rows_warp_per_row<T>, grid, shape.block, 0, stream, z, z_stride, a, a_stride, rows, cols);
  detail::check_launch("softmax_rows_warp_per_row");
}

template <class T>
void attention_forward(const T* h, Index h_stride, const T* a, Index a_stride, T* y, Index y_stride, Index rows,
                       Index cols, cudaStream_t stream, const LaunchShape& shape) {
  for_each_element(rows, cols, AttentionForward<T>{h, h_stride, a, a_stride, y, y_stride, T(cols)}, stream, shape);
}

template <class T>
void attention_backward(const T* h, Index h_stride, const T* a, Index a_stride, const T* dy, Index dy_stride, T* dh,
                        Index dh_stride, T* dz, Index dz_stride, Index rows, Index cols, cudaStream_t stream,
                        const LaunchShape& shape) {
  const dim3 grid = warp_per_row_grid("attention_backward", rows, shape);
  if (rows == 0 || cols == 0) return;
  SIMT_LAUNCH(attention_backward_warp_per_row<T>, grid, shape.block, 0, stream, h, h_stride, a, a_stride, dy,
              dy_stride, dh, dh_stride, dz, dz_stride, rows, cols);
  detail::check_launch("attention_backward_warp_per_row");
}

}  // namespace launch

template <class T>
void softmax_rows(ConstView<T> z, View<T> a) {
  detail::expect_on_device("softmax_rows", z, a);
  launch::softmax_rows(z.data, z.stride, a.data, a.stride, z.rows, z.cols, detail::stream());
}

template <class T>
void attention_forward(ConstView<T> h, ConstView<T> a, View<T> y) {
  detail::expect_on_device("attention_forward", h, a, y);
  launch::attention_forward(h.data, h.stride, a.data, a.stride, y.data, y.stride, h.rows, h.cols, detail::stream());
}

template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz) {
  detail::expect_on_device("attention_backward", h, a, dy, dh, dz);
  launch::attention_backward(h.data, h.stride, a.data, a.stride, dy.data, dy.stride, dh.data, dh.stride, dz.data,
                             dz.stride, h.rows, h.cols, detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                           \
  template void launch::softmax_rows<T>(const T*, Index, T*, Index, Index, Index, cudaStream_t, const LaunchShape&); \
  template void launch::attention_forward<T>(const T*, Index, const T*, Index, T*, Index, Index, Index,             \
                                             cudaStream_t, const LaunchShape&);                                     \
  template void launch::attention_backward<T>(const T*, Index, const T*, Index, const T*, Index, T*, Index, T*,     \
                                              Index, Index, Index, cudaStream_t, const LaunchShape&);               \
  template void softmax_rows<T>(ConstView<T>, View<T>);                                                             \
  template void attention_forward<T>(ConstView<T>, ConstView<T>, View<T>);                                          \
  template void attention_backward<T>(ConstView<T>, ConstView<T>, ConstView<T>, View<T>, View<T>);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
