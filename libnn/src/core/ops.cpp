// The checked entry points of the ops: validate shapes and devices, then dispatch through the
// op table of the arguments' device.
#include "nn/ops.h"

#include <cmath>
#include <tuple>

#include "nn/op_table.h"

#if defined(STARNN_WITH_CUDA)
#include "cuda_backend.h"
#endif

namespace nn::ops {
namespace {

template <class T>
void expect_shape(const View<T>& v, Index rows, Index cols, const char* op, const char* name) {
  if (v.rows != rows || v.cols != cols)
    throw Error(str(op, ": ", name, " is (", v.rows, ", ", v.cols, "), expected (", rows, ", ", cols, ")"));
  if (v.cols > 0 && v.data == nullptr) throw Error(str(op, ": ", name, " has no data"));
}

template <class T>
void expect_batch(const View<T>& x, const char* op) {
  if (x.rows <= 0) throw Error(str(op, ": the batch is empty (0 rows)"));
}

// The device all arguments share; CPU is the only backend of a build without CUDA.
template <class... Views>
Device common_device(const char* op, const Views&... views) {
  const Device first = std::get<0>(std::forward_as_tuple(views...)).device;
  if (((views.device != first) || ...)) throw Error(str(op, ": arguments live on different devices"));
#if !defined(STARNN_WITH_CUDA)
  if (first != Device::cpu) throw Error(str(op, ": no ", to_string(first), " backend in this build of starnn"));
#endif
  return first;
}

// An optional operand (a residual): empty is "none", wherever its default view says it lives;
// otherwise it has the shape and device of the others.
template <class T>
void expect_optional(const View<T>& v, Index rows, Index cols, Device device, const char* op, const char* name) {
  if (v.empty()) return;
  expect_shape(v, rows, cols, op, name);
  if (v.device != device) throw Error(str(op, ": arguments live on different devices"));
}

// The table of the backend of `device`. The CUDA backend also refuses any view, output or
// empty-or-not, that is not on the GPU.
template <class T>
const OpTable<T>& backend(Device device) {
#if defined(STARNN_WITH_CUDA)
  if (device == Device::cuda) return cuda::op_table<T>();
#else
  (void)device;
#endif
  return cpu::op_table<T>();
}

// Calls the op of the backend of `device` (an expression, so losses return its value).
#define NN_DISPATCH(device, call) (backend<T>(device).call)

}  // namespace

// The operands of every Linear forward op: x (B, in), weight (out, in), bias (1, out), y (B, out).
template <class T>
void expect_linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y, const char* op) {
  expect_batch(x, op);
  expect_shape(w, w.rows, x.cols, op, "weight");
  expect_shape(b, 1, w.rows, op, "bias");
  expect_shape(y, x.rows, w.rows, op, "output");
}

template <class T>
void linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  expect_linear_forward(x, w, b, y, "linear_forward");
  const Device device = common_device("linear_forward", x, w, b, y);
  NN_DISPATCH(device, linear_forward(x, w, b, y));
}

template <class T>
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db) {
  expect_batch(x, "linear_backward");
  expect_shape(dy, x.rows, w.rows, "linear_backward", "output gradient");
  expect_shape(dw, w.rows, w.cols, "linear_backward", "weight gradient");
  expect_shape(db, 1, w.rows, "linear_backward", "bias gradient");
  if (!dx.empty()) expect_shape(dx, x.rows, x.cols, "linear_backward", "input gradient");
  const Device device = common_device("linear_backward", x, w, dy, dw, db);
  NN_DISPATCH(device, linear_backward(x, w, dy, dx, dx_write, dw, db));
}

template <class T>
void linear_relu_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y) {
  const char* op = "linear_relu_forward";
  expect_linear_forward(x, w, b, y, op);
  const Device device = common_device(op, x, w, b, y);
  NN_DISPATCH(device, linear_relu_forward(x, w, b, y));
}

template <class T>
void batchnorm_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var) {
  if (x.rows < 2) throw Error(str("batchnorm_forward_train: a training batch needs at least 2 rows, got ", x.rows));
  const Index d = x.cols;
  for (auto* v : {&gamma, &beta}) expect_shape(*v, 1, d, "batchnorm_forward_train", "gamma/beta");
  for (auto* v : {&mean, &invstd, &running_mean, &running_var})
    expect_shape(*v, 1, d, "batchnorm_forward_train", "statistics");
  expect_shape(y, x.rows, d, "batchnorm_forward_train", "output");
  const Device device =
      common_device("batchnorm_forward_train", x, gamma, beta, y, mean, invstd, running_mean, running_var);
  NN_DISPATCH(device, batchnorm_forward_train(x, gamma, beta, options, y, mean, invstd, running_mean, running_var));
}

template <class T>
void batchnorm_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  expect_batch(x, "batchnorm_forward_eval");
  const Index d = x.cols;
  for (auto* v : {&gamma, &beta, &running_mean, &running_var})
    expect_shape(*v, 1, d, "batchnorm_forward_eval", "per-feature vector");
  expect_shape(y, x.rows, d, "batchnorm_forward_eval", "output");
  const Device device = common_device("batchnorm_forward_eval", x, gamma, beta, running_mean, running_var, y);
  NN_DISPATCH(device, batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, options, y));
}

template <class T>
void batchnorm_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma, ConstView<T> dy,
                        View<T> dx, View<T> dgamma, View<T> dbeta) {
  expect_batch(x, "batchnorm_backward");
  const Index d = x.cols;
  for (auto* v : {&mean, &invstd, &gamma}) expect_shape(*v, 1, d, "batchnorm_backward", "per-feature vector");
  expect_shape(dgamma, 1, d, "batchnorm_backward", "gamma gradient");
  expect_shape(dbeta, 1, d, "batchnorm_backward", "beta gradient");
  expect_shape(dy, x.rows, d, "batchnorm_backward", "output gradient");
  expect_shape(dx, x.rows, d, "batchnorm_backward", "input gradient");
  const Device device = common_device("batchnorm_backward", x, mean, invstd, gamma, dy, dx, dgamma, dbeta);
  NN_DISPATCH(device, batchnorm_backward(x, mean, invstd, gamma, dy, dx, dgamma, dbeta));
}

template <class T>
void relu_forward(ConstView<T> x, View<T> y) {
  expect_shape(y, x.rows, x.cols, "relu_forward", "output");
  const Device device = common_device("relu_forward", x, y);
  NN_DISPATCH(device, relu_forward(x, y));
}

template <class T>
void relu_backward(ConstView<T> y, ConstView<T> dy, View<T> dx) {
  expect_shape(dy, y.rows, y.cols, "relu_backward", "output gradient");
  expect_shape(dx, y.rows, y.cols, "relu_backward", "input gradient");
  const Device device = common_device("relu_backward", y, dy, dx);
  NN_DISPATCH(device, relu_backward(y, dy, dx));
}

template <class T>
void batchnorm_relu_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta,
                                  const BatchNormOptions& options, View<T> y, View<T> mean, View<T> invstd,
                                  View<T> running_mean, View<T> running_var) {
  const char* op = "batchnorm_relu_forward_train";
  if (x.rows < 2) throw Error(str(op, ": a training batch needs at least 2 rows, got ", x.rows));
  const Index d = x.cols;
  for (auto* v : {&gamma, &beta}) expect_shape(*v, 1, d, op, "gamma/beta");
  for (auto* v : {&mean, &invstd, &running_mean, &running_var}) expect_shape(*v, 1, d, op, "statistics");
  expect_shape(y, x.rows, d, op, "output");
  const Device device = common_device(op, x, gamma, beta, y, mean, invstd, running_mean, running_var);
  NN_DISPATCH(device,
              batchnorm_relu_forward_train(x, gamma, beta, options, y, mean, invstd, running_mean, running_var));
}

template <class T>
void batchnorm_relu_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                                 ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  const char* op = "batchnorm_relu_forward_eval";
  expect_batch(x, op);
  for (auto* v : {&gamma, &beta, &running_mean, &running_var}) expect_shape(*v, 1, x.cols, op, "per-feature vector");
  expect_shape(y, x.rows, x.cols, op, "output");
  const Device device = common_device(op, x, gamma, beta, running_mean, running_var, y);
  NN_DISPATCH(device, batchnorm_relu_forward_eval(x, gamma, beta, running_mean, running_var, options, y));
}

template <class T>
void batchnorm_relu_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma,
                             ConstView<T> beta, ConstView<T> dy, ConstView<T> residual, View<T> dx, View<T> dgamma,
                             View<T> dbeta) {
  const char* op = "batchnorm_relu_backward";
  expect_batch(x, op);
  const Index d = x.cols;
  for (auto* v : {&mean, &invstd, &gamma, &beta}) expect_shape(*v, 1, d, op, "per-feature vector");
  expect_shape(dgamma, 1, d, op, "gamma gradient");
  expect_shape(dbeta, 1, d, op, "beta gradient");
  expect_shape(dy, x.rows, d, op, "output gradient");
  expect_shape(dx, x.rows, d, op, "input gradient");
  const Device device = common_device(op, x, mean, invstd, gamma, beta, dy, dx, dgamma, dbeta);
  expect_optional(residual, x.rows, d, device, op, "residual gradient");
  NN_DISPATCH(device, batchnorm_relu_backward(x, mean, invstd, gamma, beta, dy, residual, dx, dgamma, dbeta));
}

template <class T>
void linear_residual_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, ConstView<T> residual, View<T> y) {
  const char* op = "linear_residual_forward";
  expect_linear_forward(x, w, b, y, op);
  expect_shape(residual, x.rows, w.rows, op, "residual");
  const Device device = common_device(op, x, w, b, residual, y);
  NN_DISPATCH(device, linear_residual_forward(x, w, b, residual, y));
}

template <class T>
void batchnorm_fold_into_linear(ConstView<T> w, ConstView<T> b, ConstView<T> gamma, ConstView<T> beta,
                                ConstView<T> running_mean, ConstView<T> running_var, const BatchNormOptions& options,
                                View<T> w_folded, View<T> b_folded) {
  const char* op = "batchnorm_fold_into_linear";
  if (w.empty()) throw Error(str(op, ": the weight is empty (", w.rows, ", ", w.cols, ")"));
  expect_shape(b, 1, w.rows, op, "bias");
  for (auto* v : {&gamma, &beta, &running_mean, &running_var})
    expect_shape(*v, 1, w.rows, op, "BatchNorm per-feature vector (one per Linear output)");
  expect_shape(w_folded, w.rows, w.cols, op, "folded weight");
  expect_shape(b_folded, 1, w.rows, op, "folded bias");
  const Device device = common_device(op, w, b, gamma, beta, running_mean, running_var, w_folded, b_folded);
  NN_DISPATCH(device,
              batchnorm_fold_into_linear(w, b, gamma, beta, running_mean, running_var, options, w_folded, b_folded));
}

template <class T>
void dropout_forward(ConstView<T> x, double p, std::uint64_t seed, View<T> mask, View<T> y) {
  if (!(p >= 0.0 && p < 1.0)) throw Error(str("dropout_forward: probability ", p, " is outside [0, 1)"));
  expect_shape(mask, x.rows, x.cols, "dropout_forward", "mask");
  expect_shape(y, x.rows, x.cols, "dropout_forward", "output");
  const Device device = common_device("dropout_forward", x, mask, y);
  NN_DISPATCH(device, dropout_forward(x, p, seed, mask, y));
}

template <class T>
void multiply(ConstView<T> a, ConstView<T> b, View<T> out) {
  expect_shape(b, a.rows, a.cols, "multiply", "second operand");
  expect_shape(out, a.rows, a.cols, "multiply", "output");
  const Device device = common_device("multiply", a, b, out);
  NN_DISPATCH(device, multiply(a, b, out));
}

template <class T>
void attention_forward(ConstView<T> z, ConstView<T> h, ConstView<T> residual, View<T> a, View<T> y) {
  const char* op = "attention_forward";
  expect_shape(h, z.rows, z.cols, op, "input");
  expect_shape(a, z.rows, z.cols, op, "attention weights");
  expect_shape(y, z.rows, z.cols, op, "output");
  const Device device = common_device(op, z, h, a, y);
  expect_optional(residual, z.rows, z.cols, device, op, "residual");
  NN_DISPATCH(device, attention_forward(z, h, residual, a, y));
}

template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz) {
  for (auto* v : {&a, &dy}) expect_shape(*v, h.rows, h.cols, "attention_backward", "input");
  for (auto* v : {&dh, &dz}) expect_shape(*v, h.rows, h.cols, "attention_backward", "gradient");
  const Device device = common_device("attention_backward", h, a, dy, dh, dz);
  NN_DISPATCH(device, attention_backward(h, a, dy, dh, dz));
}

template <class T>
void copy(ConstView<T> src, View<T> dst) {
  expect_shape(dst, src.rows, src.cols, "copy", "destination");
  const Device device = common_device("copy", src, dst);
  NN_DISPATCH(device, copy(src, dst));
}

template <class T>
void fill(View<T> dst, T value) {
  const Device device = common_device("fill", dst);
  NN_DISPATCH(device, fill(dst, value));
}

template <class T>
void add(ConstView<T> a, ConstView<T> b, View<T> out) {
  expect_shape(b, a.rows, a.cols, "add", "second operand");
  expect_shape(out, a.rows, a.cols, "add", "output");
  const Device device = common_device("add", a, b, out);
  NN_DISPATCH(device, add(a, b, out));
}

namespace {
// Returns the device of the arguments.
template <class T>
Device expect_loss_shapes(const char* op, ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask,
                          ConstView<T> w, const char* s_name = "label scales") {
  expect_batch(yhat, op);
  expect_shape(y, yhat.rows, yhat.cols, op, "labels");
  expect_shape(s, yhat.rows, yhat.cols, op, s_name);
  expect_shape(mask, yhat.rows, yhat.cols, op, "label mask");
  expect_shape(w, 1, yhat.cols, op, "target weights");
  return common_device(op, yhat, y, s, mask, w);
}
}  // namespace

template <class T>
double weighted_l1_loss(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w) {
  const Device device = expect_loss_shapes("weighted_l1_loss", yhat, y, s, mask, w);
  return NN_DISPATCH(device, weighted_l1_loss(yhat, y, s, mask, w));
}

template <class T>
void weighted_l1_backward(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w,
                          View<T> dyhat) {
  const Device device = expect_loss_shapes("weighted_l1_backward", yhat, y, s, mask, w);
  expect_shape(dyhat, yhat.rows, yhat.cols, "weighted_l1_backward", "prediction gradient");
  NN_DISPATCH(device, weighted_l1_backward(yhat, y, s, mask, w, dyhat));
}

template <class T>
double nll_loss(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                ConstView<T> mask, ConstView<T> w) {
  const Device device = expect_loss_shapes("nll_loss", mu, y, e, mask, w, "label errors");
  expect_shape(s, mu.rows, mu.cols, "nll_loss", "log variances");
  common_device("nll_loss", mu, s);
  return NN_DISPATCH(device, nll_loss(likelihood, mu, s, y, e, mask, w));
}

template <class T>
void nll_backward(Likelihood likelihood, ConstView<T> mu, ConstView<T> s, ConstView<T> y, ConstView<T> e,
                  ConstView<T> mask, ConstView<T> w, View<T> dmu, View<T> ds) {
  const Device device = expect_loss_shapes("nll_backward", mu, y, e, mask, w, "label errors");
  expect_shape(s, mu.rows, mu.cols, "nll_backward", "log variances");
  expect_shape(dmu, mu.rows, mu.cols, "nll_backward", "mean gradient");
  expect_shape(ds, mu.rows, mu.cols, "nll_backward", "log-variance gradient");
  common_device("nll_backward", mu, s, dmu, ds);
  NN_DISPATCH(device, nll_backward(likelihood, mu, s, y, e, mask, w, dmu, ds));
}

template <class T>
double bce_with_logits_loss(ConstView<T> z, ConstView<T> t) {
  expect_batch(z, "bce_with_logits_loss");
  expect_shape(z, z.rows, 1, "bce_with_logits_loss", "logits");
  expect_shape(t, z.rows, 1, "bce_with_logits_loss", "targets");
  const Device device = common_device("bce_with_logits_loss", z, t);
  return NN_DISPATCH(device, bce_with_logits_loss(z, t));
}

template <class T>
void bce_with_logits_backward(ConstView<T> z, ConstView<T> t, View<T> dz) {
  expect_batch(z, "bce_with_logits_backward");
  expect_shape(z, z.rows, 1, "bce_with_logits_backward", "logits");
  expect_shape(t, z.rows, 1, "bce_with_logits_backward", "targets");
  expect_shape(dz, z.rows, 1, "bce_with_logits_backward", "logit gradient");
  const Device device = common_device("bce_with_logits_backward", z, t, dz);
  NN_DISPATCH(device, bce_with_logits_backward(z, t, dz));
}

template <class T>
void adam_step(View<T> params, ConstView<T> grads, View<T> m, View<T> v, const AdamStep& step) {
  for (auto* b : {&m, &v}) expect_shape(*b, params.rows, params.cols, "adam_step", "moment buffer");
  expect_shape(grads, params.rows, params.cols, "adam_step", "gradient buffer");
  if (!params.contiguous()) throw Error("adam_step: the parameter buffer must be contiguous");
  if (step.step < 1) throw Error(str("adam_step: step ", step.step, " must be at least 1"));
  if (!(step.lr >= 0.0) || !std::isfinite(step.lr)) throw Error(str("adam_step: learning rate ", step.lr));
  const Device device = common_device("adam_step", params, grads, m, v);
  NN_DISPATCH(device, adam_step(params, grads, m, v, step));
}

// Each entry point for both precisions; its type is the declaration's.
#define NN_INSTANTIATE(op)                \
  template decltype(op<float>) op<float>; \
  template decltype(op<double>) op<double>;
NN_INSTANTIATE(linear_forward)
NN_INSTANTIATE(linear_backward)
NN_INSTANTIATE(linear_relu_forward)
NN_INSTANTIATE(batchnorm_forward_train)
NN_INSTANTIATE(batchnorm_forward_eval)
NN_INSTANTIATE(batchnorm_backward)
NN_INSTANTIATE(relu_forward)
NN_INSTANTIATE(relu_backward)
NN_INSTANTIATE(batchnorm_relu_forward_train)
NN_INSTANTIATE(batchnorm_relu_forward_eval)
NN_INSTANTIATE(batchnorm_relu_backward)
NN_INSTANTIATE(linear_residual_forward)
NN_INSTANTIATE(batchnorm_fold_into_linear)
NN_INSTANTIATE(dropout_forward)
NN_INSTANTIATE(multiply)
NN_INSTANTIATE(attention_forward)
NN_INSTANTIATE(attention_backward)
NN_INSTANTIATE(copy)
NN_INSTANTIATE(fill)
NN_INSTANTIATE(add)
NN_INSTANTIATE(weighted_l1_loss)
NN_INSTANTIATE(weighted_l1_backward)
NN_INSTANTIATE(nll_loss)
NN_INSTANTIATE(nll_backward)
NN_INSTANTIATE(bce_with_logits_loss)
NN_INSTANTIATE(bce_with_logits_backward)
NN_INSTANTIATE(adam_step)

}  // namespace nn::ops
