// Adam(W) on the CPU: one fused pass over the contiguous parameter buffer.
#include <cmath>

#include "backend.h"
#include "parallel.h"

namespace nn::cpu {
namespace {

template <class T>
void adam_step(View<T> params, ConstView<T> grads, View<T> m, View<T> v, const AdamStep& step) {
  // As torch.optim.Adam/AdamW: bias corrections use the beta1 of this step, so a one-cycle
  // beta1 schedule behaves as it does there.
  const T beta1 = T(step.beta1), beta2 = T(step.beta2);
  const T bias1 = T(1 - std::pow(step.beta1, double(step.step)));
  const T sqrt_bias2 = T(std::sqrt(1 - std::pow(step.beta2, double(step.step))));
  const T step_size = T(step.lr) / bias1;
  const T decay = T(1 - step.lr * step.weight_decay);
  const T eps = T(step.eps);
  T* p = params.data;
  const T* g = grads.data;
  T* mm = m.data;
  T* vv = v.data;
  const Index n = params.size();
  // "if (parallel: ...)": an unmodified if clause on a combined construct applies to its simd part
  // too (OpenMP 5.0), and a false one there makes the loop scalar exactly when it runs on one thread.
#pragma omp parallel for simd schedule(static) if (parallel : worth_threads(n))
  for (Index k = 0; k < n; ++k) {
    mm[k] = beta1 * mm[k] + (T(1) - beta1) * g[k];
    vv[k] = beta2 * vv[k] + (T(1) - beta2) * g[k] * g[k];
    p[k] = p[k] * decay - step_size * mm[k] / (std::sqrt(vv[k]) / sqrt_bias2 + eps);
  }
}

}  // namespace

template <class T>
void fill_adam_ops(OpTable<T>& table) {
  table.adam_step = adam_step<T>;
}
template void fill_adam_ops(OpTable<float>&);
template void fill_adam_ops(OpTable<double>&);

}  // namespace nn::cpu
