// Feature attention on the GPU: the forward pass (row softmax and application) and the backward pass.
#include "attention.cuh"
#include "attention.h"
#include "check.h"
#include "context.h"
#include "cuda_backend.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T>
void attention_forward(const T* z, Index z_stride, const T* h, Index h_stride, const T* residual, Index residual_stride,
                       T* a, Index a_stride, T* y, Index y_stride, Index rows, Index cols, cudaStream_t stream,
                       const LaunchShape& shape) {
  const dim3 grid = warp_per_row_grid("attention_forward", rows, shape);
  if (rows == 0 || cols == 0) return;
  SIMT_LAUNCH(attention_forward_warp_per_row<T>, grid, shape.block, 0, stream, z, z_stride, h, h_stride, residual,
              residual_stride, a, a_stride, y, y_stride, rows, cols);
  detail::check_launch("attention_forward_warp_per_row");
}

template <class T>
void attention_backward(const T* h, Index h_stride, const T* a, Index a_stride, const T* dy, Index dy_stride, T* dh,
                        Index dh_stride, T* dz, Index dz_stride, Index rows, Index cols, cudaStream_t stream,
                        const LaunchShape& shape) {
  const dim3 grid = warp_per_row_grid("attention_backward", rows, shape);
  if (rows == 0 || cols == 0) return;
  SIMT_LAUNCH(attention_backward_warp_per_row<T>, grid, shape.block, 0, stream, h, h_stride, a, a_stride, dy, dy_stride,
              dh, dh_stride, dz, dz_stride, rows, cols);
  detail::check_launch("attention_backward_warp_per_row");
}

}  // namespace launch

template <class T>
void attention_forward(ConstView<T> z, ConstView<T> h, ConstView<T> residual, View<T> a, View<T> y) {
  detail::expect_on_device("attention_forward", z, h, residual, a, y);
  launch::attention_forward(z.data, z.stride, h.data, h.stride, residual.empty() ? nullptr : residual.data,
                            residual.stride, a.data, a.stride, y.data, y.stride, z.rows, z.cols, detail::stream());
}

template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz) {
  detail::expect_on_device("attention_backward", h, a, dy, dh, dz);
  launch::attention_backward(h.data, h.stride, a.data, a.stride, dy.data, dy.stride, dh.data, dh.stride, dz.data,
                             dz.stride, h.rows, h.cols, detail::stream());
}

#define NN_INSTANTIATE(T)                                                                                              \
  template void launch::attention_forward<T>(const T*, Index, const T*, Index, const T*, Index, T*, Index, T*, Index,  \
                                             Index, Index, cudaStream_t, const LaunchShape&);                          \
  template void launch::attention_backward<T>(const T*, Index, const T*, Index, const T*, Index, T*, Index, T*, Index, \
                                              Index, Index, cudaStream_t, const LaunchShape&);
NN_INSTANTIATE(float)
NN_INSTANTIATE(double)

template <class T>
void fill_attention_ops(OpTable<T>& table) {
  table.attention_forward = attention_forward<T>;
  table.attention_backward = attention_backward<T>;
}
template void fill_attention_ops(OpTable<float>&);
template void fill_attention_ops(OpTable<double>&);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
