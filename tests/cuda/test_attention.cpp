// Feature-attention ops of the CUDA backend against the CPU. The forward's softmax and the
// backward pass reduce along rows in another order (and a GPU's exp may differ by an ulp): NMSE
// within 1e-10 (float) and 1e-24 (double). The backward's direct path dh is two products per
// element, rounded as on the CPU: identical values.
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
  const Tensor<T> z = random_matrix<T>(rows, cols, rng, 2.0), h = random_matrix<T>(rows, cols, rng);
  Tensor<T> a(rows, cols), y(rows, cols);
  cpu::op_table<T>().attention_forward(z, h, ConstView<T>(), a, y);
  return a;
}

// With and without the residual (AResDense's skip input), through the entry point and every
// launch shape.
TYPED_TEST(CudaAttention, Forward) {
  using T = TypeParam;
  Rng rng(21);
  for (const bool with_residual : {false, true}) {
    for_each_case(warp_per_row_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
      const std::string where =
          context(size, shape, cuda::kWarpPerRowShape) + (with_residual ? " with residual" : " without residual");
      // Large logits: the shift by the row maximum is what keeps exp finite.
      const Tensor<T> z = random_matrix<T>(size.rows, size.cols, rng, 30.0);
      const Tensor<T> h = random_matrix<T>(size.rows, size.cols, rng);
      const Tensor<T> residual = random_matrix<T>(size.rows, size.cols, rng);
      const ConstView<T> r = with_residual ? residual.cview() : ConstView<T>();
      Tensor<T> a(size.rows, size.cols), y(size.rows, size.cols);
      cpu::op_table<T>().attention_forward(z, h, r, a, y);
      DeviceMatrix<T> z_d(z.cview()), h_d(h.cview()), r_d(residual.cview()), a_d(size.rows, size.cols),
          y_d(size.rows, size.cols);
      const ConstView<T> r_dv = with_residual ? ConstView<T>(r_d.view()) : ConstView<T>();
      if (shape == nullptr)
        cuda::op_table<T>().attention_forward(z_d.view(), h_d.view(), r_dv, a_d.view(), y_d.view());
      else
        cuda::launch::attention_forward(z_d.data(), z_d.stride(), h_d.data(), h_d.stride(),
                                        with_residual ? r_d.data() : nullptr, r_d.stride(), a_d.data(), a_d.stride(),
                                        y_d.data(), y_d.stride(), size.rows, size.cols, cuda::detail::stream(), *shape);
      expect_close<T>("attention_forward (a)", a_d.get(), a, reduction_limit<T>(), where);
      expect_close<T>("attention_forward (y)", y_d.get(), y, reduction_limit<T>(), where);
    });
  }
}

// y may be the residual: AResDense could sum onto its input in place.
TYPED_TEST(CudaAttention, ForwardOntoItsResidual) {
  using T = TypeParam;
  Rng rng(24);
  const Tensor<T> z = random_matrix<T>(9, 70, rng, 3.0), h = random_matrix<T>(9, 70, rng);
  const Tensor<T> residual = random_matrix<T>(9, 70, rng);
  Tensor<T> a(9, 70), y(9, 70);
  cpu::op_table<T>().attention_forward(z, h, residual, a, y);
  DeviceMatrix<T> z_d(z.cview()), h_d(h.cview()), y_d(residual.cview()), a_d(9, 70);
  cuda::op_table<T>().attention_forward(z_d.view(), h_d.view(), y_d.view(), a_d.view(), y_d.view());
  expect_close<T>("attention_forward (onto its residual)", y_d.get(), y, reduction_limit<T>(), "(9, 70)");
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
    cpu::op_table<T>().attention_backward(h, a, dy, dh, dz);
    DeviceMatrix<T> h_d(h.cview()), a_d(a.cview()), dy_d(dy.cview()), dh_d(size.rows, size.cols),
        dz_d(size.rows, size.cols);
    if (shape == nullptr)
      cuda::op_table<T>().attention_backward(h_d.view(), a_d.view(), dy_d.view(), dh_d.view(), dz_d.view());
    else
      cuda::launch::attention_backward(h_d.data(), h_d.stride(), a_d.data(), a_d.stride(), dy_d.data(), dy_d.stride(),
                                       dh_d.data(), dh_d.stride(), dz_d.data(), dz_d.stride(), size.rows, size.cols,
                                       cuda::detail::stream(), *shape);
    expect_close<T>("attention_backward (dh)", dh_d.get(), dh, 0.0, where);
    expect_close<T>("attention_backward (dz)", dz_d.get(), dz, reduction_limit<T>(), where);
  });
}

TYPED_TEST(CudaAttention, WarpPerRowNeedsWholeWarps) {
  using T = TypeParam;
  DeviceMatrix<T> z(4, 4);
  const T* no_residual = nullptr;
  EXPECT_THROW(
      cuda::launch::attention_forward(z.data(), z.stride(), z.data(), z.stride(), no_residual, z.stride(), z.data(),
                                      z.stride(), z.data(), z.stride(), 4, 4, cuda::detail::stream(), {dim3(16, 2), 1}),
      Error);
}

}  // namespace
}  // namespace nn::test
