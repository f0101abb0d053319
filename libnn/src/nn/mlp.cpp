// The multilayer perceptron backbone, the thesis's first nets (§3): hidden Linear layers, each
// followed by ReLU and Dropout, laid out and named as PyTorch's nn.Sequential of them. The
// Linear and its ReLU run as one op, so the ReLU has no module, only its place in the names.
#include "nn/net.h"

namespace nn {

template <class T>
Mlp<T>::Mlp(Index n_inputs, const BackboneSpec& spec, std::uint64_t dropout_seed)
    : widths_(spec.hidden_widths), sequential_stride_(spec.dropout > 0.0 ? 3 : 2) {
  if (widths_.empty()) throw Error("Mlp: needs at least one hidden width");
  Index in = n_inputs;
  for (std::size_t i = 0; i < widths_.size(); ++i) {
    const Index width = widths_[i];
    if (width <= 0) throw Error(str("Mlp: hidden width ", i, " is ", width, "; widths must be positive"));
    layers_.push_back(
        {LinearParams<T>(in, width),
         std::make_unique<Dropout<T>>(width, spec.dropout, Rng::derive(dropout_seed, std::uint64_t(i)).next_u64())});
    in = width;
  }
}

template <class T>
void Mlp<T>::reset_parameters(Rng& rng) {
  for (Layer& layer : layers_) layer.linear.reset_parameters(rng);
}

template <class T>
void Mlp<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  // ReLU and Dropout hold no parameters, but take their places in the Sequential's numbering.
  for (std::size_t i = 0; i < layers_.size(); ++i)
    layers_[i].linear.visit(visitor, join_name(prefix, str("mlp.", Index(i) * sequential_stride_)));
}

template <class T>
void Mlp<T>::set_dropout_draws(std::uint64_t draws) {
  for (Layer& layer : layers_) layer.dropout->set_draws(draws);
}

template <class T>
ConstView<T> Mlp<T>::forward(ConstView<T> x, Mode mode) {
  ConstView<T> h = x;
  for (Layer& layer : layers_) {
    const LinearParams<T>& linear = layer.linear;
    layer.x = h;
    layer.h.resize(h.rows, linear.out_features(), h.device);
    ops::linear_relu_forward<T>(h, linear.weight.value, linear.bias.value, layer.h);
    h = layer.dropout->forward(layer.h, mode);
  }
  return h;
}

template <class T>
ConstView<T> Mlp<T>::backward(ConstView<T> dy) {
  ConstView<T> g = dy;
  for (auto layer = layers_.rbegin(); layer != layers_.rend(); ++layer) {
    LinearParams<T>& linear = layer->linear;
    const ConstView<T> dh = layer->dropout->backward(g);
    layer->dz.resize(dh.rows, dh.cols, dh.device);
    ops::relu_backward<T>(layer->h, dh, layer->dz);
    layer->dx.resize(layer->x.rows, layer->x.cols, layer->x.device);
    ops::linear_backward<T>(layer->x, linear.weight.value, layer->dz, layer->dx, GradWrite::overwrite,
                            linear.weight.grad, linear.bias.grad);
    g = layer->dx;
  }
  return g;
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace nn
