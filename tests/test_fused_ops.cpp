// The residual blocks' fused ops and Linear + ReLU against the unfused ops they replace, in
// double on the CPU, and the ResDense/AResDense blocks (which run the fused ops) against the
// composition of their layers' own forward and backward. The fused BatchNorm + ReLU ops and the
// residual add repeat the unfused arithmetic in the same order, so they agree to the last bit
// (limit 1e-15), Linear + ReLU exactly (it is the two ops); the fold reorders products (limit
// 1e-13). Errors are max |a - b| / max(|b|, 1). Linear + ReLU also has hand-computed values.
#include <cmath>
#include <iostream>
#include <limits>
#include <optional>
#include <utility>

#include "harness.h"
#include "nn/blocks.h"
#include "nn/ops.h"

namespace nn::test {
namespace {

constexpr double kSameArithmetic = 1e-15;
constexpr double kReordered = 1e-13;

struct Shape {
  Index rows, cols;
};
// Odd sizes, one column block, several (the CPU walks 64 columns at a time), a single row.
const std::vector<Shape> kShapes = {{2, 1}, {7, 5}, {33, 130}, {300, 3}, {64, 64}};

void expect_near(const std::string& what, ConstView<double> actual, ConstView<double> expected, double limit) {
  const double error = max_error(actual, expected);
  std::cout << "[fused vs unfused] " << what << ": " << error << "\n";
  EXPECT_LE(error, limit) << what;
}

std::string describe(const Shape& s) { return "(" + std::to_string(s.rows) + ", " + std::to_string(s.cols) + ")"; }

// Per-feature parameters and running statistics of a BatchNorm that has trained a while.
struct Features {
  Tensor<double> gamma, beta, running_mean, running_var;
  Features(Index d, Rng& rng)
      : gamma(random_tensor(1, d, rng, 0.3)),
        beta(random_tensor(1, d, rng, 0.5)),
        running_mean(random_tensor(1, d, rng, 0.5)),
        running_var(1, d) {
    for (Index j = 0; j < d; ++j) {
      gamma(0, j) += 1.0;
      running_var(0, j) = 0.5 + rng.uniform();
    }
  }
};

// An offset batch, so a one-pass variance would show.
Tensor<double> batch(const Shape& s, Rng& rng) {
  Tensor<double> x = random_tensor(s.rows, s.cols, rng, 2.0);
  for (Index k = 0; k < x.size(); ++k) x.data()[k] += 3.0;
  return x;
}

TEST(FusedOps, BatchNormReluTrainIsBatchNormThenRelu) {
  Rng rng(31);
  const BatchNormOptions options;
  for (const Shape& s : kShapes) {
    const Tensor<double> x = batch(s, rng);
    Features f(s.cols, rng);
    Tensor<double> y(s.rows, s.cols), mean(1, s.cols), invstd(1, s.cols);
    Tensor<double> rm = copy_of(f.running_mean), rv = copy_of(f.running_var);
    ops::batchnorm_relu_forward_train<double>(x, f.gamma, f.beta, options, y, mean, invstd, rm, rv);

    Tensor<double> y_ref(s.rows, s.cols), mean_ref(1, s.cols), invstd_ref(1, s.cols);
    Tensor<double> rm_ref = copy_of(f.running_mean), rv_ref = copy_of(f.running_var);
    ops::batchnorm_forward_train<double>(x, f.gamma, f.beta, options, y_ref, mean_ref, invstd_ref, rm_ref, rv_ref);
    ops::relu_forward<double>(y_ref, y_ref);
    const std::string at = " " + describe(s);
    expect_near("train y" + at, y, y_ref, kSameArithmetic);
    expect_near("train mean" + at, mean, mean_ref, kSameArithmetic);
    expect_near("train invstd" + at, invstd, invstd_ref, kSameArithmetic);
    expect_near("train running mean" + at, rm, rm_ref, kSameArithmetic);
    expect_near("train running var" + at, rv, rv_ref, kSameArithmetic);
  }
}

TEST(FusedOps, BatchNormReluEvalIsBatchNormThenRelu) {
  Rng rng(32);
  const BatchNormOptions options;
  for (const Shape& s : kShapes) {
    const Tensor<double> x = random_tensor(s.rows, s.cols, rng);
    Features f(s.cols, rng);
    Tensor<double> y(s.rows, s.cols), y_ref(s.rows, s.cols);
    ops::batchnorm_relu_forward_eval<double>(x, f.gamma, f.beta, f.running_mean, f.running_var, options, y);
    ops::batchnorm_forward_eval<double>(x, f.gamma, f.beta, f.running_mean, f.running_var, options, y_ref);
    ops::relu_forward<double>(y_ref, y_ref);
    expect_near("eval y " + describe(s), y, y_ref, kSameArithmetic);
  }
}

enum class Residual { none, added };

void check_backward(const Shape& s, Residual residual, Rng& rng) {
  const BatchNormOptions options;
  const Tensor<double> x = batch(s, rng), dy = random_tensor(s.rows, s.cols, rng);
  const Tensor<double> skip = random_tensor(s.rows, s.cols, rng);
  Features f(s.cols, rng);
  Tensor<double> y(s.rows, s.cols), mean(1, s.cols), invstd(1, s.cols);
  ops::batchnorm_relu_forward_train<double>(x, f.gamma, f.beta, options, y, mean, invstd, f.running_mean,
                                            f.running_var);
  // Parameter gradients accumulate: start from earlier ones.
  const Tensor<double> dgamma0 = random_tensor(1, s.cols, rng), dbeta0 = random_tensor(1, s.cols, rng);

  Tensor<double> dx(s.rows, s.cols), dgamma = copy_of(dgamma0), dbeta = copy_of(dbeta0);
  const ConstView<double> r = residual == Residual::added ? skip.view() : ConstView<double>();
  ops::batchnorm_relu_backward<double>(x, mean, invstd, f.gamma, f.beta, dy, r, dx, dgamma, dbeta);

  Tensor<double> g(s.rows, s.cols), dx_ref(s.rows, s.cols), dgamma_ref = copy_of(dgamma0), dbeta_ref = copy_of(dbeta0);
  ops::relu_backward<double>(y, dy, g);
  ops::batchnorm_backward<double>(x, mean, invstd, f.gamma, g, dx_ref, dgamma_ref, dbeta_ref);
  if (residual == Residual::added) ops::add<double>(skip, dx_ref, dx_ref);
  const std::string at = std::string(residual == Residual::added ? " with residual " : " ") + describe(s);
  expect_near("backward dx" + at, dx, dx_ref, kSameArithmetic);
  expect_near("backward dgamma" + at, dgamma, dgamma_ref, kSameArithmetic);
  expect_near("backward dbeta" + at, dbeta, dbeta_ref, kSameArithmetic);

  // In place, as the block runs it: dx overwrites dy.
  Tensor<double> inout = copy_of(dy), dgamma_in = copy_of(dgamma0), dbeta_in = copy_of(dbeta0);
  ops::batchnorm_relu_backward<double>(x, mean, invstd, f.gamma, f.beta, inout, r, inout, dgamma_in, dbeta_in);
  expect_near("backward dx in place" + at, inout, dx_ref, kSameArithmetic);
}

TEST(FusedOps, BatchNormReluBackwardIsReluThenBatchNormBackward) {
  Rng rng(33);
  for (const Shape& s : kShapes) {
    check_backward(s, Residual::none, rng);
    check_backward(s, Residual::added, rng);
  }
}

TEST(FusedOps, LinearResidualIsLinearThenAdd) {
  Rng rng(34);
  for (const Shape& s : kShapes) {
    const Index out = s.cols + 2;
    const Tensor<double> x = random_tensor(s.rows, s.cols, rng), w = random_tensor(out, s.cols, rng, 0.3);
    const Tensor<double> b = random_tensor(1, out, rng), r = random_tensor(s.rows, out, rng);
    Tensor<double> y(s.rows, out), y_ref(s.rows, out);
    ops::linear_residual_forward<double>(x, w, b, r, y);
    ops::linear_forward<double>(x, w, b, y_ref);
    ops::add<double>(r, y_ref, y_ref);
    expect_near("linear residual " + describe(s), y, y_ref, kReordered);
    // y may be the residual itself.
    Tensor<double> inout = copy_of(r);
    ops::linear_residual_forward<double>(x, w, b, inout, inout);
    expect_near("linear residual in place " + describe(s), inout, y, 0.0);
  }
}

TEST(FusedOps, LinearReluIsLinearThenRelu) {
  Rng rng(36);
  for (const Shape& s : kShapes) {
    const Index out = s.cols + 1;
    const Tensor<double> x = random_tensor(s.rows, s.cols, rng), w = random_tensor(out, s.cols, rng, 0.3);
    const Tensor<double> b = random_tensor(1, out, rng);
    Tensor<double> y(s.rows, out), y_ref(s.rows, out);
    ops::linear_relu_forward<double>(x, w, b, y);
    ops::linear_forward<double>(x, w, b, y_ref);
    ops::relu_forward<double>(y_ref, y_ref);
    expect_near("linear relu " + describe(s), y, y_ref, 0.0);
  }
}

// y = max(x W^T + b, 0) by hand, every value exact in binary: negative pre-activations give 0,
// the bias is added before the clamp (x W^T = -1 with b = 0.25 gives 0, not 0.25), and a NaN,
// from the bias (last column) or from the input (last row), passes through.
template <class T>
void check_linear_relu_values() {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  Tensor<T> x(3, 2), w(4, 2), b(1, 4), y(3, 4);
  const T xs[3][2] = {{1, 2}, {-1, -2}, {nan, 1}};
  const T ws[4][2] = {{1, 1}, {1, -1}, {-2, 1.5}, {0.5, 0.5}};
  const T bs[4] = {0, 0.25, 0.5, nan};
  const T expected[3][4] = {{3, 0, 1.5, nan}, {0, 1.25, 0, nan}, {nan, nan, nan, nan}};
  for (Index i = 0; i < 3; ++i)
    for (Index k = 0; k < 2; ++k) x(i, k) = xs[i][k];
  for (Index o = 0; o < 4; ++o) {
    for (Index k = 0; k < 2; ++k) w(o, k) = ws[o][k];
    b(0, o) = bs[o];
  }
  ops::linear_relu_forward<T>(x, w, b, y);
  for (Index i = 0; i < 3; ++i)
    for (Index o = 0; o < 4; ++o) {
      if (std::isnan(expected[i][o]))
        EXPECT_TRUE(std::isnan(y(i, o))) << "(" << i << ", " << o << ") is " << y(i, o) << ", expected NaN";
      else
        EXPECT_EQ(y(i, o), expected[i][o]) << "(" << i << ", " << o << ")";
    }
}

TEST(FusedOps, LinearReluKnownValues) {
  check_linear_relu_values<float>();
  check_linear_relu_values<double>();
}

TEST(FusedOps, FoldedLinearIsLinearThenBatchNormEval) {
  Rng rng(35);
  const BatchNormOptions options;
  for (const Shape& s : kShapes) {
    const Index out = s.cols + 3;
    const Tensor<double> x = random_tensor(s.rows, s.cols, rng), w = random_tensor(out, s.cols, rng, 0.3);
    const Tensor<double> b = random_tensor(1, out, rng);
    Features f(out, rng);
    Tensor<double> w_folded(out, s.cols), b_folded(1, out), y(s.rows, out);
    ops::batchnorm_fold_into_linear<double>(w, b, f.gamma, f.beta, f.running_mean, f.running_var, options, w_folded,
                                            b_folded);
    ops::linear_forward<double>(x, w_folded, b_folded, y);
    Tensor<double> z(s.rows, out), y_ref(s.rows, out);
    ops::linear_forward<double>(x, w, b, z);
    ops::batchnorm_forward_eval<double>(z, f.gamma, f.beta, f.running_mean, f.running_var, options, y_ref);
    expect_near("folded linear " + describe(s), y, y_ref, kReordered);
  }
}

TEST(FusedOps, BadShapesAreErrors) {
  const BatchNormOptions options;
  Tensor<double> x(4, 3), v(1, 3), wrong(1, 2), y(4, 3), w(3, 3), w_wrong(3, 2), one_row(1, 3);
  x.fill(1.0);
  v.fill(1.0);
  EXPECT_THROW(ops::batchnorm_relu_forward_train<double>(one_row, v, v, options, one_row, v, v, v, v), Error);
  EXPECT_THROW(ops::batchnorm_relu_forward_train<double>(x, v, v, options, y, wrong, v, v, v), Error);
  EXPECT_THROW(ops::batchnorm_relu_forward_eval<double>(x, v, wrong, v, v, options, y), Error);
  EXPECT_THROW(ops::batchnorm_relu_backward<double>(x, v, v, v, v, y, one_row, y, v, v), Error);
  EXPECT_THROW(ops::batchnorm_relu_backward<double>(x, v, v, v, wrong, y, ConstView<double>(), y, v, v), Error);
  EXPECT_THROW(ops::linear_residual_forward<double>(x, w, v, one_row, y), Error);
  EXPECT_THROW(ops::linear_residual_forward<double>(x, w_wrong, v, y, y), Error);
  EXPECT_THROW(ops::linear_relu_forward<double>(x, w_wrong, v, y), Error);
  EXPECT_THROW(ops::linear_relu_forward<double>(x, w, wrong, y), Error);
  EXPECT_THROW(ops::linear_relu_forward<double>(x, w, v, one_row), Error);
  EXPECT_THROW(ops::linear_relu_forward<double>(Tensor<double>(0, 3), w, v, Tensor<double>(0, 3)), Error);
  EXPECT_THROW(ops::batchnorm_fold_into_linear<double>(w, v, v, wrong, v, v, options, w, v), Error);
  EXPECT_THROW(ops::batchnorm_fold_into_linear<double>(w, v, v, v, v, v, options, w_wrong, v), Error);
}

// The block as it was before fusion: each layer's own forward and backward, in the order of the
// definition. Its parameters are laid out as ResDense's (same names, same visiting order), so
// one store's values can be copied into the other.
class UnfusedBlock final : public Module<double> {
 public:
  UnfusedBlock(Index d, BlockType type) : bn1(d), relu1(d), l1(d, d), bn2(d), relu2(d), l2(d, d) {
    if (type == BlockType::aresdense) att.emplace(d);
  }
  Index in_features() const override { return l1.in_features(); }
  Index out_features() const override { return l1.in_features(); }
  ConstView<double> forward(ConstView<double> x, Mode mode) override {
    ConstView<double> h = bn1.forward(x, mode);
    h = relu1.forward(h, mode);
    h = l1.forward(h, mode);
    h = bn2.forward(h, mode);
    h = relu2.forward(h, mode);
    h = l2.forward(h, mode);
    if (att) h = att->forward(h, mode);
    out_.resize(x.rows, x.cols);
    ops::add<double>(x, h, out_);
    return out_;
  }
  ConstView<double> backward(ConstView<double> dy) override {
    ConstView<double> g = att ? att->backward(dy) : dy;
    g = bn2.backward(relu2.backward(l2.backward(g)));
    g = bn1.backward(relu1.backward(l1.backward(g)));
    dx_.resize(dy.rows, dy.cols);
    ops::add<double>(dy, g, dx_);
    return dx_;
  }
  void visit(ModuleVisitor<double>& visitor, const std::string& prefix) override {
    bn1.visit(visitor, join_name(prefix, "bn1"));
    l1.visit(visitor, join_name(prefix, "l1"));
    bn2.visit(visitor, join_name(prefix, "bn2"));
    l2.visit(visitor, join_name(prefix, "l2"));
    if (att) att->visit(visitor, join_name(prefix, "att"));
  }
  void reset_parameters(Rng&) override {}

  BatchNorm1d<double> bn1;
  ReLU<double> relu1;
  Linear<double> l1;
  BatchNorm1d<double> bn2;
  ReLU<double> relu2;
  Linear<double> l2;
  std::optional<AttentionDense<double>> att;

 private:
  Tensor<double> out_, dx_;
};

void check_block(BlockType type, Index rows, Index d, std::uint64_t seed) {
  ResDense<double> fused(d, type);
  UnfusedBlock unfused(d, type);
  ParameterStore<double> fused_store, unfused_store;
  fused_store.bind(fused);
  unfused_store.bind(unfused);
  Rng rng(seed);
  fused.reset_parameters(rng);
  // Non-trivial BatchNorm parameters, so that folding BN2 into L1 has something to fold.
  for (BatchNormParams<double>* bn : {&fused.bn1, &fused.bn2})
    for (Index j = 0; j < d; ++j) {
      bn->weight.value.data[j] = 1.0 + 0.3 * rng.normal();
      bn->bias.value.data[j] = 0.3 * rng.normal();
    }
  ops::copy<double>(fused_store.values(), unfused_store.values());

  const std::string what = std::string(to_string(type)) + "(" + std::to_string(d) + ") B " + std::to_string(rows);
  // Two training steps' forward and backward (the second sees running statistics that moved),
  // then an evaluation forward with them.
  for (int step = 0; step < 2; ++step) {
    const Tensor<double> x = random_tensor(rows, d, rng), dy = random_tensor(rows, d, rng);
    // The skip connection is added before the GEMM rather than after it: reordered.
    expect_near(what + " train out", fused.forward(x, Mode::train), unfused.forward(x, Mode::train), kReordered);
    expect_near(what + " dx", fused.backward(dy), unfused.backward(dy), kReordered);
    expect_near(what + " parameter gradients", fused_store.grads(), unfused_store.grads(), kReordered);
  }
  for (auto [a, b] : {std::pair{&fused.bn1, &unfused.bn1}, std::pair{&fused.bn2, &unfused.bn2}}) {
    expect_near(what + " running mean", a->running_mean, b->running_mean, kSameArithmetic);
    expect_near(what + " running var", a->running_var, b->running_var, kSameArithmetic);
  }
  const Tensor<double> x = random_tensor(rows, d, rng);
  expect_near(what + " eval out", fused.forward(x, Mode::eval), unfused.forward(x, Mode::eval), kReordered);
}

TEST(FusedBlock, ResDenseIsItsLayersComposed) {
  check_block(BlockType::resdense, 37, 11, 41);
  check_block(BlockType::resdense, 9, 70, 42);
}

TEST(FusedBlock, AResDenseIsItsLayersComposed) {
  check_block(BlockType::aresdense, 37, 11, 43);
  check_block(BlockType::aresdense, 9, 70, 44);
}

}  // namespace
}  // namespace nn::test
