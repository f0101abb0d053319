#pragma once
// One label's term of the uncertainty losses and its derivatives (DESIGN.md, "Uncertainties"),
// written once for both backends: kernels/cpu/loss.cpp calls them in its loops and
// kernels/cuda/loss.cuh in its column tiles. r = mu - y, s = log sigma^2 of the model, e2 the
// squared label error, all in the target's z-score units. In double, as the losses are summed.
#include <cmath>

#include "nn/ops.h"

#if defined(__CUDACC__)
#define NN_LIKELIHOOD_FUNCTION __host__ __device__ inline
#else
#define NN_LIKELIHOOD_FUNCTION inline
#endif

namespace nn {

// The variance is clamped below at kMinVariance, as torch.nn.GaussianNLLLoss clamps at its eps:
// a head that grows overconfident about one star would otherwise take its gradient r / v past
// float's range. The clamp passes the gradient on as if it were not there (PyTorch clamps under
// no_grad), and sits far below any real scatter: sigma = 0.001 z-score units.
inline constexpr double kMinVariance = 1e-6;

// gaussian: v = max(exp(s) + e2, kMinVariance), l = r^2 / (2 v) + log(v) / 2
// laplace:  b = sqrt(v / 2),                     l = |r| / b + log(2 b)
NN_LIKELIHOOD_FUNCTION double nll_term(Likelihood likelihood, double r, double s, double e2) {
  const double v = std::fmax(std::exp(s) + e2, kMinVariance);
  if (likelihood == Likelihood::gaussian) return r * r / (2.0 * v) + 0.5 * std::log(v);
  const double b = std::sqrt(0.5 * v);
  return std::abs(r) / b + std::log(2.0 * b);
}

// dl/dmu and dl/ds of nll_term:
// gaussian: dl/dmu = r / v, dl/ds = exp(s) / (2 v) (1 - r^2 / v)
// laplace:  dl/dmu = sign(r) / b (sign(0) = 0, as PyTorch), dl/ds = (1 / b - |r| / b^2) exp(s) / (4 b),
//           since db/ds = exp(s) / (4 b)
NN_LIKELIHOOD_FUNCTION void nll_term_gradient(Likelihood likelihood, double r, double s, double e2, double& dmu,
                                              double& ds) {
  const double variance = std::exp(s), v = std::fmax(variance + e2, kMinVariance);
  if (likelihood == Likelihood::gaussian) {
    dmu = r / v;
    ds = variance / (2.0 * v) * (1.0 - r * r / v);
    return;
  }
  const double b = std::sqrt(0.5 * v);
  dmu = double(r > 0.0) / b - double(r < 0.0) / b;
  ds = (1.0 / b - std::abs(r) / (b * b)) * variance / (4.0 * b);
}

}  // namespace nn

#undef NN_LIKELIHOOD_FUNCTION
