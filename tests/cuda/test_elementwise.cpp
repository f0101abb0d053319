// The elementwise ops of the CUDA backend against the CPU: ReLU, dropout, multiply, add, copy,
// fill. No op here rounds differently from the CPU (one operation per element, or none), so
// all must match it exactly; dropout draws the very same mask.
#include "backend_testing.h"
#include "context.h"
#include "elementwise.h"
#include "nn/ops.h"

namespace nn::test {
namespace {

template <class T>
class CudaElementwise : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaElementwise, Types);

TYPED_TEST(CudaElementwise, ReluForwardAndBackward) {
  using T = TypeParam;
  Rng rng(1);
  for_each_case(elementwise_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
    Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng);
    x.data()[0] = T(0);  // the kink: y = 0 and no gradient, on both backends
    const Tensor<T> dy = random_matrix<T>(size.rows, size.cols, rng);
    Tensor<T> y(size.rows, size.cols), dx(size.rows, size.cols);
    cpu::op_table<T>().relu_forward(x, y);
    cpu::op_table<T>().relu_backward(y, dy, dx);

    DeviceMatrix<T> x_d(x.cview()), y_d(size.rows, size.cols), dy_d(dy.cview()), dx_d(size.rows, size.cols);
    if (shape == nullptr) {
      cuda::op_table<T>().relu_forward(x_d.view(), y_d.view());
      cuda::op_table<T>().relu_backward(y_d.view(), dy_d.view(), dx_d.view());
    } else {
      cuda::launch::relu_forward(x_d.data(), x_d.stride(), y_d.data(), y_d.stride(), size.rows, size.cols,
                                 cuda::detail::stream(), *shape);
      cuda::launch::relu_backward(y_d.data(), y_d.stride(), dy_d.data(), dy_d.stride(), dx_d.data(), dx_d.stride(),
                                  size.rows, size.cols, cuda::detail::stream(), *shape);
    }
    expect_close<T>("relu_forward", y_d.get(), y, 0.0, context(size, shape, cuda::kElementwiseShape));
    expect_close<T>("relu_backward", dx_d.get(), dx, 0.0, context(size, shape, cuda::kElementwiseShape));
  });
}

TYPED_TEST(CudaElementwise, DropoutDrawsTheCpuMask) {
  using T = TypeParam;
  Rng rng(2);
  std::uint64_t seed = 7;
  for_each_case(elementwise_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
    const double p = 0.3;
    ++seed;
    const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng);
    Tensor<T> mask(size.rows, size.cols), y(size.rows, size.cols);
    cpu::op_table<T>().dropout_forward(x, p, seed, mask, y);

    DeviceMatrix<T> x_d(x.cview()), mask_d(size.rows, size.cols), y_d(size.rows, size.cols);
    if (shape == nullptr)
      cuda::op_table<T>().dropout_forward(x_d.view(), p, seed, mask_d.view(), y_d.view());
    else
      cuda::launch::dropout_forward(x_d.data(), x_d.stride(), p, seed, mask_d.data(), mask_d.stride(), y_d.data(),
                                    y_d.stride(), size.rows, size.cols, cuda::detail::stream(), *shape);
    expect_close<T>("dropout_forward (mask)", mask_d.get(), mask, 0.0, context(size, shape, cuda::kElementwiseShape));
    expect_close<T>("dropout_forward", y_d.get(), y, 0.0, context(size, shape, cuda::kElementwiseShape));
  });
}

TYPED_TEST(CudaElementwise, MultiplyAddCopyFill) {
  using T = TypeParam;
  Rng rng(3);
  for_each_case(elementwise_shapes(), [&](const Size& size, const cuda::LaunchShape* shape) {
    const Tensor<T> a = random_matrix<T>(size.rows, size.cols, rng), b = random_matrix<T>(size.rows, size.cols, rng);
    Tensor<T> product(size.rows, size.cols), sum(size.rows, size.cols), filled(size.rows, size.cols);
    cpu::op_table<T>().multiply(a, b, product);
    cpu::op_table<T>().add(a, b, sum);
    cpu::op_table<T>().fill(filled, T(0.625));

    DeviceMatrix<T> a_d(a.cview()), b_d(b.cview()), product_d(size.rows, size.cols), sum_d(size.rows, size.cols),
        copy_d(size.rows, size.cols), fill_d(size.rows, size.cols);
    if (shape == nullptr) {
      cuda::op_table<T>().multiply(a_d.view(), b_d.view(), product_d.view());
      cuda::op_table<T>().add(a_d.view(), b_d.view(), sum_d.view());
      cuda::op_table<T>().copy(a_d.view(), copy_d.view());
      cuda::op_table<T>().fill(fill_d.view(), T(0.625));
    } else {
      const cudaStream_t stream = cuda::detail::stream();
      cuda::launch::multiply(a_d.data(), a_d.stride(), b_d.data(), b_d.stride(), product_d.data(), product_d.stride(),
                             size.rows, size.cols, stream, *shape);
      cuda::launch::add(a_d.data(), a_d.stride(), b_d.data(), b_d.stride(), sum_d.data(), sum_d.stride(), size.rows,
                        size.cols, stream, *shape);
      cuda::launch::copy(a_d.data(), a_d.stride(), copy_d.data(), copy_d.stride(), size.rows, size.cols, stream,
                         *shape);
      cuda::launch::fill(fill_d.data(), fill_d.stride(), T(0.625), size.rows, size.cols, stream, *shape);
    }
    expect_close<T>("multiply", product_d.get(), product, 0.0, context(size, shape, cuda::kElementwiseShape));
    expect_close<T>("add", sum_d.get(), sum, 0.0, context(size, shape, cuda::kElementwiseShape));
    expect_close<T>("copy", copy_d.get(), a, 0.0, context(size, shape, cuda::kElementwiseShape));
    expect_close<T>("fill", fill_d.get(), filled, 0.0, context(size, shape, cuda::kElementwiseShape));
  });
}

TYPED_TEST(CudaElementwise, InPlace) {
  // add and multiply are documented to allow out = a; ReLU's backward dx = dy.
  using T = TypeParam;
  Rng rng(4);
  const Tensor<T> a = random_matrix<T>(37, 41, rng), b = random_matrix<T>(37, 41, rng);
  Tensor<T> expected(37, 41);
  cpu::op_table<T>().add(a, b, expected);
  cpu::op_table<T>().multiply(expected, b, expected);
  DeviceMatrix<T> a_d(a.cview()), b_d(b.cview());
  cuda::op_table<T>().add(a_d.view(), b_d.view(), a_d.view());
  cuda::op_table<T>().multiply(a_d.view(), b_d.view(), a_d.view());
  expect_close<T>("add, multiply (in place)", a_d.get(), expected, 0.0, "(37, 41)");
}

TYPED_TEST(CudaElementwise, EmptyMatricesLaunchNothing) {
  using T = TypeParam;
  DeviceMatrix<T> empty(0, 5);
  cuda::op_table<T>().fill(empty.view(), T(1));
  cuda::op_table<T>().copy(empty.view(), empty.view());
  EXPECT_EQ(empty.get().size(), 0);
}

TYPED_TEST(CudaElementwise, RefusesHostMemory) {
  using T = TypeParam;
  Tensor<T> host(2, 2);
  DeviceMatrix<T> device(2, 2);
  EXPECT_THROW(cuda::op_table<T>().copy(host.cview(), device.view()), Error);
  EXPECT_THROW(cuda::op_table<T>().fill(host.view(), T(0)), Error);
}

}  // namespace
}  // namespace nn::test
