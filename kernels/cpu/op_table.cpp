// The CPU backend's op table, filled once from every family.
#include "backend.h"

namespace nn::cpu {
namespace {

template <class T>
OpTable<T> make_op_table() {
  OpTable<T> table;
  fill_adam_ops(table);
  fill_attention_ops(table);
  fill_batchnorm_ops(table);
  fill_elementwise_ops(table);
  fill_fused_block_ops(table);
  fill_linear_ops(table);
  fill_loss_ops(table);
  return table;
}

}  // namespace

template <class T>
const OpTable<T>& op_table() {
  static const OpTable<T> table = make_op_table<T>();
  return table;
}
template const OpTable<float>& op_table();
template const OpTable<double>& op_table();

}  // namespace nn::cpu
