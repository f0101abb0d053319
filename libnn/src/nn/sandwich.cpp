// The sandwich backbone (thesis §4.3): features_scale widths, encoder and decoder levels of
// residual blocks, U-Net skips.
#include <cmath>

#include "nn/net.h"

namespace nn {

std::vector<Index> features_scale(Index n_init, Index n_max, Index depth) {
  if (n_init <= 0 || n_max < n_init || depth <= 0)
    throw Error(
        str("features_scale(", n_init, ", ", n_max, ", ", depth, "): needs 0 < n_init <= n_max and depth >= 1"));
  std::vector<Index> widths(depth);
  for (Index i = 0; i < depth; ++i) {
    const double t = depth == 1 ? 0.0 : double(i) / double(depth - 1);
    const double width = double(n_init) * std::pow(double(n_max) / double(n_init), t);
    widths[i] = Index(std::nearbyint(width / 8.0)) * 8;  // ties to even, as Python's round
    if (widths[i] <= 0)
      throw Error(
          str("features_scale(", n_init, ", ", n_max, ", ", depth, "): width ", i, " rounds to 0; use n_init >= 8"));
  }
  return widths;
}

template <class T>
Sandwich<T>::Sandwich(Index n_inputs, const BackboneSpec& spec, std::uint64_t dropout_seed)
    : widths_(features_scale(spec.n_init, spec.n_max, spec.depth)), skips_(spec.skips), stem_(n_inputs, widths_[0]) {
  const Index depth = spec.depth;
  auto make_level = [&](Index width, std::uint64_t label) {
    return Level{std::make_unique<ResDense<T>>(width, spec.block),
                 std::make_unique<Dropout<T>>(width, spec.dropout, Rng::derive(dropout_seed, label).next_u64())};
  };
  for (Index i = 0; i < depth; ++i) {
    enc_.push_back(make_level(widths_[i], std::uint64_t(i)));
    if (i + 1 < depth) down_.push_back(std::make_unique<Linear<T>>(widths_[i], widths_[i + 1]));
  }
  for (Index i = 0; i + 1 < depth; ++i) {
    up_.push_back(std::make_unique<Linear<T>>(widths_[i + 1], widths_[i]));
    dec_.push_back(make_level(widths_[i], std::uint64_t(depth + i)));
  }
  enc_out_.resize(depth);
  skip_grad_.resize(depth);
  skip_sum_.resize(depth);
}

template <class T>
void Sandwich<T>::reset_parameters(Rng& rng) {
  stem_.reset_parameters(rng);
  for (std::size_t i = 0; i < enc_.size(); ++i) {
    enc_[i].block->reset_parameters(rng);
    if (i < down_.size()) down_[i]->reset_parameters(rng);
  }
  for (std::size_t i = 0; i < dec_.size(); ++i) {
    up_[i]->reset_parameters(rng);
    dec_[i].block->reset_parameters(rng);
  }
}

template <class T>
void Sandwich<T>::visit(ModuleVisitor<T>& visitor, const std::string& prefix) {
  stem_.visit(visitor, join_name(prefix, "stem"));
  for (std::size_t i = 0; i < enc_.size(); ++i) {
    enc_[i].block->visit(visitor, join_name(prefix, str("enc.", i)));
    if (i < down_.size()) down_[i]->visit(visitor, join_name(prefix, str("down.", i)));
  }
  for (std::size_t i = 0; i < dec_.size(); ++i) {
    up_[i]->visit(visitor, join_name(prefix, str("up.", i)));
    dec_[i].block->visit(visitor, join_name(prefix, str("dec.", i)));
  }
}

template <class T>
void Sandwich<T>::set_dropout_draws(std::uint64_t draws) {
  for (auto* levels : {&enc_, &dec_})
    for (Level& level : *levels) level.dropout->set_draws(draws);
}

template <class T>
ConstView<T> Sandwich<T>::run_level(Level& level, ConstView<T> x, Mode mode) {
  return level.dropout->forward(level.block->forward(x, mode), mode);
}

template <class T>
ConstView<T> Sandwich<T>::back_level(Level& level, ConstView<T> dy) {
  return level.block->backward(level.dropout->backward(dy));
}

template <class T>
ConstView<T> Sandwich<T>::forward(ConstView<T> x, Mode mode) {
  const Index depth = Index(enc_.size());
  ConstView<T> h = stem_.forward(x, mode);
  for (Index i = 0; i < depth; ++i) {
    enc_out_[i] = run_level(enc_[i], h, mode);
    h = i + 1 < depth ? down_[i]->forward(enc_out_[i], mode) : enc_out_[i];
  }
  for (Index i = depth - 2; i >= 0; --i) {
    ConstView<T> u = up_[i]->forward(h, mode);
    if (skips_ == Skips::additive) {
      skip_sum_[i].resize(u.rows, u.cols, u.device);
      ops::add<T>(u, enc_out_[i], skip_sum_[i]);
      u = skip_sum_[i];
    }
    h = run_level(dec_[i], u, mode);
  }
  return h;
}

template <class T>
ConstView<T> Sandwich<T>::backward(ConstView<T> dy) {
  const Index depth = Index(enc_.size());
  // Decoder in reverse (level 0 ran last). With skips, the gradient reaching each decoder
  // input also reaches the encoder output it added; keep its view until the encoder needs it.
  ConstView<T> g = dy;
  for (Index i = 0; i + 1 < depth; ++i) {
    g = back_level(dec_[i], g);
    if (skips_ == Skips::additive) skip_grad_[i] = g;
    g = up_[i]->backward(g);
  }
  for (Index i = depth - 1; i >= 0; --i) {
    if (i + 1 < depth) {
      g = down_[i]->backward(g);
      if (skips_ == Skips::additive) {
        grad_sum_.resize(g.rows, g.cols, g.device);
        ops::add<T>(g, skip_grad_[i], grad_sum_);
        g = grad_sum_;
      }
    }
    g = back_level(enc_[i], g);
  }
  return stem_.backward(g);
}

template class Sandwich<float>;
template class Sandwich<double>;

}  // namespace nn
