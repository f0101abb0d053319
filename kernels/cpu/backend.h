#pragma once
// The CPU backend's op families: each family file (linear.cpp, batchnorm.cpp, ...) keeps its ops
// to itself and fills their slots of the table; op_table.cpp builds the table from all of them.
// backend_description.cpp says what the backend finds on this machine.
#include <string>

#include "nn/op_table.h"

namespace nn::cpu {

// The backend as it finds this machine, in words (nn/version.h).
std::string backend_description();

template <class T>
void fill_adam_ops(OpTable<T>& table);
template <class T>
void fill_attention_ops(OpTable<T>& table);
template <class T>
void fill_batchnorm_ops(OpTable<T>& table);
template <class T>
void fill_elementwise_ops(OpTable<T>& table);
template <class T>
void fill_fused_block_ops(OpTable<T>& table);
template <class T>
void fill_linear_ops(OpTable<T>& table);
template <class T>
void fill_loss_ops(OpTable<T>& table);

}  // namespace nn::cpu
