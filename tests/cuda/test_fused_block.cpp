// The residual blocks' fused ops of the CUDA backend against the CPU's, through the entry points
// and the launchers with several launch shapes. Tolerances (NMSE, float / double):
//   BatchNorm + ReLU training and backward: column reductions in another summation order than
//     the CPU's, whole columns a block or row chunks, 1e-10 / 1e-24, as batchnorm_forward_train
//     and batchnorm_backward;
//   BatchNorm + ReLU evaluation, the fold: elementwise, where only FMA contraction on a GPU can
//     change a rounding, 1e-13 / 1e-28;
//   linear with residual: a GEMM in cuBLAS's or cuBLASLt's order, 1e-10 / 1e-24, as
//     linear_forward; through cuBLASLt where it has an algorithm (the residual as C, the bias in
//     the epilogue) and, through the launcher, through cuBLAS alone (the bias-and-residual pass).
#include "backend_testing.h"
#include "batchnorm.h"
#include "batchnorm_cases.h"
#include "context.h"
#include "fused_block.h"
#include "nn/ops.h"
#include "op_case.h"

namespace nn::test {
namespace {

template <class T>
class CudaFusedBlock : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaFusedBlock, Types);

// BatchNorm + ReLU reduce as BatchNorm does; so does the GEMM of linear_residual_forward.
template <class T>
double reduction_limit() {
  return batchnorm_reduction_limit<T>();
}
template <class T>
double elementwise_limit() {
  return limit<T>(1e-13, 1e-28);
}

TYPED_TEST(CudaFusedBlock, BatchNormReluForwardTrain) {
  using T = TypeParam;
  Rng rng(51);
  check_forward_train<T>("batchnorm_relu_forward_train", &OpTable<T>::batchnorm_relu_forward_train,
                         cuda::launch::batchnorm_relu_forward_train<T>, rng);
}

TYPED_TEST(CudaFusedBlock, BatchNormReluForwardEval) {
  using T = TypeParam;
  Rng rng(52);
  check_forward_eval<T>("batchnorm_relu_forward_eval", &OpTable<T>::batchnorm_relu_forward_eval,
                        cuda::launch::batchnorm_relu_forward_eval<T>, 0.5, rng);
}

TYPED_TEST(CudaFusedBlock, BatchNormReluBackward) {
  // Every launch shape with a residual; without one (a null pointer, one branch less) through
  // the entry point, which keeps the emulated run short.
  using T = TypeParam;
  Rng rng(53);
  for (const Size& size : batch_sizes())
    for (const bool added : {false, true}) {
      const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng, 2.0, 3.0);
      const Tensor<T> dy = random_matrix<T>(size.rows, size.cols, rng);
      const Tensor<T> skip = random_matrix<T>(size.rows, size.cols, rng);
      Features<T> f(size.cols, rng);
      const SavedStatistics<T> saved = saved_statistics<T>(x, f, &OpTable<T>::batchnorm_relu_forward_train, rng);
      const Tensor<T> dgamma0 = random_matrix<T>(1, size.cols, rng), dbeta0 = random_matrix<T>(1, size.cols, rng);
      const auto residual = [added](Operands<T>& o) { return added ? ConstView<T>(o["skip"]) : ConstView<T>(); };
      const std::string suffix = added ? " with residual" : "";
      check_op<T>({"batchnorm_relu_backward",
                   describe(size),
                   {read("x", x), read("mean", saved.mean), read("invstd", saved.invstd), read("gamma", f.gamma),
                    read("beta", f.beta), read("dy", dy), read("skip", skip), written<T>("dx", size.rows, size.cols),
                    updated("dgamma", dgamma0), updated("dbeta", dbeta0)},
                   reduction_limit<T>(),
                   [residual](const OpTable<T>& ops, Operands<T>& o) {
                     ops.batchnorm_relu_backward(o["x"], o["mean"], o["invstd"], o["gamma"], o["beta"], o["dy"],
                                                 residual(o), o["dx"], o["dgamma"], o["dbeta"]);
                   },
                   shape_label(cuda::kColumnTileShape) + " (entry point)" + suffix,
                   added ? with_shapes<T>(
                               column_tile_shapes(),
                               [size](Operands<T>& o, const cuda::LaunchShape& shape) {
                                 cuda::launch::batchnorm_relu_backward(
                                     o.data("x"), o.stride("x"), o.data("mean"), o.data("invstd"), o.data("gamma"),
                                     o.data("beta"), o.data("dy"), o.stride("dy"), o.data("skip"), o.stride("skip"),
                                     o.data("dx"), o.stride("dx"), o.data("dgamma"), o.data("dbeta"), size.rows,
                                     size.cols, cuda::detail::batchnorm_partials<T>(shape), cuda::detail::stream(),
                                     shape);
                               },
                               suffix)
                         : std::vector<Variant<T>>()});
    }
}

TYPED_TEST(CudaFusedBlock, BatchNormReluBackwardInPlace) {
  // The block runs BN2's backward with dx = dy, and BN1's with its skip connection's gradient as
  // residual: dx may be either. One row chunk and four at the default shape.
  using T = TypeParam;
  Rng rng(54);
  for (const Size size : {Size{70, 45}, Size{300, 45}})
    for (const bool into_residual : {false, true}) {
      const Index rows = size.rows, cols = size.cols;
      const Tensor<T> x = random_matrix<T>(rows, cols, rng), dy = random_matrix<T>(rows, cols, rng);
      const Tensor<T> skip = random_matrix<T>(rows, cols, rng);
      const Tensor<T> mean = random_matrix<T>(1, cols, rng), gamma = random_matrix<T>(1, cols, rng, 0.3, 1.0);
      const Tensor<T> beta = random_matrix<T>(1, cols, rng);
      Tensor<T> invstd(1, cols);
      for (Index j = 0; j < cols; ++j) invstd(0, j) = T(0.5 + rng.uniform());
      Tensor<T> dx(rows, cols), dgamma(1, cols), dbeta(1, cols);
      dgamma.fill(T(0));
      dbeta.fill(T(0));
      cpu::op_table<T>().batchnorm_relu_backward(x, mean, invstd, gamma, beta, dy,
                                                 into_residual ? skip.cview() : ConstView<T>(), dx, dgamma, dbeta);

      DeviceMatrix<T> x_d(x.cview()), mean_d(mean.cview()), invstd_d(invstd.cview()), gamma_d(gamma.cview()),
          beta_d(beta.cview()), dy_d(dy.cview()), skip_d(skip.cview()), dgamma_d(dgamma.cview()),
          dbeta_d(dbeta.cview());
      DeviceMatrix<T>& out = into_residual ? skip_d : dy_d;
      cuda::op_table<T>().batchnorm_relu_backward(x_d.view(), mean_d.view(), invstd_d.view(), gamma_d.view(),
                                                  beta_d.view(), dy_d.view(), into_residual ? skip_d.view() : View<T>(),
                                                  out.view(), dgamma_d.view(), dbeta_d.view());
      expect_close<T>("batchnorm_relu_backward (in place)", out.get(), dx, reduction_limit<T>(),
                      describe(size, cuda::kColumnTileShape) + (into_residual ? ", dx = residual" : ", dx = dy"));
    }
}

// The backward recomputes the ReLU's mask from x; it must be the sign of the forward's output on
// the same device, element for element, or a gradient would pass where the forward clamped. So
// the fused backward equals relu_backward on the forward's y followed by the plain BatchNorm
// backward, exactly, in one row chunk and in several.
TYPED_TEST(CudaFusedBlock, BatchNormReluBackwardMaskIsTheForwardsSign) {
  using T = TypeParam;
  Rng rng(58);
  const BatchNormOptions options;
  for (const Size size : {Size{70, 45}, Size{1000, 40}}) {
    const Index rows = size.rows, cols = size.cols;
    Features<T> f(cols, rng);
    DeviceMatrix<T> x(random_matrix<T>(rows, cols, rng).cview()), dy(random_matrix<T>(rows, cols, rng).cview());
    DeviceMatrix<T> gamma(f.gamma.cview()), beta(f.beta.cview());
    DeviceMatrix<T> running_mean(f.running_mean.cview()), running_var(f.running_var.cview());
    DeviceMatrix<T> y(rows, cols), mean(1, cols), invstd(1, cols);
    cuda::op_table<T>().batchnorm_relu_forward_train(x.view(), gamma.view(), beta.view(), options, y.view(),
                                                     mean.view(), invstd.view(), running_mean.view(),
                                                     running_var.view());
    Tensor<T> zeros(1, cols);
    zeros.fill(T(0));
    DeviceMatrix<T> dx(rows, cols), dgamma(zeros.cview()), dbeta(zeros.cview());
    cuda::op_table<T>().batchnorm_relu_backward(x.view(), mean.view(), invstd.view(), gamma.view(), beta.view(),
                                                dy.view(), View<T>(), dx.view(), dgamma.view(), dbeta.view());
    DeviceMatrix<T> g(rows, cols), dx_ref(rows, cols), dgamma_ref(zeros.cview()), dbeta_ref(zeros.cview());
    cuda::op_table<T>().relu_backward(y.view(), dy.view(), g.view());
    cuda::op_table<T>().batchnorm_backward(x.view(), mean.view(), invstd.view(), gamma.view(), g.view(), dx_ref.view(),
                                           dgamma_ref.view(), dbeta_ref.view());
    const std::string where = describe(size, cuda::kColumnTileShape);
    expect_close<T>("batchnorm_relu_backward (mask from x, dx)", dx.get(), dx_ref.get(), 0.0, where);
    expect_close<T>("batchnorm_relu_backward (mask from x, dgamma)", dgamma.get(), dgamma_ref.get(), 0.0, where);
    expect_close<T>("batchnorm_relu_backward (mask from x, dbeta)", dbeta.get(), dbeta_ref.get(), 0.0, where);
  }
}

// A training step recorded as a CUDA graph must not allocate: the row chunks' partials live in
// the scratch that the launched step before it allocated. Replayed, the recorded ops give the
// launched ones' values to the bit.
TYPED_TEST(CudaFusedBlock, RowChunksReplayAsLaunched) {
  using T = TypeParam;
  Rng rng(57);
  const BatchNormOptions options;
  const Index rows = 300, cols = 45;  // four row chunks
  ASSERT_GT(cuda::row_chunks(rows, cols, cuda::kColumnTileShape).count, 1);
  const Tensor<T> x = random_matrix<T>(rows, cols, rng, 2.0, 3.0), dy = random_matrix<T>(rows, cols, rng);
  const Tensor<T> skip = random_matrix<T>(rows, cols, rng);
  const Tensor<T> dgamma0 = random_matrix<T>(1, cols, rng), dbeta0 = random_matrix<T>(1, cols, rng);
  Features<T> f(cols, rng);
  struct Step {
    DeviceMatrix<T> x, gamma, beta, y, mean, invstd, running_mean, running_var, dy, skip, dgamma, dbeta;
  };
  const auto make = [&] {
    return std::make_unique<Step>(Step{
        DeviceMatrix<T>(x.cview()), DeviceMatrix<T>(f.gamma.cview()), DeviceMatrix<T>(f.beta.cview()),
        DeviceMatrix<T>(rows, cols), DeviceMatrix<T>(1, cols), DeviceMatrix<T>(1, cols),
        DeviceMatrix<T>(f.running_mean.cview()), DeviceMatrix<T>(f.running_var.cview()), DeviceMatrix<T>(dy.cview()),
        DeviceMatrix<T>(skip.cview()), DeviceMatrix<T>(dgamma0.cview()), DeviceMatrix<T>(dbeta0.cview())});
  };
  // Forward, then the backward in place into the residual, as BN1 of a block runs.
  const auto run = [&](Step& s) {
    cuda::op_table<T>().batchnorm_relu_forward_train(s.x.view(), s.gamma.view(), s.beta.view(), options, s.y.view(),
                                                     s.mean.view(), s.invstd.view(), s.running_mean.view(),
                                                     s.running_var.view());
    cuda::op_table<T>().batchnorm_relu_backward(s.x.view(), s.mean.view(), s.invstd.view(), s.gamma.view(),
                                                s.beta.view(), s.dy.view(), s.skip.view(), s.skip.view(),
                                                s.dgamma.view(), s.dbeta.view());
  };
  const std::unique_ptr<Step> launched = make(), replayed = make();
  run(*launched);
  cuda::RecordedWork work;
  work.record([&] { run(*replayed); });
  work.replay();
  const auto same = [](DeviceMatrix<T>& a, DeviceMatrix<T>& b) {
    const Tensor<T> ta = a.get(), tb = b.get();
    return std::equal(ta.data(), ta.data() + ta.size(), tb.data());
  };
  EXPECT_TRUE(same(launched->y, replayed->y));
  EXPECT_TRUE(same(launched->mean, replayed->mean));
  EXPECT_TRUE(same(launched->invstd, replayed->invstd));
  EXPECT_TRUE(same(launched->running_mean, replayed->running_mean));
  EXPECT_TRUE(same(launched->running_var, replayed->running_var));
  EXPECT_TRUE(same(launched->skip, replayed->skip));
  EXPECT_TRUE(same(launched->dgamma, replayed->dgamma));
  EXPECT_TRUE(same(launched->dbeta, replayed->dbeta));
}

struct LinearSize {
  Index rows, in, out;
};

TYPED_TEST(CudaFusedBlock, LinearResidualForward) {
  using T = TypeParam;
  Rng rng(55);
  const std::vector<LinearSize> all = {{1, 1, 1}, {2, 3, 5}, {17, 33, 9}, {64, 96, 70}, {130, 97, 33}, {5, 300, 7}};
  for (const LinearSize& s : all) {
    const Tensor<T> x = random_matrix<T>(s.rows, s.in, rng), w = random_matrix<T>(s.out, s.in, rng, 0.3);
    const Tensor<T> b = random_matrix<T>(1, s.out, rng), r = random_matrix<T>(s.rows, s.out, rng);
    OpCase<T> c{"linear_residual_forward",
                "x (" + std::to_string(s.rows) + ", " + std::to_string(s.in) + ") " + describe(Size{s.rows, s.out}),
                {read("x", x), read("w", w), read("b", b), read("r", r), written<T>("y", s.rows, s.out)},
                reduction_limit<T>(),
                [](const OpTable<T>& ops, Operands<T>& o) {
                  ops.linear_residual_forward(o["x"], o["w"], o["b"], o["r"], o["y"]);
                },
                shape_label(cuda::kElementwiseShape) + " (entry point)"};
    // The entry point picks its route; the launcher takes both, with two odd shapes.
    for (const GemmRoute route : gemm_routes())
      for (Variant<T>&v : with_shapes<T>(
               {elementwise_shapes()[1], elementwise_shapes()[3]},
               [s, route](Operands<T>&o, const cuda::LaunchShape&shape) {
                 cuda::launch::linear_residual_forward(
                     o.data("x"), o.stride("x"), o.data("w"), o.stride("w"), o.data("b"), o.data("r"), o.stride("r"),
                     o.data("y"), o.stride("y"), s.rows, s.in, s.out, blas_for(route), cuda::detail::stream(), shape);
               },
               describe(route)))
        c.variants.push_back(std::move(v));
    check_op(c);
  }
}

TYPED_TEST(CudaFusedBlock, LinearResidualForwardInPlace) {
  // L2 of a block may write its sum over the skip connection: y is the residual. Through
  // cuBLASLt C is then D (in place, one layout); through cuBLAS the bias pass reads and writes
  // each element once. The emulated cuBLASLt has an algorithm for (40, 33) -> 9 (16-byte aligned
  // strides of 36 and 12) and none for (40, 34) -> 10 (strides of 37 and 13).
  using T = TypeParam;
  Rng rng(57);
  for (const LinearSize& s : {LinearSize{40, 33, 9}, LinearSize{40, 34, 10}})
    for (const GemmRoute route : gemm_routes()) {
      const Tensor<T> x = random_matrix<T>(s.rows, s.in, rng), w = random_matrix<T>(s.out, s.in, rng, 0.3);
      const Tensor<T> b = random_matrix<T>(1, s.out, rng), r = random_matrix<T>(s.rows, s.out, rng);
      Tensor<T> y(s.rows, s.out);
      cpu::op_table<T>().linear_residual_forward(x, w, b, r, y);

      DeviceMatrix<T> x_d(x.cview()), w_d(w.cview()), b_d(b.cview()), r_d(r.cview());
#if defined(STARNN_CUDA_EMULATION)
      const std::int64_t matmuls_before = simt::lt::accepted_matmuls();
#endif
      cuda::launch::linear_residual_forward(x_d.data(), x_d.stride(), w_d.data(), w_d.stride(), b_d.data(), r_d.data(),
                                            r_d.stride(), r_d.data(), r_d.stride(), s.rows, s.in, s.out,
                                            blas_for(route), cuda::detail::stream());
#if defined(STARNN_CUDA_EMULATION)
      const bool through_lt = s.in == 33 && route == GemmRoute::cublaslt_where_it_can;
      EXPECT_EQ(simt::lt::accepted_matmuls() - matmuls_before, through_lt ? 1 : 0) << "in " << s.in << describe(route);
#endif
      expect_close<T>("linear_residual_forward (in place)", r_d.get(), y, reduction_limit<T>(),
                      "x (" + std::to_string(s.rows) + ", " + std::to_string(s.in) + ") -> " + std::to_string(s.out) +
                          describe(route));
    }
}

TYPED_TEST(CudaFusedBlock, FoldIntoLinear) {
  using T = TypeParam;
  Rng rng(56);
  const BatchNormOptions options;
  // A size is (out, in) here: the weight's shape.
  for (const Size& size : sizes()) {
    const Index out = size.rows, in = size.cols;
    const Tensor<T> w = random_matrix<T>(out, in, rng, 0.3), b = random_matrix<T>(1, out, rng);
    Features<T> f(out, rng);
    check_op<T>(
        {"batchnorm_fold_into_linear",
         describe(size),
         {read("w", w), read("b", b), read("gamma", f.gamma), read("beta", f.beta),
          read("running mean", f.running_mean), read("running var", f.running_var), written<T>("weight", out, in),
          written<T>("bias", 1, out)},
         elementwise_limit<T>(),
         [options](const OpTable<T>& ops, Operands<T>& o) {
           ops.batchnorm_fold_into_linear(o["w"], o["b"], o["gamma"], o["beta"], o["running mean"], o["running var"],
                                          options, o["weight"], o["bias"]);
         },
         shape_label(cuda::kElementwiseShape) + " (entry point)",
         with_shapes<T>(elementwise_shapes(), [options, out, in](Operands<T>& o, const cuda::LaunchShape& shape) {
           cuda::launch::batchnorm_fold_into_linear(o.data("w"), o.stride("w"), o.data("b"), o.data("gamma"),
                                                    o.data("beta"), o.data("running mean"), o.data("running var"),
                                                    T(options.eps), o.data("weight"), o.stride("weight"),
                                                    o.data("bias"), out, in, cuda::detail::stream(), shape);
         })});
  }
}

}  // namespace
}  // namespace nn::test
