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
  // Saves: the input view x; every sublayer saves its own.
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;
  BlockType type() const { return att ? BlockType::aresdense : BlockType::resdense; }

  BatchNorm1d<T> bn1;
  ReLU<T> relu1;
  Linear<T> l1;
  BatchNorm1d<T> bn2;
  ReLU<T> relu2;
  Linear<T> l2;
  std::optional<AttentionDense<T>> att;

 private:
  ConstView<T> x_;
  Tensor<T> out_, dx_;
};

extern template class NN_API ResDense<float>;
extern template class NN_API ResDense<double>;

}  // namespace nn
