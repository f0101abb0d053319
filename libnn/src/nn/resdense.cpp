#include "nn/blocks.h"

namespace nn {

const char* to_string(BlockType type) { return type == BlockType::resdense ? "ResDense" : "AResDense"; }

template <class T>
ResDense<T>::ResDense(Index features, BlockType type)
    : bn1(features), l1(features, features), bn2(features), l2(features, features) {
  if (type == BlockType::aresdense) att.emplace(features);
}

template <class T>
void ResDense<T>::reset_parameters(Rng& rng) {
  for_each_child([&](const char*, auto& child) { child.reset_parameters(rng); });
}

template <class T>
void ResDense<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  for_each_child([&](const char* name, auto& child) { child.visit(visitor, join_name(prefix, name)); });
}

template <class T>
ConstView<T> ResDense<T>::forward(ConstView<T> x, Mode mode) {
  // x, h1, z1, h2, out are (B, d).
  x_ = x;
  const Index rows = x.rows, d = x.cols;
  for (Tensor<T>* t : {&h1_, &h2_}) t->resize(rows, d, x.device);
  if (mode == Mode::train) {
    z1_.resize(rows, d, x.device);
    for (Tensor<T>* t : {&mean1_, &invstd1_, &mean2_, &invstd2_}) t->resize(1, d, x.device);
    ops::batchnorm_relu_forward_train<T>(x, bn1.weight.value, bn1.bias.value, bn1.options(), h1_, mean1_, invstd1_,
                                         bn1.running_mean, bn1.running_var);
    ops::linear_forward<T>(h1_, l1.weight.value, l1.bias.value, z1_);
    ops::batchnorm_relu_forward_train<T>(z1_, bn2.weight.value, bn2.bias.value, bn2.options(), h2_, mean2_, invstd2_,
                                         bn2.running_mean, bn2.running_var);
  } else {
    // BN2 with running statistics is affine, so it folds into L1: one (B, d) pass less for an
    // O(d^2) fold, small next to the O(B d^2) GEMM. Folding on every call, rather than caching
    // the fold, needs no invalidation when Adam, a model file or a test changes the parameters.
    w_folded_.resize(d, d, x.device);
    b_folded_.resize(1, d, x.device);
    ops::batchnorm_fold_into_linear<T>(l1.weight.value, l1.bias.value, bn2.weight.value, bn2.bias.value,
                                       bn2.running_mean, bn2.running_var, bn2.options(), w_folded_, b_folded_);
    ops::batchnorm_relu_forward_eval<T>(x, bn1.weight.value, bn1.bias.value, bn1.running_mean, bn1.running_var,
                                        bn1.options(), h1_);
    // BN2's ReLU comes with the folded L1: in cuBLASLt's epilogue, or a pass after the GEMM.
    ops::linear_relu_forward<T>(h1_, w_folded_, b_folded_, h2_);
  }
  if (!att) {
    out_.resize(rows, d, x.device);
    ops::linear_residual_forward<T>(h2_, l2.weight.value, l2.bias.value, x, out_);
    return out_;
  }
  // The attention comes between L2 and the skip connection: its pass over the row adds x.
  z2_.resize(rows, d, x.device);
  ops::linear_forward<T>(h2_, l2.weight.value, l2.bias.value, z2_);
  return att->forward(z2_, x, mode);
}

template <class T>
ConstView<T> ResDense<T>::backward(ConstView<T> dy) {
  // dy, dh2, dh1, dx are (B, d). dy reaches x through the skip connection and through the
  // branch; the last op adds the two. dx is overwritten, parameter gradients accumulate.
  const Index rows = x_.rows, d = x_.cols;
  for (Tensor<T>* t : {&dh2_, &dh1_, &dx_}) t->resize(rows, d, x_.device);
  const ConstView<T> g = att ? att->backward(dy) : dy;
  ops::linear_backward<T>(h2_, l2.weight.value, g, dh2_, GradWrite::overwrite, l2.weight.grad, l2.bias.grad);
  // dz1 overwrites dh2 in place.
  ops::batchnorm_relu_backward<T>(z1_, mean2_, invstd2_, bn2.weight.value, bn2.bias.value, dh2_, ConstView<T>(), dh2_,
                                  bn2.weight.grad, bn2.bias.grad);
  ops::linear_backward<T>(h1_, l1.weight.value, dh2_, dh1_, GradWrite::overwrite, l1.weight.grad, l1.bias.grad);
  ops::batchnorm_relu_backward<T>(x_, mean1_, invstd1_, bn1.weight.value, bn1.bias.value, dh1_, dy, dx_,
                                  bn1.weight.grad, bn1.bias.grad);
  return dx_;
}

template class ResDense<float>;
template class ResDense<double>;

}  // namespace nn
