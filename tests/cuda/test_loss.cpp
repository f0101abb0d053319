// Loss ops of the CUDA backend against the CPU. Loss values are summed in double on both, in
// another order: relative error within 1e-12. The weighted-L1 gradient is one rounding per
// element from the same double counts: identical values. The BCE gradient goes through exp,
// which a GPU may round an ulp apart: NMSE within 1e-13 (float) and 1e-28 (double). Both
// backends mask NaN class labels.
#include "backend_testing.h"
#include "context.h"
#include "loss.h"
#include "nn/ops.h"

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
    const double loss = cpu::op_table<T>().weighted_l1_loss(l.yhat, l.y, l.s, l.mask, l.w);
    Tensor<T> dyhat(size.rows, size.cols);
    cpu::op_table<T>().weighted_l1_backward(l.yhat, l.y, l.s, l.mask, l.w, dyhat);

    DeviceMatrix<T> yhat_d(l.yhat.cview()), y_d(l.y.cview()), s_d(l.s.cview()), mask_d(l.mask.cview()),
        w_d(l.w.cview()), dyhat_d(size.rows, size.cols);
    const std::string entry = describe(size, cuda::kLossShape) + " (entry point)";
    expect_close_scalar(
        "weighted_l1_loss", type_name<T>(),
        cuda::op_table<T>().weighted_l1_loss(yhat_d.view(), y_d.view(), s_d.view(), mask_d.view(), w_d.view()), loss,
        kLossLimit, entry);
    cuda::op_table<T>().weighted_l1_backward(yhat_d.view(), y_d.view(), s_d.view(), mask_d.view(), w_d.view(),
                                             dyhat_d.view());
    expect_close<T>("weighted_l1_backward", dyhat_d.get(), dyhat, 0.0, entry);

    for (const cuda::LaunchShape& shape : loss_shapes()) {
      const cudaStream_t stream = cuda::detail::stream();
      DeviceMatrix<double> terms(1, size.cols + 1);
      DeviceMatrix<T> dyhat_s(size.rows, size.cols);
      cuda::launch::weighted_l1_terms(yhat_d.data(), yhat_d.stride(), y_d.data(), y_d.stride(), s_d.data(),
                                      s_d.stride(), mask_d.data(), mask_d.stride(), w_d.data(), terms.data(), size.rows,
                                      size.cols, stream, shape);
      cuda::launch::sum_in_order(terms.data(), size.cols, terms.data() + size.cols, stream);
      cuda::launch::weighted_l1_backward(yhat_d.data(), yhat_d.stride(), y_d.data(), y_d.stride(), s_d.data(),
                                         s_d.stride(), mask_d.data(), mask_d.stride(), w_d.data(), dyhat_s.data(),
                                         dyhat_s.stride(), size.rows, size.cols, stream, shape);
      expect_close_scalar("weighted_l1_loss", type_name<T>(), terms.get()(0, size.cols), loss, kLossLimit,
                          describe(size, shape));
      expect_close<T>("weighted_l1_backward", dyhat_s.get(), dyhat, 0.0, describe(size, shape));
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
    const double loss = cpu::op_table<T>().bce_with_logits_loss(z, t);
    Tensor<T> dz(rows, 1);
    cpu::op_table<T>().bce_with_logits_backward(z, t, dz);

    DeviceMatrix<T> z_d(z.cview()), t_d(t.cview()), dz_d(rows, 1);
    const Size size{rows, 1};
    const std::string entry = describe(size, cuda::kLossShape) + " (entry point)";
    const double gpu_loss = cuda::op_table<T>().bce_with_logits_loss(z_d.view(), t_d.view());
    EXPECT_TRUE(std::isfinite(gpu_loss));
    expect_close_scalar("bce_with_logits_loss", type_name<T>(), gpu_loss, loss, kLossLimit, entry);
    cuda::op_table<T>().bce_with_logits_backward(z_d.view(), t_d.view(), dz_d.view());
    expect_close<T>("bce_with_logits_backward", dz_d.get(), dz, limit<T>(1e-13, 1e-28), entry);

    for (const cuda::LaunchShape& shape : loss_shapes()) {
      const cudaStream_t stream = cuda::detail::stream();
      DeviceMatrix<double> terms(1, 1);
      DeviceMatrix<T> dz_s(rows, 1);
      cuda::launch::bce_terms(z_d.data(), z_d.stride(), t_d.data(), t_d.stride(), terms.data(), rows, 1, stream, shape);
      cuda::launch::bce_with_logits_backward(z_d.data(), z_d.stride(), t_d.data(), t_d.stride(), dz_s.data(),
                                             dz_s.stride(), rows, 1, stream, shape);
      expect_close_scalar("bce_with_logits_loss", type_name<T>(), terms.get()(0, 0), loss, kLossLimit,
                          describe(size, shape));
      expect_close<T>("bce_with_logits_backward", dz_s.get(), dz, limit<T>(1e-13, 1e-28), describe(size, shape));
    }
  }
}

}  // namespace
}  // namespace nn::test
