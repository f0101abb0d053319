#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>

#include "bf16_products.h"
#include "nn/devices.h"
#include "nn/net.h"

namespace nn {

template <class T>
Net<T>::Net(const NetSpec& spec)
    : spec_(spec),
      backbone_(make_backbone<T>(spec.n_inputs, spec.backbone, Rng::derive(spec.seed, 1).next_u64())),
      heads_(backbone_->out_features(), spec.heads),
      decoder_(spec.decoder ? std::make_unique<BandDecoder<T>>(spec.n_inputs, spec.heads.n_targets, *spec.decoder,
                                                               Rng::derive(spec.seed, 2).next_u64())
                            : nullptr) {
  store_.bind(*this);
  Rng rng = Rng::derive(spec.seed, 0);
  reset_parameters(rng);
}

template <class T>
void Net<T>::reset_parameters(Rng& rng) {
  backbone_->reset_parameters(rng);
  heads_.reset_parameters(rng);
  if (decoder_) decoder_->reset_parameters(rng);
}

template <class T>
void Net<T>::to(Device device) {
  struct BufferMover final : ModuleVisitor<T> {
    Device device;
    explicit BufferMover(Device d) : device(d) {}
    void parameter(const std::string&, Param<T>&) override {}
    void buffer(const std::string&, Tensor<T>& buffer) override { buffer.move_to(device); }
  } mover(device);
  visit(mover, "");
  store_.move_to(device);
}

template <class T>
void Net<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  backbone_->visit(visitor, prefix);
  heads_.visit(visitor, prefix);
  if (decoder_) decoder_->visit(visitor, join_name(prefix, "decoder"));
}

template <class T>
ConstView<T> Net<T>::forward(ConstView<T> x, Mode mode) {
  if (x.rows <= 0) throw Error("net forward: the batch is empty (0 rows)");
  if (x.cols != in_features())
    throw Error(str("net forward: input has ", x.cols, " columns, the net expects ", in_features()));
  check_finite(x);
  if (mode == Mode::eval && x.device == Device::cpu && device() == Device::cpu && !omp_in_parallel()) {
    const int threads = omp_get_max_threads();
    if (threads > 1 && x.rows >= threads * kRowsPerReplica) return forward_on_threads(x, threads);
  }
  return forward_layers(x, mode);
}

template <class T>
void Net<T>::check_finite(ConstView<T> x) const {
  if (x.device != Device::cpu) return;
  // A NaN entering a batch-norm net spreads to every row of the batch: stop it at the door.
  for (Index i = 0; i < x.rows; ++i)
    for (Index j = 0; j < x.cols; ++j)
      if (!std::isfinite(x(i, j))) throw Error(str("net forward: input row ", i, ", column ", j, " is ", x(i, j)));
}

template <class T>
ConstView<T> Net<T>::forward_layers(ConstView<T> x, Mode mode) {
  const ConstView<T> encoded = heads_.forward(backbone_->forward(x, mode), mode);
  return decoder_ ? decoder_->forward(x, encoded, mode) : encoded;
}

namespace {

// The running statistics of a net, in visiting order.
template <class T>
std::vector<Tensor<T>*> buffers_of(Net<T>& net) {
  struct Buffers final : ModuleVisitor<T> {
    std::vector<Tensor<T>*> found;
    void parameter(const std::string&, Param<T>&) override {}
    void buffer(const std::string&, Tensor<T>& buffer) override { found.push_back(&buffer); }
  } buffers;
  net.visit(buffers, "");
  return buffers.found;
}

// dst's values where they differ from src's (both on the CPU, of one shape): a replica is
// rewritten only after its net changed, and its packed BF16 weights stay valid until then.
template <class T>
void copy_if_changed(ConstView<T> src, View<T> dst) {
  const std::size_t bytes = sizeof(T) * std::size_t(src.size());
  if (std::memcmp(src.data, dst.data, bytes) != 0) std::memcpy(dst.data, src.data, bytes);
}

}  // namespace

template <class T>
void Net<T>::update_replicas(int threads) {
  if (device() != Device::cpu) throw Error("net replicas: the net is not on the CPU");
  // The buffers are found once (visiting names them, which allocates): a training step on
  // threads calls this every step, and allocates nothing after the first.
  if (replicas_.empty()) buffers_ = buffers_of(*this);
  while (Index(replicas_.size()) < threads - 1) {
    replicas_.push_back(std::make_unique<Net<T>>(spec_));
    replicas_.back()->buffers_ = buffers_of(*replicas_.back());
  }
  for (int k = 0; k < threads - 1; ++k) {
    Net<T>& replica = *replicas_[std::size_t(k)];
    copy_if_changed<T>(store_.values(), replica.store_.values());
    for (std::size_t b = 0; b < buffers_.size(); ++b)
      copy_if_changed<T>(buffers_[b]->view(), replica.buffers_[b]->view());
  }
}

template <class T>
ConstView<T> Net<T>::forward_on_threads(ConstView<T> x, int threads) {
  update_replicas(threads);
  out_.resize(x.rows, out_features());
  // Products in BF16 on every thread where the caller asked for them on its own; the other
  // threads keep their packed weights for the next batch.
  struct WorkerBf16Scope {
    bool open;
    explicit WorkerBf16Scope(bool bf16) : open(bf16) {
      if (open) cpu::enter_bf16_products();
    }
    ~WorkerBf16Scope() {
      if (open) cpu::leave_bf16_products(true);
    }
  };
  const bool bf16 = cpu::bf16_products_active();
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    // The team may be smaller than asked for (OMP_DYNAMIC, a thread limit): each thread takes
    // blocks t, t + team, ..., on its own net.
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    try {
      const WorkerBf16Scope products(bf16 && t > 0);
      Net<T>& net = replica(t);
      for (int block = t; block < threads; block += team) {
        const Index first = x.rows * block / threads, count = x.rows * (block + 1) / threads - first;
        const ConstView<T> y = net.forward_layers(x.row_range(first, count), Mode::eval);
        for (Index i = 0; i < count; ++i) std::copy(y.row(i), y.row(i) + y.cols, out_.view().row(first + i));
      }
    } catch (...) {
#pragma omp critical(starnn_net_replicas)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out_;
}

template <class T>
ConstView<T> Net<T>::backward(ConstView<T> dy) {
  if (dy.cols != out_features())
    throw Error(str("net backward: gradient has ", dy.cols, " columns, the net has ", out_features(), " outputs"));
  const ConstView<T> dx = backbone_->backward(heads_.backward(decoder_ ? decoder_->backward(dy) : dy));
  return decoder_ ? decoder_->add_input_gradient(dx) : dx;
}

template <class T>
void forward_in_batches(Net<T>& net, ConstView<T> x, View<T> out, Index batch_size, Mode mode) {
  if (mode == Mode::train) throw Error("forward_in_batches: training mode would update the running statistics");
  if (batch_size < 1) throw Error(str("forward_in_batches: batch_size ", batch_size, " must be positive"));
  const Device device = net.device();
  Tensor<T> x_batch, out_batch;  // staging on the net's device for x and out that live elsewhere
  for (Index first = 0; first < x.rows; first += batch_size) {
    const Index count = std::min(batch_size, x.rows - first);
    ConstView<T> in = x.row_range(first, count);
    if (in.device != device) {
      x_batch.resize(count, x.cols, device);
      transfer<T>(in, x_batch.view());
      in = x_batch.view();
    }
    const ConstView<T> y = net.forward(in, mode);
    const View<T> dst = out.row_range(first, count);
    if (dst.device == device) {
      ops::copy<T>(y, dst);
    } else if (dst.contiguous()) {
      transfer<T>(y, dst);
    } else {
      out_batch.resize(count, y.cols, dst.device);
      transfer<T>(y, out_batch.view());
      ops::copy<T>(out_batch.view(), dst);
    }
  }
}

template class Net<float>;
template class Net<double>;
template NN_API void forward_in_batches<float>(Net<float>&, ConstView<float>, View<float>, Index, Mode);
template NN_API void forward_in_batches<double>(Net<double>&, ConstView<double>, View<double>, Index, Mode);

}  // namespace nn
