#pragma once
// Adam (Kingma & Ba, bias-corrected) with optional decoupled weight decay (AdamW), over the
// contiguous parameter buffer of a net: one fused pass per step. The learning rate and
// beta1 of each step come from a schedule.
#include <cstdint>

#include "nn/module.h"
#include "nn/ops.h"

namespace nn {

struct AdamOptions {
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // > 0 gives AdamW
};

template <class T>
class Adam {
 public:
  Adam(ParameterStore<T>& params, const AdamOptions& options);
  // One update from the gradients in the store, with this step's lr and beta1.
  void step(double lr, double beta1);
  std::int64_t steps() const { return steps_; }

  // The optimiser state, for checkpoints that resume exactly.
  Tensor<T>& first_moment() { return m_; }
  Tensor<T>& second_moment() { return v_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

 private:
  ParameterStore<T>& params_;
  AdamOptions options_;
  Tensor<T> m_, v_;  // (1, number of parameters), the layout of the store
  std::int64_t steps_ = 0;
};

extern template class NN_API Adam<float>;
extern template class NN_API Adam<double>;

}  // namespace nn
