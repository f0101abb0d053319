// Loss ops of the CUDA backend against the CPU. Loss values are summed in double on both, in
// another order: relative error within 1e-12. The weighted-L1 gradient is one rounding per
// element from the same double counts: identical values. The BCE and likelihood gradients go
// through exp, log and sqrt, which a GPU may round an ulp apart: NMSE within 1e-13 (float) and
// 1e-28 (double). Both backends mask NaN class labels and missing regression labels.
#include "backend_testing.h"
#include "context.h"
#include "loss.h"
#include "nn/ops.h"
#include "op_case.h"

namespace nn::test {
namespace {

template <class T>
class CudaLoss : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaLoss, Types);

constexpr double kLossLimit = 1e-12;

// Batches of (rows, targets): few targets as in practice, and many to cover several tiles.
const std::vector<Size>& loss_sizes() {
  static const std::vector<Size> all = {{1, 1}, {2, 3}, {17, 3}, {257, 4}, {130, 1}, {64, 40}, {1000, 2}};
  return all;
}

const std::vector<cuda::LaunchShape>& loss_shapes() {
  static const std::vector<cuda::LaunchShape> all = {
      cuda::kLossShape, {dim3(3, 5), 2}, {dim3(2, 33), 1}, {dim3(32, 8), 4}};
  return all;
}

template <class T>
struct Labels {
  Tensor<T> yhat, y, s, mask, w;
  Labels(Index rows, Index cols, Rng& rng)
      : yhat(random_matrix<T>(rows, cols, rng)),
        y(random_matrix<T>(rows, cols, rng)),
        s(rows, cols),
        mask(rows, cols),
        w(random_matrix<T>(1, cols, rng, 0.5, 1.0)) {
    for (Index i = 0; i < rows; ++i)
      for (Index t = 0; t < cols; ++t) {
        s(i, t) = T(0.5 + 1.5 * rng.uniform());
        // Target 0 of a multi-target batch has no labels at all; elsewhere a fifth are missing.
        mask(i, t) = (cols > 1 && t == 0) || rng.uniform() < 0.2 ? T(0) : T(1);
        if (rng.uniform() < 0.1) yhat(i, t) = y(i, t);  // a zero error: sign 0, no gradient
      }
  }
};

TYPED_TEST(CudaLoss, WeightedL1) {
  using T = TypeParam;
  Rng rng(41);
  for (const Size& size : loss_sizes()) {
    const Labels<T> l(size.rows, size.cols, rng);
    const std::vector<Operand<T>> labels = {read("yhat", l.yhat), read("y", l.y), read("s", l.s), read("mask", l.mask),
                                            read("w", l.w)};
    const std::string entry = shape_label(cuda::kLossShape) + " (entry point)";
    OpCase<T> loss{
        "weighted_l1_loss", describe(size), labels, 0.0,
        [](const OpTable<T>& ops, Operands<T>& o) {
          o.scalar = ops.weighted_l1_loss(o["yhat"], o["y"], o["s"], o["mask"], o["w"]);
        },
        entry,
        // The launchers leave per-target terms and their sum in order in a double buffer.
        with_shapes<T>(loss_shapes(), [size](Operands<T>& o, const cuda::LaunchShape& shape) {
          DeviceMatrix<double> terms(1, size.cols + 1);
          cuda::launch::weighted_l1_terms(o.data("yhat"), o.stride("yhat"), o.data("y"), o.stride("y"), o.data("s"),
                                          o.stride("s"), o.data("mask"), o.stride("mask"), o.data("w"), terms.data(),
                                          size.rows, size.cols, cuda::detail::stream(), shape);
          cuda::launch::sum_in_order(terms.data(), size.cols, terms.data() + size.cols, cuda::detail::stream());
          o.scalar = terms.get()(0, size.cols);
        })};
    loss.scalar_limit = kLossLimit;
    check_op(loss);

    std::vector<Operand<T>> backward = labels;
    backward.push_back(written<T>("dyhat", size.rows, size.cols));
    check_op<T>({"weighted_l1_backward", describe(size), backward, 0.0,
                 [](const OpTable<T>& ops, Operands<T>& o) {
                   ops.weighted_l1_backward(o["yhat"], o["y"], o["s"], o["mask"], o["w"], o["dyhat"]);
                 },
                 entry, with_shapes<T>(loss_shapes(), [size](Operands<T>& o, const cuda::LaunchShape& shape) {
                   cuda::launch::weighted_l1_backward(o.data("yhat"), o.stride("yhat"), o.data("y"), o.stride("y"),
                                                      o.data("s"), o.stride("s"), o.data("mask"), o.stride("mask"),
                                                      o.data("w"), o.data("dyhat"), o.stride("dyhat"), size.rows,
                                                      size.cols, cuda::detail::stream(), shape);
                 })});
  }
}

// Both likelihoods over the weighted L1's sizes and shapes: log variances from -4 to 3, label
// errors of 0 (none) for a third of the labels.
TYPED_TEST(CudaLoss, NegativeLogLikelihoods) {
  using T = TypeParam;
  for (const Likelihood likelihood : {Likelihood::gaussian, Likelihood::laplace}) {
    Rng rng(43);
    for (const Size& size : loss_sizes()) {
      const Labels<T> l(size.rows, size.cols, rng);
      Tensor<T> s(size.rows, size.cols), e(size.rows, size.cols);
      for (Index k = 0; k < s.size(); ++k) {
        s.data()[k] = T(rng.uniform(-4.0, 3.0));
        e.data()[k] = rng.uniform() < 0.3 ? T(0) : T(0.5 * rng.uniform());
      }
      const std::vector<Operand<T>> labels = {read("mu", l.yhat), read("s", s),         read("y", l.y),
                                              read("e", e),       read("mask", l.mask), read("w", l.w)};
      const std::string where = describe(size) + (likelihood == Likelihood::gaussian ? " gaussian" : " laplace");
      const std::string entry = shape_label(cuda::kLossShape) + " (entry point)";
      OpCase<T> loss{
          "nll_loss",
          where,
          labels,
          0.0,
          [likelihood](const OpTable<T>& ops, Operands<T>& o) {
            o.scalar = ops.nll_loss(likelihood, o["mu"], o["s"], o["y"], o["e"], o["mask"], o["w"]);
          },
          entry,
          with_shapes<T>(loss_shapes(), [size, likelihood](Operands<T>& o, const cuda::LaunchShape& shape) {
            DeviceMatrix<double> terms(1, size.cols + 1);
            cuda::launch::nll_terms(likelihood, o.data("mu"), o.stride("mu"), o.data("s"), o.stride("s"), o.data("y"),
                                    o.stride("y"), o.data("e"), o.stride("e"), o.data("mask"), o.stride("mask"),
                                    o.data("w"), terms.data(), size.rows, size.cols, cuda::detail::stream(), shape);
            cuda::launch::sum_in_order(terms.data(), size.cols, terms.data() + size.cols, cuda::detail::stream());
            o.scalar = terms.get()(0, size.cols);
          })};
      loss.scalar_limit = kLossLimit;
      check_op(loss);

      std::vector<Operand<T>> backward = labels;
      backward.push_back(written<T>("dmu", size.rows, size.cols));
      backward.push_back(written<T>("ds", size.rows, size.cols));
      check_op<T>(
          {"nll_backward", where, backward, limit<T>(1e-13, 1e-28),
           [likelihood](const OpTable<T>& ops, Operands<T>& o) {
             ops.nll_backward(likelihood, o["mu"], o["s"], o["y"], o["e"], o["mask"], o["w"], o["dmu"], o["ds"]);
           },
           entry, with_shapes<T>(loss_shapes(), [size, likelihood](Operands<T>& o, const cuda::LaunchShape& shape) {
             cuda::launch::nll_backward(likelihood, o.data("mu"), o.stride("mu"), o.data("s"), o.stride("s"),
                                        o.data("y"), o.stride("y"), o.data("e"), o.stride("e"), o.data("mask"),
                                        o.stride("mask"), o.data("w"), o.data("dmu"), o.stride("dmu"), o.data("ds"),
                                        o.stride("ds"), size.rows, size.cols, cuda::detail::stream(), shape);
           })});
    }
  }
}

TYPED_TEST(CudaLoss, BceWithLogits) {
  using T = TypeParam;
  Rng rng(42);
  for (const Index rows : {1, 2, 3, 17, 257, 1000}) {
    Tensor<T> z = random_matrix<T>(rows, 1, rng, 4.0), t(rows, 1);
    // Soft labels, hard ones, and NaN labels that are masked: every fifth row, all rows of the
    // batch of 3 (loss 0, no gradient), and all but the first of the batch of 1000.
    const T nan = std::numeric_limits<T>::quiet_NaN();
    for (Index i = 0; i < rows; ++i) {
      t(i, 0) = i % 3 == 0 ? T(rng.uniform()) : T(i % 2);
      if (i % 5 == 4 || rows == 3 || (rows == 1000 && i > 0)) t(i, 0) = nan;
    }
    // The stable form must stay finite at the extremes.
    z(0, 0) = T(100);
    if (rows > 1) z(1, 0) = T(-100);
    if (rows > 2) z(2, 0) = T(0);
    const std::string where = describe(Size{rows, 1});
    const std::string entry = shape_label(cuda::kLossShape) + " (entry point)";
    OpCase<T> loss{"bce_with_logits_loss",
                   where,
                   {read("z", z), read("t", t)},
                   0.0,
                   [](const OpTable<T>& ops, Operands<T>& o) {
                     o.scalar = ops.bce_with_logits_loss(o["z"], o["t"]);
                     EXPECT_TRUE(std::isfinite(*o.scalar));
                   },
                   entry,
                   with_shapes<T>(loss_shapes(), [rows](Operands<T>& o, const cuda::LaunchShape& shape) {
                     DeviceMatrix<double> terms(1, 1);
                     cuda::launch::bce_terms(o.data("z"), o.stride("z"), o.data("t"), o.stride("t"), terms.data(), rows,
                                             1, cuda::detail::stream(), shape);
                     o.scalar = terms.get()(0, 0);
                   })};
    loss.scalar_limit = kLossLimit;
    check_op(loss);
    check_op<T>({"bce_with_logits_backward",
                 where,
                 {read("z", z), read("t", t), written<T>("dz", rows, 1)},
                 limit<T>(1e-13, 1e-28),
                 [](const OpTable<T>& ops, Operands<T>& o) { ops.bce_with_logits_backward(o["z"], o["t"], o["dz"]); },
                 entry,
                 with_shapes<T>(loss_shapes(), [rows](Operands<T>& o, const cuda::LaunchShape& shape) {
                   cuda::launch::bce_with_logits_backward(o.data("z"), o.stride("z"), o.data("t"), o.stride("t"),
                                                          o.data("dz"), o.stride("dz"), rows, 1, cuda::detail::stream(),
                                                          shape);
                 })});
  }
}

}  // namespace
}  // namespace nn::test
