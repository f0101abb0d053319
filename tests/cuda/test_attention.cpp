// Feature-attention ops of the CUDA backend against the CPU. The forward's softmax and the
// backward pass reduce along rows in another order (and a GPU's exp may differ by an ulp): NMSE
// within 1e-10 (float) and 1e-24 (double). The backward's direct path dh is two products per
// element, rounded as on the CPU: identical values.
#include "attention.h"
#include "backend_testing.h"
#include "context.h"
#include "nn/ops.h"
#include "op_case.h"

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
  for (const bool with_residual : {false, true})
    for (const Size& size : sizes()) {
      // Large logits: the shift by the row maximum is what keeps exp finite.
      const Tensor<T> z = random_matrix<T>(size.rows, size.cols, rng, 30.0);
      const Tensor<T> h = random_matrix<T>(size.rows, size.cols, rng);
      const Tensor<T> residual = random_matrix<T>(size.rows, size.cols, rng);
      const auto r = [with_residual](Operands<T>& o) { return with_residual ? ConstView<T>(o["r"]) : ConstView<T>(); };
      const std::string suffix = with_residual ? " with residual" : " without residual";
      check_op<T>(
          {"attention_forward",
           describe(size),
           {read("z", z), read("h", h), read("r", residual), written<T>("a", size.rows, size.cols),
            written<T>("y", size.rows, size.cols)},
           reduction_limit<T>(),
           [r](const OpTable<T>& ops, Operands<T>& o) { ops.attention_forward(o["z"], o["h"], r(o), o["a"], o["y"]); },
           shape_label(cuda::kWarpPerRowShape) + " (entry point)" + suffix,
           with_shapes<T>(
               warp_per_row_shapes(),
               [with_residual, size](Operands<T>& o, const cuda::LaunchShape& shape) {
                 cuda::launch::attention_forward(o.data("z"), o.stride("z"), o.data("h"), o.stride("h"),
                                                 with_residual ? o.data("r") : nullptr, o.stride("r"), o.data("a"),
                                                 o.stride("a"), o.data("y"), o.stride("y"), size.rows, size.cols,
                                                 cuda::detail::stream(), shape);
               },
               suffix)});
    }
}

// y may be the residual: AResDense could sum onto its input in place.
TYPED_TEST(CudaAttention, ForwardOntoItsResidual) {
  using T = TypeParam;
  Rng rng(24);
  const Tensor<T> z = random_matrix<T>(9, 70, rng, 3.0), h = random_matrix<T>(9, 70, rng);
  const Tensor<T> residual = random_matrix<T>(9, 70, rng);
  check_op<T>(
      {"attention_forward (onto its residual)",
       "(9, 70)",
       {read("z", z), read("h", h), updated("y", residual), written<T>("a", 9, 70)},
       reduction_limit<T>(),
       [](const OpTable<T>& ops, Operands<T>& o) { ops.attention_forward(o["z"], o["h"], o["y"], o["a"], o["y"]); }});
}

TYPED_TEST(CudaAttention, Backward) {
  using T = TypeParam;
  Rng rng(23);
  for (const Size& size : sizes()) {
    const Tensor<T> h = random_matrix<T>(size.rows, size.cols, rng);
    const Tensor<T> a = attention_weights<T>(size.rows, size.cols, rng);
    const Tensor<T> dy = random_matrix<T>(size.rows, size.cols, rng);
    // dh is two products per element, rounded as on the CPU: identical values.
    check_op<T>({"attention_backward",
                 describe(size),
                 {read("h", h), read("a", a), read("dy", dy), written<T>("dh", size.rows, size.cols, 0.0),
                  written<T>("dz", size.rows, size.cols)},
                 reduction_limit<T>(),
                 [](const OpTable<T>& ops, Operands<T>& o) {
                   ops.attention_backward(o["h"], o["a"], o["dy"], o["dh"], o["dz"]);
                 },
                 shape_label(cuda::kWarpPerRowShape) + " (entry point)",
                 with_shapes<T>(warp_per_row_shapes(), [size](Operands<T>& o, const cuda::LaunchShape& shape) {
                   cuda::launch::attention_backward(o.data("h"), o.stride("h"), o.data("a"), o.stride("a"),
                                                    o.data("dy"), o.stride("dy"), o.data("dh"), o.stride("dh"),
                                                    o.data("dz"), o.stride("dz"), size.rows, size.cols,
                                                    cuda::detail::stream(), shape);
                 })});
  }
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
