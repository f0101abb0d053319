#include "nn/blocks.h"

namespace nn {

const char* to_string(BlockType type) { return type == BlockType::resdense ? "ResDense" : "AResDense"; }

template <class T>
ResDense<T>::ResDense(Index features, BlockType type)
    : bn1(features), relu1(features), l1(features, features), bn2(features), relu2(features), l2(features, features) {
  if (type == BlockType::aresdense) att.emplace(features);
}

template <class T>
void ResDense<T>::reset_parameters(Rng& rng) {
  bn1.reset_parameters(rng);
  l1.reset_parameters(rng);
  bn2.reset_parameters(rng);
  l2.reset_parameters(rng);
  if (att) att->reset_parameters(rng);
}

template <class T>
void ResDense<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  bn1.visit(visitor, join_name(prefix, "bn1"));
  l1.visit(visitor, join_name(prefix, "l1"));
  bn2.visit(visitor, join_name(prefix, "bn2"));
  l2.visit(visitor, join_name(prefix, "l2"));
  if (att) att->visit(visitor, join_name(prefix, "att"));
}

template <class T>
ConstView<T> ResDense<T>::forward(ConstView<T> x, Mode mode) {
  x_ = x;
  ConstView<T> h = bn1.forward(x, mode);
  h = relu1.forward(h, mode);
  h = l1.forward(h, mode);
  h = bn2.forward(h, mode);
  h = relu2.forward(h, mode);
  h = l2.forward(h, mode);
  if (att) h = att->forward(h, mode);
  out_.resize(x.rows, x.cols);
  ops::add<T>(x, h, out_);
  return out_;
}

template <class T>
ConstView<T> ResDense<T>::backward(ConstView<T> dy) {
  // dy reaches x through the identity and through the branch; the two add.
  ConstView<T> g = att ? att->backward(dy) : dy;
  g = l2.backward(g);
  g = relu2.backward(g);
  g = bn2.backward(g);
  g = l1.backward(g);
  g = relu1.backward(g);
  g = bn1.backward(g);
  dx_.resize(x_.rows, x_.cols);
  ops::add<T>(dy, g, dx_);
  return dx_;
}

template class ResDense<float>;
template class ResDense<double>;

}  // namespace nn
