#include <omp.h>

#include <algorithm>
#include <exception>
#include <numeric>

#include "nn/train.h"

#if defined(STARNN_WITH_CUDA)
#include "cuda_backend.h"
#endif

namespace nn {
template <class T>
void drop_bands(T* x, Index n, const MissingInputs& rule, Rng& rng) {
  constexpr Index kMaxInputs = 64;  // the network file's limit for nets with missing inputs
  if (n > kMaxInputs) throw Error(str("band dropout: ", n, " inputs, at most ", kMaxInputs));
  bool hidden[kMaxInputs];
  Index kept = 0;
  for (Index j = 0; j < n; ++j) {
    const bool present = x[n + j] != T(0);
    hidden[j] = rng.uniform() < rule.p_drop && present;
    kept += present && !hidden[j];
  }
  if (kept < rule.min_present) return;
  for (Index j = 0; j < n; ++j)
    if (hidden[j]) x[j] = x[n + j] = T(0);
}
template NN_API void drop_bands<float>(float*, Index, const MissingInputs&, Rng&);
template NN_API void drop_bands<double>(double*, Index, const MissingInputs&, Rng&);

namespace detail {
#if defined(STARNN_WITH_CUDA)
struct StepRecording {
  cuda::RecordedWork work;
};
#else
struct StepRecording {};  // a build without CUDA has no GPU to record for
#endif
}  // namespace detail

template <class T>
Trainer<T>::Trainer(Net<T>& net, NetLoss<T>& loss, Adam<T>& adam, const Schedule& schedule, const TrainOptions& options)
    : net_(net),
      loss_(loss),
      adam_(adam),
      schedule_(schedule),
      options_(options),
      with_label_(net.spec().heads.classifier == Classifier::binary) {
  if (options.batch_size < 2) throw Error(str("training: batch_size ", options.batch_size, " must be at least 2"));
}

template <class T>
Trainer<T>::~Trainer() = default;

Index batches_per_epoch(Index rows, Index batch_size) { return rows / batch_size + (rows % batch_size >= 2); }

void check_rows_per_shard(Index rows, Index batch_size, const BatchShards* shards) {
  if (!shards || shards->count() < 2) return;
  const Index count = shards->count(), last = rows % batch_size;
  if (batch_size < count || (last >= 2 && last < count))
    throw Error(str("training on ", count, " shards: batches of ", batch_size, " rows",
                    last >= 2 ? str(" and a last batch of ", last, " of ", rows, " rows") : std::string(),
                    " give some shard no row; every batch needs at least one row per shard"));
}

template <class T>
const typename Trainer<T>::Batch& Trainer<T>::gather(const Dataset<T>& data, const std::vector<Index>& order,
                                                     Index first, Index count, EpochDraws* draws) {
  const Index n_x = data.x.cols(), n_targets = data.y.cols();
  const bool augment = draws && options_.augment == Augment::from_input_errors;
  const MissingInputs* hide =
      draws && options_.missing_inputs && options_.missing_inputs->p_drop > 0.0 ? &*options_.missing_inputs : nullptr;
  // Presence indicators follow the n z-scores: x is (B, 2n).
  const Index n_in = options_.missing_inputs ? n_x / 2 : n_x;
  Batch& b = host_;
  b.x.resize(count, n_x);
  b.y.resize(count, n_targets);
  b.scale.resize(count, n_targets);
  b.mask.resize(count, n_targets);
  b.error.resize(count, n_targets);
  if (with_label_) b.label.resize(count, 1);
  for (Index r = 0; r < count; ++r) {
    const Index src = order.empty() ? first + r : order[first + r];
    for (Index j = 0; j < n_x; ++j) {
      T value = data.x(src, j);
      if (augment && j < n_in) value += T(draws->noise.normal()) * data.x_error(src, j);
      b.x(r, j) = value;
    }
    if (hide) drop_bands(b.x.data() + r * n_x, n_in, *hide, draws->hiding);
    for (Index t = 0; t < n_targets; ++t) {
      b.y(r, t) = data.y(src, t);
      b.scale(r, t) = data.scale(src, t);
      b.mask(r, t) = data.mask(src, t);
      b.error(r, t) = data.error.rows() > 0 ? data.error(src, t) : T(0);
    }
    if (with_label_) b.label(r, 0) = data.label(src, 0);
  }
  const Device device = net_.device();
  if (device == Device::cpu) return host_;
  auto stage = [&](const Tensor<T>& from, Tensor<T>& to) {
    to.resize(from.rows(), from.cols(), device);
    transfer<T>(from.view(), to.view());
  };
  stage(b.x, device_.x);
  stage(b.y, device_.y);
  stage(b.scale, device_.scale);
  stage(b.mask, device_.mask);
  stage(b.error, device_.error);
  if (with_label_) stage(b.label, device_.label);
  return device_;
}

template <class T>
Targets<T> Trainer<T>::targets(const Batch& batch) const {
  return {batch.y.view(), batch.scale.view(), batch.mask.view(), with_label_ ? batch.label.view() : ConstView<T>(),
          batch.error.view()};
}

template <class T>
ConstView<T> Trainer<T>::step_body(const Batch& batch) {
  net_.parameters().zero_grad();
  const ConstView<T> out = net_.forward(batch.x.view(), Mode::train);
  loss_.compute_gradient(out, targets(batch));
  net_.backward(loss_.gradient());
  return out;
}

template <class T>
ConstView<T> Trainer<T>::sharded_step_body(Net<T>& net, NetLoss<T>& loss, Tensor<T>& gathered, const Batch& batch,
                                           const BatchShards& shards) {
  const Index rows = batch.x.rows(), first = shards.first_row(rows), count = shards.rows(rows);
  const Device device = net.device();
  net.parameters().zero_grad();
  ConstView<T> out;
  {
    const ShardedBatch split(shards, rows);
    out = net.forward(batch.x.view().row_range(first, count), Mode::train);
  }
  // The whole batch's output on every shard: the loss and its gradient are the whole batch's
  // (its means over labelled rows, its classifier share) with no op of its own for shards.
  gathered.resize(rows, out.cols);
  transfer<T>(out, gathered.view().row_range(first, count));
  shards.gather_rows(gathered.data(), rows, out.cols);
  ConstView<T> batch_out = gathered.view();
  if (device != Device::cpu) {
    batch_out_.resize(rows, out.cols, device);
    transfer<T>(gathered.view(), batch_out_.view());
    batch_out = batch_out_.view();
  }
  loss.compute_gradient(batch_out, targets(batch));
  {
    const ShardedBatch split(shards, rows);
    net.backward(loss.gradient().row_range(first, count));
  }
  // One sum over the contiguous gradient buffer.
  View<T> grads = net.parameters().grads();
  if (device == Device::cpu) {
    shards.sum(grads.data, grads.size());
  } else {
    grads_host_.resize(grads.rows, grads.cols);
    transfer<T>(grads, grads_host_.view());
    shards.sum(grads_host_.data(), grads_host_.size());
    transfer<T>(grads_host_.view(), grads);
  }
  return batch_out;
}

template <class T>
int Trainer<T>::step_threads(const Batch& batch) const {
  if (!options_.split_on_threads || sharded() || net_.device() != Device::cpu || omp_in_parallel() ||
      net_.draws_dropout_masks())
    return 1;
  return int(std::min<Index>(omp_get_max_threads(), batch.x.rows() / TrainOptions::kRowsPerThreadShard));
}

template <class T>
ConstView<T> Trainer<T>::step_on_threads(const Batch& batch, int threads) {
  // Errors that depend on the data come before the region, on the whole batch, so that they
  // name its rows and come from one thread.
  net_.check_finite(batch.x.view());
  net_.update_replicas(threads);
  while (int(thread_losses_.size()) < threads - 1)
    thread_losses_.push_back(std::make_unique<NetLoss<T>>(loss_.spec(), loss_.with_classifier()));
  thread_outputs_.resize(std::size_t(threads - 1));
  std::exception_ptr error;
  ConstView<T> out;
#pragma omp parallel num_threads(threads)
  {
    // The team may be smaller than asked for (OMP_DYNAMIC, a thread limit): it is the shards.
    // Kept from step to step (a step allocates nothing after the first).
#pragma omp single
    if (!exchange_ || exchange_->count() != omp_get_num_threads())
      exchange_ = std::make_unique<ThreadExchange>(omp_get_num_threads());
    const int t = omp_get_thread_num();
    try {
      const ThreadShard shard(*exchange_, t);
      if (t == 0)
        out = sharded_step_body(net_, loss_, batch_out_host_, batch, shard);
      else
        sharded_step_body(net_.replica(t), *thread_losses_[std::size_t(t - 1)], thread_outputs_[std::size_t(t - 1)],
                          batch, shard);
    } catch (...) {
      exchange_->leave();
#pragma omp critical(starnn_step_on_threads)
      if (!error) error = std::current_exception();
    }
  }
  if (error) {
    exchange_.reset();  // it passes every meeting now
    std::rethrow_exception(error);
  }
  return out;
}

template <class T>
ConstView<T> Trainer<T>::run_step_body(const Batch& batch) {
  if (sharded()) return sharded_step_body(net_, loss_, batch_out_host_, batch, *options_.shards);
  if (const int threads = step_threads(batch); threads > 1) return step_on_threads(batch, threads);
#if defined(STARNN_WITH_CUDA)
  // Only full batches replay: the last, shorter batch of an epoch runs as it is. The first full
  // batch runs as it is too, allocating every workspace, so that recording allocates nothing.
  const bool replayable = options_.record_steps && net_.device() == Device::cuda && !net_.draws_dropout_masks() &&
                          batch.x.rows() == options_.batch_size;
  if (replayable) {
    if (!recording_) {
      recording_ = std::make_unique<detail::StepRecording>();
      return step_body(batch);
    }
    if (!recording_->work.recorded()) recording_->work.record([&] { recorded_out_ = step_body(batch); });
    recording_->work.replay();
    ++replayed_steps_;
    return recorded_out_;
  }
#endif
  return step_body(batch);
}

template <class T>
bool Trainer<T>::stop_requested(const EpochHooks& hooks) const {
  double stop = hooks.stop_requested && hooks.stop_requested() ? 1.0 : 0.0;
  // Shards stop together, before the same batch: one that went on would wait for the others.
  if (sharded()) options_.shards->sum(&stop, 1);
  return stop > 0.0;
}

template <class T>
std::optional<double> Trainer<T>::train_epoch(const Dataset<T>& data, Rng& rng, const EpochHooks& hooks) {
  if (options_.augment == Augment::from_input_errors && data.x_error.rows() != data.rows())
    throw Error("training: augmentation from input errors needs the input error columns");
  if (options_.missing_inputs &&
      (data.x.cols() % 2 || (data.x_error.rows() > 0 && data.x_error.cols() * 2 != data.x.cols())))
    throw Error(str("training: inputs with presence indicators have an even width (2n), not ", data.x.cols()));
  const Index rows = data.rows();
  check_rows_per_shard(rows, options_.batch_size, options_.shards);
  order_.resize(rows);
  std::iota(order_.begin(), order_.end(), Index(0));
  // Separate streams for the order, the noise and the hidden bands: turning augmentation or
  // band dropout on or off leaves the order of the batches as it was.
  const std::uint64_t epoch_seed = rng.next_u64();
  Rng order_rng = Rng::derive(epoch_seed, 0);
  EpochDraws draws{Rng::derive(epoch_seed, 1), Rng::derive(epoch_seed, 2)};
  for (Index i = rows - 1; i > 0; --i) std::swap(order_[i], order_[order_rng.below(std::uint64_t(i + 1))]);

  double sum = 0.0;
  Index batches = 0;
  const Index total = batches_per_epoch(rows, options_.batch_size);
  for (Index first = 0; first + 2 <= rows; first += options_.batch_size) {
    if (stop_requested(hooks)) return std::nullopt;
    const Index count = std::min(options_.batch_size, rows - first);
    const Batch& batch = gather(data, order_, first, count, &draws);
    sum += loss_.value(run_step_body(batch), targets(batch));
    const ScheduleValue s = schedule_.at(adam_.steps());
    adam_.step(s.lr, s.beta1);
    ++batches;
    if (hooks.batch_done) hooks.batch_done(batches, total);
  }
  return batches ? sum / double(batches) : 0.0;
}

template <class T>
double Trainer<T>::evaluate(const Dataset<T>& data) {
  const Index rows = data.rows();
  // Evaluation has no batch statistics: shard k takes batches k, k + K, ... and the shards add
  // their sums.
  const int shards = sharded() ? options_.shards->count() : 1, shard = sharded() ? options_.shards->index() : 0;
  double sum = 0.0;
  Index number = 0;  // of the batch
  for (Index first = 0; first < rows; first += options_.batch_size, ++number) {
    if (number % shards != shard) continue;
    const Index count = std::min(options_.batch_size, rows - first);
    const Batch& batch = gather(data, {}, first, count, nullptr);
    sum += double(count) * loss_.value(net_.forward(batch.x.view(), Mode::eval), targets(batch));
  }
  if (sharded()) options_.shards->sum(&sum, 1);
  return rows ? sum / double(rows) : 0.0;
}

template <class T>
void Trainer<T>::predict(ConstView<T> x, View<T> out) {
  forward_in_batches(net_, x, out, options_.batch_size);
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace nn
