#pragma once
// The residual blocks of the thesis (Eq. 4.3.1):
//   ResDense(d)   out = x + F(x),      F(x) = L2(ReLU(BN2(L1(ReLU(BN1(x))))))
//   AResDense(d)  out = x + Att(F(x)), Att an AttentionDense(d)
// One class serves both: the attention is present or not.
#include <memory>
#include <optional>

#include "nn/layers.h"

namespace nn {

enum class BlockType { resdense, aresdense };

NN_API const char* to_string(BlockType type);

template <class T>
class ResDense final : public Module<T> {
 public:
  ResDense(Index features, BlockType type = BlockType::resdense);
  Index in_features() const override { return l1.in_features(); }
  Index out_features() const override { return l1.in_features(); }
  // Runs the fused ops of nn/ops.h (kernels/README.md, "Fused ResDense") on its parameters. Saves (training): the input
  // view x; h1 = max(BN1(x), 0), z1 = L1(h1), h2 = max(BN2(z1), 0) (the Linears' inputs) and both BatchNorms' mean and
  // invstd (the backward recomputes the ReLU masks from x and z1); the attention saves its own. Evaluation saves
  // nothing for a backward: it folds BN2 into L1's weights afresh on every call, so it always sees the current
  // parameters, and writes h1 = max(BN1(x), 0) and h2 = max(L1 folded(h1), 0) (linear_relu_forward) as workspaces;
  // backward follows a training forward.
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;
  BlockType type() const { return att ? BlockType::aresdense : BlockType::resdense; }

  // The parameters and running statistics, under PyTorch's names; F's ReLUs have none. The
  // block runs the ops on them itself, so they are holders, not modules; the attention, whose
  // forward and backward it calls, is a module.
  BatchNormParams<T> bn1;
  LinearParams<T> l1;
  BatchNormParams<T> bn2;
  LinearParams<T> l2;
  std::optional<AttentionDense<T>> att;

 private:
  // f(name, child) for every child, in the state dict's order, which is also the order their
  // initial values are drawn in.
  template <class F>
  void for_each_child(F&& f) {
    f("bn1", bn1);
    f("l1", l1);
    f("bn2", bn2);
    f("l2", l2);
    if (att) f("att", *att);
  }

  ConstView<T> x_;
  Tensor<T> h1_, z1_, h2_, out_, dh2_, dh1_, dx_;  // (B, d); out_ without attention only
  Tensor<T> z2_;                                   // (B, d): L2's output, the attention's input
  Tensor<T> mean1_, invstd1_, mean2_, invstd2_;    // (1, d)
  Tensor<T> w_folded_, b_folded_;                  // L1 with BN2 folded in: (d, d), (1, d)
};

extern template class NN_API ResDense<float>;
extern template class NN_API ResDense<double>;

}  // namespace nn
