#include "nn/optim.h"

namespace nn {

template <class T>
Adam<T>::Adam(ParameterStore<T>& params, const AdamOptions& options) : params_(params), options_(options) {
  if (!(options.beta2 >= 0.0 && options.beta2 < 1.0)) throw Error(str("adam: beta2 ", options.beta2, " not in [0, 1)"));
  if (!(options.eps > 0.0)) throw Error(str("adam: eps ", options.eps, " must be positive"));
  if (!(options.weight_decay >= 0.0)) throw Error(str("adam: weight_decay ", options.weight_decay, " is negative"));
  m_.resize(1, params.size(), params.device());
  v_.resize(1, params.size(), params.device());
  m_.fill(T(0));
  v_.fill(T(0));
}

template <class T>
void Adam<T>::step(double lr, double beta1) {
  ++steps_;
  // The moments follow the parameters, keeping their values when the net moves.
  m_.move_to(params_.device());
  v_.move_to(params_.device());
  ops::adam_step<T>(params_.values(), params_.grads(), m_, v_,
                    AdamStep{lr, beta1, options_.beta2, options_.eps, options_.weight_decay, steps_});
}

template class Adam<float>;
template class Adam<double>;

}  // namespace nn
