#pragma once
// The layers: Linear, BatchNorm1d, ReLU, Dropout, AttentionDense. Their definitions:
//   Linear        y = x W^T + b, W (out, in); Kaiming-uniform init like PyTorch's default
//   BatchNorm1d   batch statistics in training (biased variance normalises, unbiased variance
//                 feeds the running estimate, momentum 0.1, eps 1e-5), running ones in eval
//   ReLU          y = max(x, 0)
//   Dropout       inverted dropout; identity in evaluation
//   AttentionDense a = softmax(h W_a^T + b_a) over the d features of a row, y = d a h
// Each forward states what it saves for backward; see module.h for the conventions.
#include <cstdint>
#include <string>

#include "nn/module.h"
#include "nn/ops.h"

namespace nn {

// The parameters of y = x W^T + b: what Linear runs on, and what a block that runs fused ops on
// them (ResDense, Mlp) holds directly. Parameter holders name their visit and reset_parameters
// as modules do, so that a block walks its children, holders and modules alike, in one list.
template <class T>
struct LinearParams {
  LinearParams(Index in_features, Index out_features);
  Index in_features() const { return weight.cols; }
  Index out_features() const { return weight.rows; }
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix);
  // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for W (kaiming_uniform, a = sqrt(5)) and b.
  void reset_parameters(Rng& rng);

  Param<T> weight;  // (out, in)
  Param<T> bias;    // (1, out)
};

// The parameters and running statistics of a BatchNorm over d features, for BatchNorm1d and
// the blocks that hold them directly.
template <class T>
struct BatchNormParams {
  explicit BatchNormParams(Index features, BatchNormOptions options = {});
  Index features() const { return weight.cols; }
  const BatchNormOptions& options() const { return options_; }
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix);
  // gamma 1, beta 0, running mean 0 and variance 1, as PyTorch starts (draws nothing).
  void reset_parameters(Rng& rng);

  Param<T> weight;                      // gamma (1, d)
  Param<T> bias;                        // beta (1, d)
  Tensor<T> running_mean, running_var;  // (1, d)

 private:
  BatchNormOptions options_;
};

template <class T>
class Linear final : public Module<T>, public LinearParams<T> {
 public:
  using LinearParams<T>::weight;
  using LinearParams<T>::bias;
  Linear(Index in_features, Index out_features) : LinearParams<T>(in_features, out_features) {}
  Index in_features() const override { return weight.cols; }
  Index out_features() const override { return weight.rows; }
  // Saves: the input view x (the caller keeps it unchanged until backward).
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  // As backward, but adds dx into `dx` (a view the caller owns) instead of returning it.
  void backward_accumulate(ConstView<T> dy, View<T> dx);
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override { LinearParams<T>::visit(visitor, prefix); }
  void reset_parameters(Rng& rng) override { LinearParams<T>::reset_parameters(rng); }

 private:
  ConstView<T> x_;
  Tensor<T> y_, dx_;
};

template <class T>
class BatchNorm1d final : public Module<T>, public BatchNormParams<T> {
 public:
  using BatchNormParams<T>::weight;
  using BatchNormParams<T>::bias;
  using BatchNormParams<T>::running_mean;
  using BatchNormParams<T>::running_var;
  using BatchNormParams<T>::options;
  explicit BatchNorm1d(Index features, BatchNormOptions options = {}) : BatchNormParams<T>(features, options) {}
  Index in_features() const override { return weight.cols; }
  Index out_features() const override { return weight.cols; }
  // Saves (training): the input view x, the batch mean and 1/sqrt(var + eps).
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override {
    BatchNormParams<T>::visit(visitor, prefix);
  }
  void reset_parameters(Rng& rng) override { BatchNormParams<T>::reset_parameters(rng); }

 private:
  ConstView<T> x_;
  Tensor<T> mean_, invstd_, y_, dx_;
};

template <class T>
class ReLU final : public Module<T> {
 public:
  explicit ReLU(Index features) : features_(features) {}
  Index in_features() const override { return features_; }
  Index out_features() const override { return features_; }
  // Saves: its own output (y > 0 exactly where x > 0).
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>&, const std::string&) override {}
  void reset_parameters(Rng&) override {}

 private:
  Index features_;
  Tensor<T> y_, dx_;
};

template <class T>
class Dropout final : public Module<T> {
 public:
  // Each training forward draws a new mask, number n + 1 after n draws, from (seed, n + 1).
  Dropout(Index features, double p, std::uint64_t seed);
  Index in_features() const override { return features_; }
  Index out_features() const override { return features_; }
  // Saves: the mask (0 or 1/(1-p)) of the last training forward.
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>&, const std::string&) override {}
  void reset_parameters(Rng&) override {}
  // Sets how many masks count as drawn: resuming a run restores it, and setting it before
  // every forward repeats one mask (gradient checks).
  void set_draws(std::uint64_t draws) { draws_ = draws; }
  std::uint64_t draws() const { return draws_; }

 private:
  Index features_;
  double p_;
  std::uint64_t seed_;
  std::uint64_t draws_ = 0;
  bool identity_ = true;  // the last forward was the identity (eval mode or p = 0)
  Tensor<T> mask_, y_, dx_;
};

template <class T>
class AttentionDense final : public Module<T> {
 public:
  explicit AttentionDense(Index features);
  Index in_features() const override { return lin.in_features(); }
  Index out_features() const override { return lin.out_features(); }
  // Saves: the input view h and the attention weights a (the logits are saved by `lin`).
  ConstView<T> forward(ConstView<T> h, Mode mode) override;
  // residual + the attention's output, in the same pass (AResDense's skip connection). The
  // backward is the same: the residual's gradient is dy itself, the caller's to route.
  ConstView<T> forward(ConstView<T> h, ConstView<T> residual, Mode mode);
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;

  Linear<T> lin;  // the logits z = h W_a^T + b_a

 private:
  ConstView<T> h_;
  Tensor<T> a_, y_, dh_, dz_;
};

extern template struct NN_API LinearParams<float>;
extern template struct NN_API LinearParams<double>;
extern template struct NN_API BatchNormParams<float>;
extern template struct NN_API BatchNormParams<double>;
extern template class NN_API Linear<float>;
extern template class NN_API Linear<double>;
extern template class NN_API BatchNorm1d<float>;
extern template class NN_API BatchNorm1d<double>;
extern template class NN_API ReLU<float>;
extern template class NN_API ReLU<double>;
extern template class NN_API Dropout<float>;
extern template class NN_API Dropout<double>;
extern template class NN_API AttentionDense<float>;
extern template class NN_API AttentionDense<double>;

}  // namespace nn
