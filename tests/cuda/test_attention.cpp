// Feature-attention ops of the CUDA backend against the CPU. The softmax and the backward pass
// reduce along rows in another order (and a GPU's exp may differ by an ulp): NMSE within 1e-10
// (float) and 1e-24 (double). The forward application is two products per element, rounded as on
// the CPU: identical values.
#include "attention.h"
#include "backend_testing.h"
#include "context.h"
#include "nn/ops.h"

namespace nn::test {
namespace {

template <class T>
class CudaAttention : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaAttention, Types);

template <class T>
double reduction_limit() {
  return limit<T>(1e-10, 1e-24);
}

template <class T>
Tensor<T> attention_weights(Index rows, Index cols, Rng& rng) {
  const Tensor<T> z = random_matrix<T>(rows, cols, rng, 2.0);
  Tensor<T> a(rows, cols);
  cpu::softmax_rows<T>(z, a);
  return a;
}

TYPED_TEST(CudaAttention, SoftmaxRows) {
  using T = TypeParam;
  Rng rng(21);
  for_each_case(warp_per_row_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
    const std::string where = context(size, shape, cuda::kWarpPerRowShape);
    // Large logits: the shift by the row maximum is what keeps exp finite.
    const Tensor<T> z = random_matrix<T>(size.rows, size.cols, rng, 30.0);
    Tensor<T> a(size.rows, size.cols);
    cpu::softmax_rows<T>(z, a);
    DeviceMatrix<T> z_d(z.cview()), a_d(size.rows, size.cols);
    if (shape == nullptr)
      cuda::softmax_rows<T>(z_d.view(), a_d.view());
    else
      cuda::launch::softmax_rows(z_d.data(), z_d.stride(), a_d.data(), a_d.stride(), size.rows, size.cols,
                                 cuda::detail::stream(), *shape);
    expect_close<T>("softmax_rows", a_d.get(), a, reduction_limit<T>(), where);
  });
}

TYPED_TEST(CudaAttention, Forward) {
  using T = TypeParam;
  Rng rng(22);
  for_each_case(elementwise_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
    const std::string where = context(size, shape, cuda::kElementwiseShape);
    const Tensor<T> h = random_matrix<T>(size.rows, size.cols, rng);
    const Tensor<T> a = attention_weights<T>(size.rows, size.cols, rng);
    Tensor<T> y(size.rows, size.cols);
    cpu::attention_forward<T>(h, a, y);
    DeviceMatrix<T> h_d(h.cview()), a_d(a.cview()), y_d(size.rows, size.cols);
    if (shape == nullptr)
      cuda::attention_forward<T>(h_d.view(), a_d.view(), y_d.view());
    else
      cuda::launch::attention_forward(h_d.data(), h_d.stride(), a_d.data(), a_d.stride(), y_d.data(), y_d.stride(),
                                      size.rows, size.cols, cuda::detail::stream(), *shape);
    expect_close<T>("attention_forward", y_d.get(), y, 0.0, where);
  });
}

TYPED_TEST(CudaAttention, Backward) {
  using T = TypeParam;
  Rng rng(23);
  for_each_case(warp_per_row_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
    const std::string where = context(size, shape, cuda::kWarpPerRowShape);
    const Tensor<T> h = random_matrix<T>(size.rows, size.cols, rng);
    const Tensor<T> a = attention_weights<T>(size.rows, size.cols, rng);
    const Tensor<T> dy = random_matrix<T>(size.rows, size.cols, rng);
    Tensor<T> dh(size.rows, size.cols), dz(size.rows, size.cols);
    cpu::attention_backward<T>(h, a, dy, dh, dz);
    DeviceMatrix<T> h_d(h.cview()), a_d(a.cview()), dy_d(dy.cview()), dh_d(size.rows, size.cols),
        dz_d(size.rows, size.cols);
    if (shape == nullptr)
      cuda::attention_backward<T>(h_d.view(), a_d.view(), dy_d.view(), dh_d.view(), dz_d.view());
    else
      cuda::launch::attention_backward(h_d.data(), h_d.stride(), a_d.data(), a_d.stride(), dy_d.data(), dy_d.stride(),
                                       dh_d.data(), dh_d.stride(), dz_d.data(), dz_d.stride(), size.rows, size.cols,
                                       cuda::detail::stream(), *shape);
    expect_close<T>("attention_backward (dh)", dh_d.get(), dh, 0.0, where);
    expect_close<T>("attention_backward (dz)", dz_d.get(), dz, reduction_limit<T>(), where);
  });
}

TYPED_TEST(CudaAttention, SoftmaxInPlace) {
  using T = TypeParam;
  Rng rng(24);
  const Tensor<T> z = random_matrix<T>(9, 70, rng, 3.0);
  Tensor<T> a(9, 70);
  cpu::softmax_rows<T>(z, a);
  DeviceMatrix<T> z_d(z.cview());
  cuda::softmax_rows<T>(z_d.view(), z_d.view());
  expect_close<T>("softmax_rows (in place)", z_d.get(), a, reduction_limit<T>(), "(9, 70)");
}

TYPED_TEST(CudaAttention, WarpPerRowNeedsWholeWarps) {
  using T = TypeParam;
  DeviceMatrix<T> z(4, 4);
  EXPECT_THROW(cuda::launch::softmax_rows(z.data(), z.stride(), z.data(), z.stride(), 4, 4, cuda::detail::stream(),
                                          {dim3(16, 2), 1}),
               Error);
}

}  // namespace
}  // namespace nn::test
