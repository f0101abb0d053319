#include <algorithm>
#include <cmath>

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
  if (x.device == Device::cpu) {
    // A NaN entering a batch-norm net spreads to every row of the batch: stop it at the door.
    for (Index i = 0; i < x.rows; ++i)
      for (Index j = 0; j < x.cols; ++j)
        if (!std::isfinite(x(i, j))) throw Error(str("net forward: input row ", i, ", column ", j, " is ", x(i, j)));
  }
  const ConstView<T> encoded = heads_.forward(backbone_->forward(x, mode), mode);
  return decoder_ ? decoder_->forward(x, encoded, mode) : encoded;
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
