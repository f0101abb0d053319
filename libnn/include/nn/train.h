#pragma once
// Training a net on in-memory data: shuffled mini-batches, the loss, Adam and a schedule, one
// optimiser step per batch; evaluation and prediction in batches in eval mode.
// Buffers are sized on the first batch and reused: a training step allocates nothing of its own
// (oneDNN, which runs the float products on the CPU, builds a small map of arguments per product).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "nn/loss.h"
#include "nn/net.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/shards.h"
#include "nn/thread_shards.h"

namespace nn {

// Rows of inputs and labels, already normalised. x_error (optional) holds the inputs' standard
// errors for augmentation; label only when a classifier is trained. A net that takes missing
// inputs (MissingInputs) sees x as (N, 2n): the n z-scores, 0 where missing, then the n
// presence indicators, 1 present / 0 missing; x_error stays (N, n).
template <class T>
struct Dataset {
  Tensor<T> x;        // (N, n_inputs), or (N, 2 n_inputs) with presence indicators
  Tensor<T> x_error;  // (N, n_inputs) or empty
  Tensor<T> y;        // (N, n_targets), 0 where missing
  Tensor<T> scale;    // (N, n_targets), s of the weighted L1
  Tensor<T> mask;     // (N, n_targets), 1 labelled / 0 missing
  Tensor<T> error;    // (N, n_targets) or empty: label errors in z-score units, 0 without one
  Tensor<T> label;    // (N, 1) or empty; 0/1, NaN where missing (masked)
  Index rows() const { return x.rows(); }
};

enum class Augment { none, from_input_errors };

// Nets that take whatever inputs a star has (DESIGN.md, "Missing inputs"): a row needs
// min_present of its inputs. Band dropout: in training, each present input of a row is hidden
// (its z-score and indicator set to 0) with probability p_drop, drawn per row, input and epoch;
// a row that would keep fewer than min_present keeps all it has. Evaluation never hides.
struct MissingInputs {
  Index min_present = 1;
  double p_drop = 0.0;
};

// Band dropout on one row x = [z (n) | m (n)] (n at most 64): each present input is hidden (z_j
// and m_j set to 0) with probability rule.p_drop, unless fewer than rule.min_present would
// remain. Every input takes one draw from rng, present or not.
template <class T>
void drop_bands(T* x, Index n, const MissingInputs& rule, Rng& rng);
extern template NN_API void drop_bands<float>(float*, Index, const MissingInputs&, Rng&);
extern template NN_API void drop_bands<double>(double*, Index, const MissingInputs&, Rng&);

struct TrainOptions {
  Index batch_size = 256;
  Augment augment = Augment::none;  // x + eps sigma_x, eps ~ N(0, 1), drawn anew each epoch
  // On a GPU, record the step of a full batch once as a CUDA graph and replay it (nets without
  // dropout: a recorded step would repeat one mask). Results are the same either way.
  bool record_steps = true;
  // Set for nets with presence indicators: band dropout in training (x is (B, 2n)).
  std::optional<MissingInputs> missing_inputs;
  // Data-parallel training (nn/shards.h; nn::Ranks over MPI): every shard draws the same batches,
  // runs the net on its own rows of each, gathers the outputs so the loss is the whole batch's,
  // and sums the gradients over the shards (host memory: a net on a GPU stages them), so every
  // shard takes the same optimiser step as one process would. Null, or one shard: the whole batch,
  // which a net on the CPU splits the same way among its OpenMP threads when it has several, is
  // not already inside a parallel region (ensemble members side by side) and draws no dropout
  // masks: min(threads, rows / kRowsPerThreadShard) threads, each a shard that runs the net alone
  // on its rows (a replica of the net, Net::update_replicas), in one parallel region a step. The
  // sums of the split batch run in another order than the whole batch's, so a run's bits follow
  // its number of threads (as the GEMM kernels' already did).
  const BatchShards* shards = nullptr;
  static constexpr Index kRowsPerThreadShard = 64;
  // False keeps every step on the whole batch, for bits that do not follow the thread count.
  bool split_on_threads = true;
};

// Optimiser steps in one epoch: full batches, and the last partial one if it has 2 rows or more.
NN_API Index batches_per_epoch(Index rows, Index batch_size);
// An nn::Error where an epoch of `rows` rows in batches of batch_size would give one of `shards`
// shards no row of some batch (nothing to check without shards, or with one).
NN_API void check_rows_per_shard(Index rows, Index batch_size, const BatchShards* shards);

// Called around the batches of an epoch (both optional).
struct EpochHooks {
  std::function<bool()> stop_requested;  // checked before every batch
  std::function<void(Index done, Index total)> batch_done;
};

namespace detail {
struct StepRecording;
}

template <class T>
class Trainer {
 public:
  Trainer(Net<T>& net, NetLoss<T>& loss, Adam<T>& adam, const Schedule& schedule, const TrainOptions& options);
  // One pass over data in a random order drawn from rng; returns the mean batch loss, or
  // nothing when hooks.stop_requested() ended the epoch early.
  // A final batch of one row is left out: batch statistics need two.
  std::optional<double> train_epoch(const Dataset<T>& data, Rng& rng, const EpochHooks& hooks = {});
  // The mean loss over data in eval mode, weighted by batch size. Shards share the batches out.
  double evaluate(const Dataset<T>& data);
  // out (N, net outputs) = net(x) in eval mode, in batches.
  void predict(ConstView<T> x, View<T> out);
  std::int64_t steps() const { return adam_.steps(); }
  // Steps that ran as a replay of a recorded one.
  Index replayed_steps() const { return replayed_steps_; }
  ~Trainer();

 private:
  // The rows of one batch: gathered on the host, copied to the net's device when it has another.
  struct Batch {
    Tensor<T> x, y, scale, mask, label, error;
  };
  // The random draws of one training epoch, each from its own stream, so that turning one on
  // or off leaves the others as they were. Evaluation has none.
  struct EpochDraws {
    Rng noise, hiding;
  };
  // Gathers rows order[first .. first + count) (or first .. first + count without an order) and
  // returns the batch on the net's device; with draws, augmented and with bands dropped as
  // the options say.
  const Batch& gather(const Dataset<T>& data, const std::vector<Index>& order, Index first, Index count,
                      EpochDraws* draws);
  Targets<T> targets(const Batch& batch) const;
  // zero_grad, forward, loss gradient, backward: everything of a step but the loss value and
  // Adam, whose arguments change every step. Returns the net's output.
  ConstView<T> step_body(const Batch& batch);
  // step_body on this shard's rows of a batch split among shards, with its net and loss (net_
  // and loss_, or a thread's own) and the whole batch's output gathered into `gathered`.
  ConstView<T> sharded_step_body(Net<T>& net, NetLoss<T>& loss, Tensor<T>& gathered, const Batch& batch,
                                 const BatchShards& shards);
  // How many of the OpenMP threads share a step on this batch (1: the whole batch on every op's
  // threads; see TrainOptions::shards).
  int step_threads(const Batch& batch) const;
  // sharded_step_body on `threads` threads, each a shard of the batch (nn/thread_shards.h): one
  // parallel region a step, every op of a thread on its own rows and core.
  ConstView<T> step_on_threads(const Batch& batch, int threads);
  // step_body, run, or recorded and replayed (TrainOptions::record_steps).
  ConstView<T> run_step_body(const Batch& batch);
  // hooks.stop_requested(), on any shard.
  bool stop_requested(const EpochHooks& hooks) const;
  bool sharded() const { return options_.shards && options_.shards->count() > 1; }

  Net<T>& net_;
  NetLoss<T>& loss_;
  Adam<T>& adam_;
  const Schedule& schedule_;
  TrainOptions options_;
  bool with_label_;
  Batch host_, device_;  // the current batch; device_ only for a net off the CPU
  std::vector<Index> order_;
  std::unique_ptr<detail::StepRecording> recording_;  // on a GPU with record_steps
  ConstView<T> recorded_out_;                         // the output the recorded step writes
  Tensor<T> batch_out_, batch_out_host_;              // a split batch's gathered output
  Tensor<T> grads_host_;                              // a GPU's gradients, summed over the shards
  // The losses and gathered outputs of the threads after the first of a step on threads.
  std::vector<std::unique_ptr<NetLoss<T>>> thread_losses_;
  std::vector<Tensor<T>> thread_outputs_;
  std::unique_ptr<ThreadExchange> exchange_;
  Index replayed_steps_ = 0;
};

extern template class NN_API Trainer<float>;
extern template class NN_API Trainer<double>;

}  // namespace nn
