#pragma once
// The ops: every computation of the library, declared once over views.
//
// nn::ops::op is the checked entry point that layers call: it validates shapes and devices
// (throwing nn::Error) and dispatches through the op table (nn/op_table.h) of the device of its
// arguments. Each backend fills one such table with its unchecked implementations.
//
// Shapes: B rows (stars), features in columns. Bias and per-feature vectors are (1, d).
// "accumulates" means the op adds into that output; every other output is overwritten.
#include <cstdint>

#include "nn/tensor.h"

namespace nn {

enum class GradWrite { overwrite, accumulate };

// The scatter an uncertainty head predicts (DESIGN.md, "Uncertainties"): its output s is
// log sigma^2 either way.
enum class Likelihood { gaussian, laplace };

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
};

struct AdamStep {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // decoupled (AdamW); 0 gives Adam
  std::int64_t step = 1;      // 1-based, for the bias corrections
};

namespace ops {

// y (B, out) = x (B, in) W^T (out, in) + b (1, out)
template <class T>
void linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y);
// dx (B, in) = dy W (written as dx_write says; skipped when dx is empty);
// dw (out, in) += dy^T x; db (1, out) += column sums of dy
template <class T>
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db);
// y (B, out) = max(x W^T + b, 0): a Linear and the ReLU after it in one op; a NaN passes
// through, as in relu_forward. Backward needs no op of its own: relu_backward with y as the
// saved output, then linear_backward.
template <class T>
void linear_relu_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y);

// Training mode: batch mean and biased variance normalise; saves mean and invstd (1, d);
// updates the running statistics with the unbiased variance. Needs B >= 2.
template <class T>
void batchnorm_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var);
template <class T>
void batchnorm_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y);
// dx = gamma invstd / B (B dy - sum dy - xhat sum(dy xhat)); dgamma += sum dy xhat;
// dbeta += sum dy (sums over the batch)
template <class T>
void batchnorm_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma, ConstView<T> dy,
                        View<T> dx, View<T> dgamma, View<T> dbeta);

// y = max(x, 0) (y may be x); dx = dy where y > 0 (dx may be dy)
template <class T>
void relu_forward(ConstView<T> x, View<T> y);
template <class T>
void relu_backward(ConstView<T> y, ConstView<T> dy, View<T> dx);

// The residual blocks' fused ops (kernels/README.md, "Fused ResDense"). BatchNorm1d then
// ReLU in one op that writes y = max(BN(x), 0), the next Linear's input: it saves mean and
// invstd as batchnorm_forward_train does; the backward recomputes the ReLU's mask from x.
template <class T>
void batchnorm_relu_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta,
                                  const BatchNormOptions& options, View<T> y, View<T> mean, View<T> invstd,
                                  View<T> running_mean, View<T> running_var);
template <class T>
void batchnorm_relu_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                                 ConstView<T> running_var, const BatchNormOptions& options, View<T> y);
// With g = dy where gamma xhat + beta > 0 (the forward's pre-activation, recomputed from x
// the way the forward rounds it, so neither its output nor a mask is read), else 0:
// dx = residual + gamma invstd / B (B g - sum g - xhat sum(g xhat));
// dgamma += sum g xhat; dbeta += sum g. An empty residual adds nothing; a block passes its
// own dy, the skip connection's gradient. dx may be dy or residual.
template <class T>
void batchnorm_relu_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma,
                             ConstView<T> beta, ConstView<T> dy, ConstView<T> residual, View<T> dx, View<T> dgamma,
                             View<T> dbeta);
// y (B, out) = residual (B, out) + x (B, in) W^T + b: the skip connection added by the
// GEMM (beta = 1). y may be residual.
template <class T>
void linear_residual_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, ConstView<T> residual, View<T> y);
// An evaluation-mode BatchNorm1d after a Linear, folded into it: with
// s = gamma / sqrt(running_var + eps), w_folded = diag(s) w and b_folded = BN_eval(b)
// = b s + beta - running_mean s, so x w_folded^T + b_folded = BN_eval(x w^T + b).
// w, w_folded are (out, in); the rest (1, out).
template <class T>
void batchnorm_fold_into_linear(ConstView<T> w, ConstView<T> b, ConstView<T> gamma, ConstView<T> beta,
                                ConstView<T> running_mean, ConstView<T> running_var, const BatchNormOptions& options,
                                View<T> w_folded, View<T> b_folded);

// Inverted dropout: mask = 1/(1-p) with probability 1-p, else 0; y = x mask. The mask of
// element (i, j) is a hash of (seed, i * cols + j), so every backend draws the same one.
template <class T>
void dropout_forward(ConstView<T> x, double p, std::uint64_t seed, View<T> mask, View<T> y);
// dx = dy mask (also the backward of any elementwise scaling)
template <class T>
void multiply(ConstView<T> a, ConstView<T> b, View<T> out);

// Feature attention in one pass over each row: a = softmax of the row of z (saved for the
// backward), y = residual + d a (.) h with d = number of columns. An empty residual adds
// nothing; AResDense passes its skip input, so the block's sum needs no pass of its own.
// y may be residual.
template <class T>
void attention_forward(ConstView<T> z, ConstView<T> h, ConstView<T> residual, View<T> a, View<T> y);
// dh = d a (.) dy (the direct path, overwritten); dz = a (.) (g - sum_j a_j g_j) with g = d h (.) dy,
// the gradient of the softmax logits
template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz);

// dst = src (same shape, any strides)
template <class T>
void copy(ConstView<T> src, View<T> dst);
// every element of dst = value
template <class T>
void fill(View<T> dst, T value);
// out = a + b (out may be a or b)
template <class T>
void add(ConstView<T> a, ConstView<T> b, View<T> out);

// L = sum_t w_t sum_i m_it |yhat_it - y_it| / s_it / sum_i m_it; a target without labels in
// the batch adds 0. yhat, y, s, mask are (B, T); w is (1, T).
template <class T>
double weighted_l1_loss(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w);
template <class T>
void weighted_l1_backward(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w,
                          View<T> dyhat);
// The negative log-likelihood of labels y under predictions (mu, s = log sigma^2) with label
// errors e (0 where a label has none), all in the targets' z-score units:
//   L = sum_t w_t sum_i m_it l(mu_it - y_it, s_it, e_it) / sum_i m_it, a target without labels
//   adding 0, with (kernels/common/likelihood.h)
//   gaussian  v = max(exp(s) + e^2, 1e-6),  l = r^2 / (2 v) + log(v) / 2
//   laplace   b^2 = v / 2,                   l = |r| / b + log(2 b)
//   (the floor is torch.nn.GaussianNLLLoss's eps; gradients pass it unchanged, as in PyTorch)
// mu, s, y, e, mask are (B, T); w is (1, T). The backward overwrites dmu and ds (B, T), 0 where
// a label is missing.
template <class T>
double nll_loss(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                ConstView<T> mask, ConstView<T> w);
template <class T>
void nll_backward(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                  ConstView<T> mask, ConstView<T> w, View<T> dmu, View<T> ds);
// Mean over labelled rows (t not NaN) of max(z, 0) - z t + log(1 + exp(-|z|)), finite for any
// z; 0 without labels. z, t are (B, 1); masked rows get dz = 0.
template <class T>
double bce_with_logits_loss(ConstView<T> z, ConstView<T> t);
template <class T>
void bce_with_logits_backward(ConstView<T> z, ConstView<T> t, View<T> dz);

// One Adam(W) step over a whole buffer: params, grads, m, v are (1, n) of the same layout
template <class T>
void adam_step(View<T> params, ConstView<T> grads, View<T> m, View<T> v, const AdamStep& step);

}  // namespace ops

}  // namespace nn
