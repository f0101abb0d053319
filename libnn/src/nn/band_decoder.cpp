// The auto-encoder's decoder (thesis §6): a backbone from the photometry and the predicted
// labels to the one band the encoder does without.
#include "nn/net.h"

namespace nn {

template <class T>
BandDecoder<T>::BandDecoder(Index n_inputs, Index n_labels, const BackboneSpec& spec, std::uint64_t dropout_seed)
    : n_inputs_(n_inputs),
      n_labels_(n_labels),
      backbone_(make_backbone<T>(n_inputs + n_labels, spec, dropout_seed)),
      head_(backbone_->out_features(), 1) {}

template <class T>
void BandDecoder<T>::reset_parameters(Rng& rng) {
  backbone_->reset_parameters(rng);
  head_.reset_parameters(rng);
}

template <class T>
void BandDecoder<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  backbone_->visit(visitor, prefix);
  head_.visit(visitor, join_name(prefix, "head"));
}

template <class T>
ConstView<T> BandDecoder<T>::forward(ConstView<T> x, ConstView<T> encoded, Mode mode) {
  // in_ = [x | labels]; out_ = [labels | band | what follows the labels (the logit)].
  const Index rows = x.rows, rest = encoded.cols - n_labels_;
  in_.resize(rows, n_inputs_ + n_labels_, x.device);
  View<T> in = in_.view();
  ops::copy<T>(x, in.col_range(0, n_inputs_));
  ops::copy<T>(encoded.col_range(0, n_labels_), in.col_range(n_inputs_, n_labels_));
  const ConstView<T> band = head_.forward(backbone_->forward(in, mode), mode);
  out_.resize(rows, encoded.cols + 1, x.device);
  View<T> out = out_.view();
  ops::copy<T>(encoded.col_range(0, n_labels_), out.col_range(0, n_labels_));
  ops::copy<T>(band, out.col_range(n_labels_, 1));
  if (rest > 0) ops::copy<T>(encoded.col_range(n_labels_, rest), out.col_range(n_labels_ + 1, rest));
  return out_;
}

template <class T>
ConstView<T> BandDecoder<T>::backward(ConstView<T> dy) {
  // The labels reach the output and the decoder's input: their gradient is the sum of both.
  const Index rows = dy.rows, rest = dy.cols - n_labels_ - 1;
  din_ = backbone_->backward(head_.backward(dy.col_range(n_labels_, 1)));
  dencoded_.resize(rows, n_labels_ + rest, dy.device);
  View<T> dencoded = dencoded_.view();
  ops::add<T>(dy.col_range(0, n_labels_), din_.col_range(n_inputs_, n_labels_), dencoded.col_range(0, n_labels_));
  if (rest > 0) ops::copy<T>(dy.col_range(n_labels_ + 1, rest), dencoded.col_range(n_labels_, rest));
  return dencoded_;
}

template <class T>
ConstView<T> BandDecoder<T>::add_input_gradient(ConstView<T> dx_encoder) {
  dx_.resize(dx_encoder.rows, n_inputs_, dx_encoder.device);
  ops::add<T>(dx_encoder, din_.col_range(0, n_inputs_), dx_);
  return dx_;
}

template class BandDecoder<float>;
template class BandDecoder<double>;

}  // namespace nn
