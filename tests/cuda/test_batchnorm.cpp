// BatchNorm1d ops of the CUDA backend against the CPU. Training mode and the backward pass are
// column reductions over the batch in another summation order than the CPU's, whole columns a
// block or row chunks merged by Chan's formula (batch_sizes() and the shapes give both): NMSE
// within 1e-10 (float) and 1e-24 (double), a few units of the last place. Evaluation mode is
// elementwise, where only FMA contraction on a GPU can change a rounding: 1e-13 and 1e-28.
#include "backend_testing.h"
#include "batchnorm.h"
#include "batchnorm_cases.h"
#include "context.h"
#include "launch.h"
#include "nn/ops.h"
#include "op_case.h"

namespace nn::test {
namespace {

template <class T>
class CudaBatchNorm : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaBatchNorm, Types);

TYPED_TEST(CudaBatchNorm, ForwardTrain) {
  using T = TypeParam;
  Rng rng(11);
  check_forward_train<T>("batchnorm_forward_train", &OpTable<T>::batchnorm_forward_train,
                         cuda::launch::batchnorm_forward_train<T>, rng);
}

TYPED_TEST(CudaBatchNorm, ForwardEval) {
  using T = TypeParam;
  Rng rng(12);
  check_forward_eval<T>("batchnorm_forward_eval", &OpTable<T>::batchnorm_forward_eval,
                        cuda::launch::batchnorm_forward_eval<T>, 1.0, rng);
}

TYPED_TEST(CudaBatchNorm, Backward) {
  using T = TypeParam;
  Rng rng(13);
  for (const Size& size : batch_sizes()) {
    const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng, 2.0, 3.0);
    const Tensor<T> dy = random_matrix<T>(size.rows, size.cols, rng);
    Features<T> f(size.cols, rng);
    const SavedStatistics<T> saved = saved_statistics<T>(x, f, &OpTable<T>::batchnorm_forward_train, rng);
    // dgamma, dbeta accumulate: start them from earlier gradients.
    const Tensor<T> dgamma0 = random_matrix<T>(1, size.cols, rng), dbeta0 = random_matrix<T>(1, size.cols, rng);
    check_op<T>(
        {"batchnorm_backward",
         describe(size),
         {read("x", x), read("mean", saved.mean), read("invstd", saved.invstd), read("gamma", f.gamma), read("dy", dy),
          written<T>("dx", size.rows, size.cols), updated("dgamma", dgamma0), updated("dbeta", dbeta0)},
         batchnorm_reduction_limit<T>(),
         [](const OpTable<T>& ops, Operands<T>& o) {
           ops.batchnorm_backward(o["x"], o["mean"], o["invstd"], o["gamma"], o["dy"], o["dx"], o["dgamma"],
                                  o["dbeta"]);
         },
         shape_label(cuda::kColumnTileShape) + " (entry point)",
         with_shapes<T>(column_tile_shapes(), [size](Operands<T>& o, const cuda::LaunchShape& shape) {
           cuda::launch::batchnorm_backward(o.data("x"), o.stride("x"), o.data("mean"), o.data("invstd"),
                                            o.data("gamma"), o.data("dy"), o.stride("dy"), o.data("dx"), o.stride("dx"),
                                            o.data("dgamma"), o.data("dbeta"), size.rows, size.cols,
                                            cuda::detail::batchnorm_partials<T>(shape), cuda::detail::stream(), shape);
         })});
  }
}

// In place, one row chunk and four at the default shape.
const std::vector<Size>& in_place_sizes() {
  static const std::vector<Size> all = {{70, 45}, {300, 45}};
  return all;
}

TYPED_TEST(CudaBatchNorm, ForwardTrainInPlace) {
  // y may be x.
  using T = TypeParam;
  Rng rng(15);
  const BatchNormOptions options;
  for (const Size& size : in_place_sizes()) {
    const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng, 2.0, 3.0);
    Features<T> f(size.cols, rng);
    DeviceMatrix<T> x_d(x.cview()), gamma_d(f.gamma.cview()), beta_d(f.beta.cview()), mean_d(1, size.cols),
        invstd_d(1, size.cols), running_mean_d(f.running_mean.cview()), running_var_d(f.running_var.cview());
    Tensor<T> y(size.rows, size.cols), mean(1, size.cols), invstd(1, size.cols);
    cpu::op_table<T>().batchnorm_forward_train(x, f.gamma, f.beta, options, y, mean, invstd, f.running_mean,
                                               f.running_var);
    cuda::op_table<T>().batchnorm_forward_train(x_d.view(), gamma_d.view(), beta_d.view(), options, x_d.view(),
                                                mean_d.view(), invstd_d.view(), running_mean_d.view(),
                                                running_var_d.view());
    expect_close<T>("batchnorm_forward_train (in place)", x_d.get(), y, batchnorm_reduction_limit<T>(),
                    describe(size, cuda::kColumnTileShape));
  }
}

TYPED_TEST(CudaBatchNorm, BackwardInPlace) {
  // dx may be dy: the layer hands its own gradient buffer back.
  using T = TypeParam;
  Rng rng(14);
  for (const Size& size : in_place_sizes()) {
    const Index rows = size.rows, cols = size.cols;
    const Tensor<T> x = random_matrix<T>(rows, cols, rng), dy = random_matrix<T>(rows, cols, rng);
    const Tensor<T> mean = random_matrix<T>(1, cols, rng), gamma = random_matrix<T>(1, cols, rng, 0.3, 1.0);
    Tensor<T> invstd(1, cols);
    for (Index j = 0; j < cols; ++j) invstd(0, j) = T(0.5 + rng.uniform());
    Tensor<T> dx(rows, cols), dgamma(1, cols), dbeta(1, cols);
    dgamma.fill(T(0));
    dbeta.fill(T(0));
    cpu::op_table<T>().batchnorm_backward(x, mean, invstd, gamma, dy, dx, dgamma, dbeta);

    DeviceMatrix<T> x_d(x.cview()), mean_d(mean.cview()), invstd_d(invstd.cview()), gamma_d(gamma.cview()),
        dy_d(dy.cview()), dgamma_d(dgamma.cview()), dbeta_d(dbeta.cview());
    cuda::op_table<T>().batchnorm_backward(x_d.view(), mean_d.view(), invstd_d.view(), gamma_d.view(), dy_d.view(),
                                           dy_d.view(), dgamma_d.view(), dbeta_d.view());
    expect_close<T>("batchnorm_backward (in place)", dy_d.get(), dx, batchnorm_reduction_limit<T>(),
                    describe(size, cuda::kColumnTileShape));
  }
}

TEST(CudaBatchNormRowChunks, FillAGpuWithinTheBounds) {
  // The chunk counts of the default block on a GPU's grid cap, for the batches of a training
  // run: the grid is column tiles x chunks, where it used to be the column tiles alone.
  const cuda::LaunchShape gpu{cuda::kColumnTileShape.block, 2048};
  const auto count = [&](Index rows, Index cols) { return cuda::row_chunks(rows, cols, gpu).count; };
  EXPECT_EQ(count(256, 64), 4);         // 8 blocks instead of 2: 4 rows a stripe
  EXPECT_EQ(count(4096, 64), 64);       // 128 instead of 2: as many chunks as rows a chunk
  EXPECT_EQ(count(4096, 256), 64);      // 512 instead of 8
  EXPECT_EQ(count(256, 2048), 4);       // 256 instead of 64
  EXPECT_EQ(count(127, 64), 1);         // under two chunks of 4 rows a stripe: whole columns
  EXPECT_EQ(count(1 << 20, 64), 1024);  // the grid cap
  // Any problem and shape: whole stripes a chunk, the last one not empty, within the grid cap
  // (and so within batchnorm_partials_bytes).
  for (const cuda::LaunchShape& shape : column_tile_shapes())
    for (Index rows : {1, 2, 63, 64, 127, 128, 257, 1000, 4097, 100000})
      for (Index cols : {1, 5, 33, 300, 5000}) {
        const cuda::RowChunks chunks = cuda::row_chunks(rows, cols, shape);
        const Index tiles = (cols + shape.block.x - 1) / shape.block.x;
        SCOPED_TRACE(describe({rows, cols}, shape));
        EXPECT_EQ(chunks.rows % shape.block.y, 0);
        EXPECT_GT(rows, (chunks.count - 1) * chunks.rows);
        EXPECT_LE(rows, chunks.count * chunks.rows);
        if (chunks.count > 1) {
          EXPECT_LE(tiles * chunks.count, Index(shape.max_blocks));
          EXPECT_LE(chunks.count, chunks.rows);
        }
      }
}

TYPED_TEST(CudaBatchNorm, RejectsThreeDimensionalBlocks) {
  using T = TypeParam;
  DeviceMatrix<T> x(4, 4), v(1, 4);
  EXPECT_THROW(cuda::launch::batchnorm_forward_train(x.data(), x.stride(), v.data(), v.data(), T(1e-5), T(0.1),
                                                     x.data(), x.stride(), v.data(), v.data(), v.data(), v.data(), 4, 4,
                                                     v.data(), cuda::detail::stream(), {dim3(4, 4, 2), 1}),
               Error);
}

}  // namespace
}  // namespace nn::test
