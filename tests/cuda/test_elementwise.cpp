// The elementwise ops of the CUDA backend against the CPU: ReLU, dropout, multiply, add, copy,
// fill. No op here rounds differently from the CPU (one operation per element, or none), so
// all must match it exactly; dropout draws the very same mask.
#include <functional>

#include "backend_testing.h"
#include "context.h"
#include "elementwise.h"
#include "nn/ops.h"
#include "op_case.h"

namespace nn::test {
namespace {

template <class T>
class CudaElementwise : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaElementwise, Types);

// Each case through the entry point, then the launcher with every elementwise shape.
template <class T>
void check_elementwise(OpCase<T> c, std::function<void(Operands<T>&, const Size&, const cuda::LaunchShape&)> launch,
                       const Size& size) {
  c.where = describe(size);
  c.entry_label = shape_label(cuda::kElementwiseShape) + " (entry point)";
  c.variants = with_shapes<T>(
      elementwise_shapes(), [launch, size](Operands<T>& o, const cuda::LaunchShape& shape) { launch(o, size, shape); });
  check_op(c);
}

TYPED_TEST(CudaElementwise, ReluForwardAndBackward) {
  using T = TypeParam;
  Rng rng(1);
  for (const Size& size : sizes()) {
    Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng);
    x.data()[0] = T(0);  // the kink: y = 0 and no gradient, on both backends
    Tensor<T> y(size.rows, size.cols);
    cpu::op_table<T>().relu_forward(x, y);
    const Tensor<T> dy = random_matrix<T>(size.rows, size.cols, rng);
    check_elementwise<T>(
        {"relu_forward",
         "",
         {read("x", x), written<T>("y", size.rows, size.cols)},
         0.0,
         [](const OpTable<T>& ops, Operands<T>& o) { ops.relu_forward(o["x"], o["y"]); }},
        [](Operands<T>& o, const Size& s, const cuda::LaunchShape& shape) {
          cuda::launch::relu_forward(o.data("x"), o.stride("x"), o.data("y"), o.stride("y"), s.rows, s.cols,
                                     cuda::detail::stream(), shape);
        },
        size);
    check_elementwise<T>(
        {"relu_backward",
         "",
         {read("y", y), read("dy", dy), written<T>("dx", size.rows, size.cols)},
         0.0,
         [](const OpTable<T>& ops, Operands<T>& o) { ops.relu_backward(o["y"], o["dy"], o["dx"]); }},
        [](Operands<T>& o, const Size& s, const cuda::LaunchShape& shape) {
          cuda::launch::relu_backward(o.data("y"), o.stride("y"), o.data("dy"), o.stride("dy"), o.data("dx"),
                                      o.stride("dx"), s.rows, s.cols, cuda::detail::stream(), shape);
        },
        size);
  }
}

TYPED_TEST(CudaElementwise, DropoutDrawsTheCpuMask) {
  using T = TypeParam;
  Rng rng(2);
  std::uint64_t seed = 7;
  for (const Size& size : sizes()) {
    const double p = 0.3;
    ++seed;
    const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng);
    check_elementwise<T>(
        {"dropout_forward",
         "",
         {read("x", x), written<T>("mask", size.rows, size.cols), written<T>("y", size.rows, size.cols)},
         0.0,
         [p, seed](const OpTable<T>& ops, Operands<T>& o) { ops.dropout_forward(o["x"], p, seed, o["mask"], o["y"]); }},
        [p, seed](Operands<T>& o, const Size& s, const cuda::LaunchShape& shape) {
          cuda::launch::dropout_forward(o.data("x"), o.stride("x"), p, seed, o.data("mask"), o.stride("mask"),
                                        o.data("y"), o.stride("y"), s.rows, s.cols, 0, cuda::detail::stream(), shape);
        },
        size);
  }
}

TYPED_TEST(CudaElementwise, MultiplyAddCopyFill) {
  using T = TypeParam;
  Rng rng(3);
  for (const Size& size : sizes()) {
    const Tensor<T> a = random_matrix<T>(size.rows, size.cols, rng), b = random_matrix<T>(size.rows, size.cols, rng);
    const std::vector<Operand<T>> binary = {read("a", a), read("b", b), written<T>("out", size.rows, size.cols)};
    using BinaryLaunch =
        void (*)(const T*, Index, const T*, Index, T*, Index, Index, Index, cudaStream_t, const cuda::LaunchShape&);
    auto binary_launch = [](BinaryLaunch launch) {
      return [launch](Operands<T>& o, const Size& s, const cuda::LaunchShape& shape) {
        launch(o.data("a"), o.stride("a"), o.data("b"), o.stride("b"), o.data("out"), o.stride("out"), s.rows, s.cols,
               cuda::detail::stream(), shape);
      };
    };
    check_elementwise<T>({"multiply", "", binary, 0.0,
                          [](const OpTable<T>& ops, Operands<T>& o) { ops.multiply(o["a"], o["b"], o["out"]); }},
                         binary_launch(cuda::launch::multiply<T>), size);
    check_elementwise<T>(
        {"add", "", binary, 0.0, [](const OpTable<T>& ops, Operands<T>& o) { ops.add(o["a"], o["b"], o["out"]); }},
        binary_launch(cuda::launch::add<T>), size);
    check_elementwise<T>(
        {"copy",
         "",
         {read("a", a), written<T>("out", size.rows, size.cols)},
         0.0,
         [](const OpTable<T>& ops, Operands<T>& o) { ops.copy(o["a"], o["out"]); }},
        [](Operands<T>& o, const Size& s, const cuda::LaunchShape& shape) {
          cuda::launch::copy(o.data("a"), o.stride("a"), o.data("out"), o.stride("out"), s.rows, s.cols,
                             cuda::detail::stream(), shape);
        },
        size);
    check_elementwise<T>(
        {"fill",
         "",
         {written<T>("out", size.rows, size.cols)},
         0.0,
         [](const OpTable<T>& ops, Operands<T>& o) { ops.fill(o["out"], T(0.625)); }},
        [](Operands<T>& o, const Size& s, const cuda::LaunchShape& shape) {
          cuda::launch::fill(o.data("out"), o.stride("out"), T(0.625), s.rows, s.cols, cuda::detail::stream(), shape);
        },
        size);
  }
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
