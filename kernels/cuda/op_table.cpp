// The CUDA backend's op table, filled once from every family.
#include "cuda_backend.h"
#include "filled_op_table.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

template <class T>
const OpTable<T>& op_table() {
  static const OpTable<T> table =
      filled_op_table<T>({fill_adam_ops<T>, fill_attention_ops<T>, fill_batchnorm_ops<T>, fill_elementwise_ops<T>,
                          fill_fused_block_ops<T>, fill_linear_ops<T>, fill_loss_ops<T>});
  return table;
}
template const OpTable<float>& op_table();
template const OpTable<double>& op_table();

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
