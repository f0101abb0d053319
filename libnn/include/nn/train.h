#pragma once
// Training a net on in-memory data: shuffled mini-batches, the loss, Adam and a schedule, one
// optimiser step per batch; evaluation and prediction in batches in eval mode.
// Buffers are sized on the first batch and reused: a training step allocates nothing.
#include <cstdint>
#include <functional>
#include <optional>

#include "nn/loss.h"
#include "nn/net.h"
#include "nn/optim.h"
#include "nn/schedule.h"

namespace nn {

// Rows of inputs and labels, already normalised. x_error (optional, same shape as x) holds
// the inputs' standard errors for augmentation; label only when a classifier is trained.
template <class T>
struct Dataset {
  Tensor<T> x;        // (N, n_inputs)
  Tensor<T> x_error;  // (N, n_inputs) or empty
  Tensor<T> y;        // (N, n_targets), 0 where missing
  Tensor<T> scale;    // (N, n_targets), s of the weighted L1
  Tensor<T> mask;     // (N, n_targets), 1 labelled / 0 missing
  Tensor<T> label;    // (N, 1) or empty
  Index rows() const { return x.rows(); }
};

enum class Augment { none, from_input_errors };

struct TrainOptions {
  Index batch_size = 256;
  Augment augment = Augment::none;  // x + eps sigma_x, eps ~ N(0, 1), drawn anew each epoch
};

// Optimiser steps in one epoch: full batches, and the last partial one if it has 2 rows or more.
NN_API Index batches_per_epoch(Index rows, Index batch_size);

// Called around the batches of an epoch (both optional).
struct EpochHooks {
  std::function<bool()> stop_requested;                  // checked before every batch
  std::function<void(Index done, Index total)> batch_done;
};

template <class T>
class Trainer {
 public:
  Trainer(Net<T>& net, NetLoss<T>& loss, Adam<T>& adam, const Schedule& schedule, const TrainOptions& options);
  // One pass over data in a random order drawn from rng; returns the mean batch loss, or
  // nothing when hooks.stop_requested() ended the epoch early.
  // A final batch of one row is left out: batch statistics need two.
  std::optional<double> train_epoch(const Dataset<T>& data, Rng& rng, const EpochHooks& hooks = {});
  // The mean loss over data in eval mode, weighted by batch size.
  double evaluate(const Dataset<T>& data);
  // out (N, net outputs) = net(x) in eval mode, in batches.
  void predict(ConstView<T> x, View<T> out);
  std::int64_t steps() const { return adam_.steps(); }

 private:
  void gather(const Dataset<T>& data, const std::vector<Index>& order, Index first, Index count, Augment augment,
              Rng& rng);
  Targets<T> batch_targets() const;

  Net<T>& net_;
  NetLoss<T>& loss_;
  Adam<T>& adam_;
  const Schedule& schedule_;
  TrainOptions options_;
  bool with_label_;
  Tensor<T> x_, y_, scale_, mask_, label_;  // the current batch
  std::vector<Index> order_;
};

extern template class NN_API Trainer<float>;
extern template class NN_API Trainer<double>;

}  // namespace nn
