#pragma once
// The op table: one slot per op of nn/ops.h, of the very type of its checked entry point, so a
// backend's implementation has the signature of the declaration or does not compile. Each
// backend fills one table per precision from its family files (kernels/cpu/, kernels/cuda/);
// nn::ops dispatches through the table of its arguments' device, and tests call a backend's
// table directly. A new op gets a slot here and a line in `op_slots`.
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nn/export.h"
#include "nn/ops.h"

namespace nn {

template <class T>
struct OpTable {
  decltype(&ops::linear_forward<T>) linear_forward = nullptr;
  decltype(&ops::linear_backward<T>) linear_backward = nullptr;
  decltype(&ops::linear_relu_forward<T>) linear_relu_forward = nullptr;
  decltype(&ops::linear_residual_forward<T>) linear_residual_forward = nullptr;

  decltype(&ops::batchnorm_forward_train<T>) batchnorm_forward_train = nullptr;
  decltype(&ops::batchnorm_forward_eval<T>) batchnorm_forward_eval = nullptr;
  decltype(&ops::batchnorm_backward<T>) batchnorm_backward = nullptr;
  decltype(&ops::batchnorm_relu_forward_train<T>) batchnorm_relu_forward_train = nullptr;
  decltype(&ops::batchnorm_relu_forward_eval<T>) batchnorm_relu_forward_eval = nullptr;
  decltype(&ops::batchnorm_relu_backward<T>) batchnorm_relu_backward = nullptr;
  decltype(&ops::batchnorm_fold_into_linear<T>) batchnorm_fold_into_linear = nullptr;

  decltype(&ops::relu_forward<T>) relu_forward = nullptr;
  decltype(&ops::relu_backward<T>) relu_backward = nullptr;
  decltype(&ops::dropout_forward<T>) dropout_forward = nullptr;
  decltype(&ops::multiply<T>) multiply = nullptr;
  decltype(&ops::copy<T>) copy = nullptr;
  decltype(&ops::fill<T>) fill = nullptr;
  decltype(&ops::add<T>) add = nullptr;

  decltype(&ops::attention_forward<T>) attention_forward = nullptr;
  decltype(&ops::attention_backward<T>) attention_backward = nullptr;

  decltype(&ops::weighted_l1_loss<T>) weighted_l1_loss = nullptr;
  decltype(&ops::weighted_l1_backward<T>) weighted_l1_backward = nullptr;
  decltype(&ops::nll_loss<T>) nll_loss = nullptr;
  decltype(&ops::nll_backward<T>) nll_backward = nullptr;
  decltype(&ops::bce_with_logits_loss<T>) bce_with_logits_loss = nullptr;
  decltype(&ops::bce_with_logits_backward<T>) bce_with_logits_backward = nullptr;

  decltype(&ops::adam_step<T>) adam_step = nullptr;
};

// Every slot by name, for the checks that a backend filled them all.
template <class T>
constexpr auto op_slots = std::tuple{
    std::pair{"linear_forward", &OpTable<T>::linear_forward},
    std::pair{"linear_backward", &OpTable<T>::linear_backward},
    std::pair{"linear_relu_forward", &OpTable<T>::linear_relu_forward},
    std::pair{"linear_residual_forward", &OpTable<T>::linear_residual_forward},
    std::pair{"batchnorm_forward_train", &OpTable<T>::batchnorm_forward_train},
    std::pair{"batchnorm_forward_eval", &OpTable<T>::batchnorm_forward_eval},
    std::pair{"batchnorm_backward", &OpTable<T>::batchnorm_backward},
    std::pair{"batchnorm_relu_forward_train", &OpTable<T>::batchnorm_relu_forward_train},
    std::pair{"batchnorm_relu_forward_eval", &OpTable<T>::batchnorm_relu_forward_eval},
    std::pair{"batchnorm_relu_backward", &OpTable<T>::batchnorm_relu_backward},
    std::pair{"batchnorm_fold_into_linear", &OpTable<T>::batchnorm_fold_into_linear},
    std::pair{"relu_forward", &OpTable<T>::relu_forward},
    std::pair{"relu_backward", &OpTable<T>::relu_backward},
    std::pair{"dropout_forward", &OpTable<T>::dropout_forward},
    std::pair{"multiply", &OpTable<T>::multiply},
    std::pair{"copy", &OpTable<T>::copy},
    std::pair{"fill", &OpTable<T>::fill},
    std::pair{"add", &OpTable<T>::add},
    std::pair{"attention_forward", &OpTable<T>::attention_forward},
    std::pair{"attention_backward", &OpTable<T>::attention_backward},
    std::pair{"weighted_l1_loss", &OpTable<T>::weighted_l1_loss},
    std::pair{"weighted_l1_backward", &OpTable<T>::weighted_l1_backward},
    std::pair{"nll_loss", &OpTable<T>::nll_loss},
    std::pair{"nll_backward", &OpTable<T>::nll_backward},
    std::pair{"bce_with_logits_loss", &OpTable<T>::bce_with_logits_loss},
    std::pair{"bce_with_logits_backward", &OpTable<T>::bce_with_logits_backward},
    std::pair{"adam_step", &OpTable<T>::adam_step},
};

// The number of slots: a table whose size says otherwise has a slot missing from op_slots.
template <class T>
constexpr std::size_t op_slot_count = std::tuple_size_v<std::remove_cv_t<decltype(op_slots<T>)>>;
static_assert(sizeof(OpTable<float>) == op_slot_count<float> * sizeof(void (*)()),
              "every slot of OpTable is listed in op_slots");

// The names of the slots a table leaves empty; a complete backend has none.
template <class T>
std::vector<std::string> missing_ops(const OpTable<T>& table) {
  std::vector<std::string> missing;
  std::apply(
      [&](const auto&... slot) { ((table.*(slot.second) == nullptr ? missing.push_back(slot.first) : void()), ...); },
      op_slots<T>);
  return missing;
}

namespace cpu {
// The CPU backend's table (plain loops, CBLAS, OpenMP): every slot filled.
template <class T>
NN_API const OpTable<T>& op_table();
}  // namespace cpu

}  // namespace nn
