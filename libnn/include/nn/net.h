#pragma once
// The thesis's nets (§3, §4.3), made precise:
//   Backbone, one of
//     "sandwich": widths w = features_scale(n_init, n_max, depth).
//       stem Linear(n_in -> w_0)
//       encoder level i = 0..depth-1: block(w_i), then down Linear(w_i -> w_{i+1}) except at the last
//       decoder level i = depth-2..0: up Linear(w_{i+1} -> w_i) (+ encoder level i output with
//       U-Net skips), then block(w_i)
//       output width w_0
//     "mlp" (the thesis's first nets, §3): widths w given. Linear(n_in -> w_0), ReLU, then
//       Linear(w_{i-1} -> w_i), ReLU for each further width; Dropout after every ReLU. Output width
//       the last w.
//   Heads on the backbone output h (B, w_out):
//     linear   one Linear(w_out -> n_targets), or Linear(w_out -> 2 n_targets) with uncertainty
//              heads: the means, then the log variances s_t = log sigma_t^2
//     causal   head k = Linear(w_out + k -> 1) on concat(h, y_0 .. y_{k-1}), or Linear(w_out + k -> 2)
//              with uncertainty heads (mean_k, s_k), passing on the mean only
//     classifier (optional) Linear(w_out + n_targets -> 1) on concat(h, all y): one logit
//   Auto-encoder (optional, thesis §6): the backbone and heads above are the encoder, from the
//     photometry without one band to the labels; a decoder backbone on concat(x, labels) and
//     Linear(w_out -> 1) predicts that band.
//   Net output (B, n_targets [+ n_targets log variances] [+ 1 band] [+ 1 logit]).
// Parameter names follow PyTorch's state_dict of the same net: stem, enc.i, down.i, up.i,
// dec.i (sandwich) or mlp.k, k the index in nn.Sequential(Linear, ReLU, [Dropout,] Linear, ...)
// with the Dropout there only when its rate is above 0 (so mlp.0, mlp.2, ... or mlp.0, mlp.3, ...);
// head (linear) or heads.k (causal), cls; the decoder's under decoder. (decoder.stem, ...,
// decoder.head).
#include <memory>
#include <optional>
#include <vector>

#include "nn/blocks.h"

namespace nn {

enum class BackboneType { sandwich, mlp };
enum class Skips { none, additive };
enum class HeadType { linear, causal };
enum class Classifier { none, binary };

// The `depth` widths between n_init and n_max, geometric, rounded to multiples of 8
// (round half to even, as Python's round): (64, 2048, 12) -> 64, 88, 120, ..., 1496, 2048.
NN_API std::vector<Index> features_scale(Index n_init, Index n_max, Index depth);

struct BackboneSpec {
  Index n_init = 64;
  Index n_max = 2048;
  Index depth = 12;
  BlockType block = BlockType::resdense;
  Skips skips = Skips::additive;
  double dropout = 0.0;  // after every block (sandwich) or ReLU (mlp); identity when 0
  // Last, so that a sandwich keeps its brace initialiser {n_init, n_max, depth, block, skips, dropout}.
  BackboneType type = BackboneType::sandwich;
  std::vector<Index> hidden_widths;  // mlp: the width of each hidden Linear layer (n_init .. skips unused)
};

struct HeadSpec {
  HeadType type = HeadType::linear;
  Index n_targets = 1;
  Classifier classifier = Classifier::none;
  // Uncertainty heads: each target's head also outputs s = log sigma^2 (DESIGN.md,
  // "Uncertainties"); causal heads pass on the mean only.
  bool variance = false;
};

struct NetSpec {
  Index n_inputs = 0;
  BackboneSpec backbone;
  HeadSpec heads;
  std::uint64_t seed = 0;               // initial parameters and dropout masks
  std::optional<BackboneSpec> decoder;  // the auto-encoder's band decoder; heads.n_targets excludes the band
};

// What the net asks of a backbone, whichever kind: a module from (B, n_inputs) to
// (B, out_features()) with dropout layers it can restart.
template <class T>
class Backbone : public Module<T> {
 public:
  // The width of each level (sandwich) or hidden layer (mlp).
  virtual const std::vector<Index>& widths() const = 0;
  // Sets every dropout layer's count of masks drawn (see Dropout::set_draws).
  virtual void set_dropout_draws(std::uint64_t draws) = 0;
};

// The backbone that spec.type names.
template <class T>
std::unique_ptr<Backbone<T>> make_backbone(Index n_inputs, const BackboneSpec& spec, std::uint64_t dropout_seed);

template <class T>
class Sandwich final : public Backbone<T> {
 public:
  Sandwich(Index n_inputs, const BackboneSpec& spec, std::uint64_t dropout_seed);
  Index in_features() const override { return stem_.in_features(); }
  Index out_features() const override { return widths_.front(); }
  const std::vector<Index>& widths() const override { return widths_; }
  // Saves: every sublayer its own; with skips, the encoder outputs stay in their blocks.
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;
  void set_dropout_draws(std::uint64_t draws) override;

 private:
  struct Level {
    std::unique_ptr<ResDense<T>> block;
    std::unique_ptr<Dropout<T>> dropout;
  };
  ConstView<T> run_level(Level& level, ConstView<T> x, Mode mode);
  ConstView<T> back_level(Level& level, ConstView<T> dy);

  std::vector<Index> widths_;
  Skips skips_;
  Linear<T> stem_;
  std::vector<Level> enc_, dec_;                       // dec_[i] is decoder level i
  std::vector<std::unique_ptr<Linear<T>>> down_, up_;  // down_[i]: w_i -> w_{i+1}; up_[i]: w_{i+1} -> w_i
  std::vector<ConstView<T>> enc_out_;                  // encoder level outputs, for the skips
  std::vector<ConstView<T>> skip_grad_;                // gradients reaching them through the skips
  std::vector<Tensor<T>> skip_sum_;                    // up(h) + e_i per decoder level
  Tensor<T> grad_sum_;                                 // gradient meeting at an encoder output
};

template <class T>
class Mlp final : public Backbone<T> {
 public:
  Mlp(Index n_inputs, const BackboneSpec& spec, std::uint64_t dropout_seed);
  Index in_features() const override { return layers_.front().linear.in_features(); }
  Index out_features() const override { return widths_.back(); }
  const std::vector<Index>& widths() const override { return widths_; }
  // A hidden layer's Linear and ReLU are one op, linear_relu_forward on the Linear's parameters,
  // then its Dropout. Saves per layer: the input view x (the caller keeps it unchanged until
  // backward) and h = max(x W^T + b, 0), the ReLU's output, whose sign is its mask; the Dropout
  // saves its own. Backward: relu_backward on h, then linear_backward; dx is overwritten,
  // parameter gradients accumulate.
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;
  void set_dropout_draws(std::uint64_t draws) override;

 private:
  struct Layer {
    LinearParams<T> linear;  // the layer runs the ops on them itself
    std::unique_ptr<Dropout<T>> dropout;
    ConstView<T> x;   // (B, in): the input
    Tensor<T> h, dz;  // (B, out): max(x W^T + b, 0), the gradient at x W^T + b
    Tensor<T> dx;     // (B, in)
  };
  std::vector<Index> widths_;
  std::vector<Layer> layers_;
  Index sequential_stride_;  // modules per layer in PyTorch's nn.Sequential: Linear, ReLU[, Dropout]
};

template <class T>
class Heads final : public Module<T> {
 public:
  Heads(Index features, const HeadSpec& spec);
  Index in_features() const override { return features_; }
  Index out_features() const override {
    return spec_.n_targets * (spec_.variance ? 2 : 1) + (spec_.classifier == Classifier::binary);
  }
  // Saves: concat(h, y) in one buffer that every head reads a leading block of columns from.
  ConstView<T> forward(ConstView<T> h, Mode mode) override;
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;

 private:
  Index features_;
  HeadSpec spec_;
  std::vector<std::unique_ptr<Linear<T>>> heads_;  // one (linear) or one per target (causal)
  std::optional<Linear<T>> cls_;
  Tensor<T> concat_, out_, dconcat_, dy_target_;
};

// The auto-encoder's decoder: from x (B, n_inputs) and the encoder's output (B, n_labels [+ 1
// logit]) to the net's output (B, n_labels + 1 band [+ 1 logit]). The band's gradient reaches the
// encoder through the labels the decoder read, and x through both.
template <class T>
class BandDecoder {
 public:
  BandDecoder(Index n_inputs, Index n_labels, const BackboneSpec& spec, std::uint64_t dropout_seed);
  // Saves: concat(x, labels) in in_ (and every sublayer its own).
  ConstView<T> forward(ConstView<T> x, ConstView<T> encoded, Mode mode);
  // Returns the gradient of the encoder's output (OVERWRITTEN each call).
  ConstView<T> backward(ConstView<T> dy);
  // dx of the encoder plus the gradient that reached x through the decoder's last backward.
  ConstView<T> add_input_gradient(ConstView<T> dx_encoder);
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix);
  void reset_parameters(Rng& rng);
  void set_dropout_draws(std::uint64_t draws) { backbone_->set_dropout_draws(draws); }

 private:
  Index n_inputs_, n_labels_;
  std::unique_ptr<Backbone<T>> backbone_;
  Linear<T> head_;
  Tensor<T> in_, out_, dencoded_, dx_;
  ConstView<T> din_;  // gradient of in_ (owned by the backbone)
};

template <class T>
class Net final : public Module<T> {
 public:
  explicit Net(const NetSpec& spec);
  const NetSpec& spec() const { return spec_; }
  Index in_features() const override { return backbone_->in_features(); }
  Index out_features() const override { return heads_.out_features() + (decoder_ != nullptr); }
  // x (B, n_inputs) must be finite: a NaN or infinity is an nn::Error naming row and column.
  // Evaluation on the CPU with several OpenMP threads and at least kRowsPerReplica rows a
  // thread splits the rows among the threads, each running the net alone on its block (this
  // net on the first, a replica of it on each other, brought up to date first): one parallel
  // region a batch instead of one a layer, and every product over a whole block of rows.
  ConstView<T> forward(ConstView<T> x, Mode mode) override;
  static constexpr Index kRowsPerReplica = 512;
  // The nn::Error forward throws for a non-finite input, before any layer runs (on the CPU).
  void check_finite(ConstView<T> x) const;
  // The nets of the threads of a parallel region that each run a share of a batch: this net on
  // thread 0 and replica t on thread t. update_replicas(threads), outside the region, makes the
  // missing ones and brings each up to date with this net (parameters and running statistics,
  // copied only where they differ); replica(t) is the net of thread t < threads. A replica's
  // dropout layers count their own draws, so training splits no step of a net with dropout.
  void update_replicas(int threads);
  Net<T>& replica(int t) { return t == 0 ? *this : *replicas_[std::size_t(t - 1)]; }
  ConstView<T> backward(ConstView<T> dy) override;
  void visit(ModuleVisitor<T>& visitor, const std::string& prefix) override;
  void reset_parameters(Rng& rng) override;

  // The contiguous parameters and gradients of the whole net.
  ParameterStore<T>& parameters() { return store_; }
  const ParameterStore<T>& parameters() const { return store_; }
  const std::vector<Index>& widths() const { return backbone_->widths(); }
  // Moves parameters, gradients and buffers (BatchNorm running statistics) to `device`; the
  // layers' workspaces follow their inputs, so the net then runs on device inputs. A new net
  // starts on the CPU, where it draws its initial parameters.
  void to(Device device);
  Device device() const { return store_.device(); }
  // Whether training forwards draw dropout masks (a dropout rate above 0 anywhere).
  bool draws_dropout_masks() const {
    return spec_.backbone.dropout > 0.0 || (spec_.decoder && spec_.decoder->dropout > 0.0);
  }
  // One mask is drawn per training forward, so a run resumed after n optimiser steps sets n.
  void set_dropout_draws(std::uint64_t draws) {
    backbone_->set_dropout_draws(draws);
    if (decoder_) decoder_->set_dropout_draws(draws);
  }

 private:
  NetSpec spec_;
  std::unique_ptr<Backbone<T>> backbone_;
  Heads<T> heads_;
  std::unique_ptr<BandDecoder<T>> decoder_;  // null without one
  ParameterStore<T> store_;

  // The layers in order, on x as it is.
  ConstView<T> forward_layers(ConstView<T> x, Mode mode);
  // Evaluation split by rows among `threads` threads (see forward).
  ConstView<T> forward_on_threads(ConstView<T> x, int threads);
  std::vector<std::unique_ptr<Net<T>>> replicas_;  // one for each thread but the first
  std::vector<Tensor<T>*> buffers_;                // the running statistics, in visiting order, once replicated
  Tensor<T> out_;                                  // the rows the threads computed
};

// out (N, net outputs) = net(x) in eval (or sample) mode, batch_size rows at a time (x may be
// any length). x and out may live on any device: batches travel to the net's device and back.
template <class T>
void forward_in_batches(Net<T>& net, ConstView<T> x, View<T> out, Index batch_size, Mode mode = Mode::eval);

extern template class NN_API Sandwich<float>;
extern template class NN_API Sandwich<double>;
extern template class NN_API Mlp<float>;
extern template class NN_API Mlp<double>;
extern template class NN_API Heads<float>;
extern template class NN_API Heads<double>;
extern template class NN_API BandDecoder<float>;
extern template class NN_API BandDecoder<double>;
extern template class NN_API Net<float>;
extern template class NN_API Net<double>;

}  // namespace nn
