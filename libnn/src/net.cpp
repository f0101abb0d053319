#include <algorithm>
#include <cmath>

#include "nn/net.h"

namespace nn {

template <class T>
Net<T>::Net(const NetSpec& spec)
    : spec_(spec),
      backbone_(spec.n_inputs, spec.backbone, Rng::derive(spec.seed, 1).next_u64()),
      heads_(backbone_.out_features(), spec.heads) {
  store_.bind(*this);
  Rng rng = Rng::derive(spec.seed, 0);
  reset_parameters(rng);
}

template <class T>
void Net<T>::reset_parameters(Rng& rng) {
  backbone_.reset_parameters(rng);
  heads_.reset_parameters(rng);
}

template <class T>
void Net<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  backbone_.visit(visitor, prefix);
  heads_.visit(visitor, prefix);
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
  return heads_.forward(backbone_.forward(x, mode), mode);
}

template <class T>
ConstView<T> Net<T>::backward(ConstView<T> dy) {
  if (dy.cols != out_features())
    throw Error(str("net backward: gradient has ", dy.cols, " columns, the net has ", out_features(), " outputs"));
  return backbone_.backward(heads_.backward(dy));
}

template <class T>
void forward_in_batches(Net<T>& net, ConstView<T> x, View<T> out, Index batch_size) {
  if (batch_size < 1) throw Error(str("forward_in_batches: batch_size ", batch_size, " must be positive"));
  for (Index first = 0; first < x.rows; first += batch_size) {
    const Index count = std::min(batch_size, x.rows - first);
    ops::copy<T>(net.forward(x.row_range(first, count), Mode::eval), out.row_range(first, count));
  }
}

template class Net<float>;
template class Net<double>;
template NN_API void forward_in_batches<float>(Net<float>&, ConstView<float>, View<float>, Index);
template NN_API void forward_in_batches<double>(Net<double>&, ConstView<double>, View<double>, Index);

}  // namespace nn
