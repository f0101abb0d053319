// Adam(W) on the GPU: one fused kernel over the whole parameter buffer.
#include <cmath>

#include "adam.cuh"
#include "adam.h"
#include "check.h"
#include "context.h"
#include "cuda_backend.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {
namespace launch {

template <class T>
void adam_step(T* params, const T* grads, T* m, T* v, Index n, const AdamStep& step, cudaStream_t stream,
               const LaunchShape& shape) {
  if (n == 0) return;
  if (shape.block.y != 1 || shape.block.z != 1) throw Error("adam_step: the fused kernel takes a 1-D block");
  // As torch.optim.Adam/AdamW, and as the CPU backend rounds them: the bias corrections use the
  // beta1 of this step, so a one-cycle beta1 schedule behaves as it does there.
  const AdamScalars<T> scalars{T(step.beta1),
                               T(step.beta2),
                               T(step.lr) / T(1 - std::pow(step.beta1, double(step.step))),
                               T(std::sqrt(1 - std::pow(step.beta2, double(step.step)))),
                               T(1 - step.lr * step.weight_decay),
                               T(step.eps)};
  SIMT_LAUNCH(adam_grid_stride<T>, dim3(blocks_for(n, shape.block.x, shape.max_blocks)), shape.block, 0, stream, params,
              grads, m, v, n, scalars);
  detail::check_launch("adam_grid_stride");
}

}  // namespace launch

template <class T>
void adam_step(View<T> params, ConstView<T> grads, View<T> m, View<T> v, const AdamStep& step) {
  detail::expect_on_device("adam_step", params, grads, m, v);
  launch::adam_step(params.data, grads.data, m.data, v.data, params.size(), step, detail::stream());
}

template void launch::adam_step<float>(float*, const float*, float*, float*, Index, const AdamStep&, cudaStream_t,
                                       const LaunchShape&);
template void launch::adam_step<double>(double*, const double*, double*, double*, Index, const AdamStep&, cudaStream_t,
                                        const LaunchShape&);
template <class T>
void fill_adam_ops(OpTable<T>& table) {
  table.adam_step = adam_step<T>;
}
template void fill_adam_ops(OpTable<float>&);
template void fill_adam_ops(OpTable<double>&);

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
