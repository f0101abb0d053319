// The fused Adam(W) step of the CUDA backend against the CPU, over whole buffers of odd
// lengths: a few operations per element, rounded alike except where a GPU contracts a multiply
// and an add into one FMA: NMSE within 1e-13 (float) and 1e-28 (double).
#include "adam.h"
#include "backend_testing.h"
#include "context.h"
#include "nn/ops.h"
#include "op_case.h"

namespace nn::test {
namespace {

template <class T>
class CudaAdam : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaAdam, Types);

const std::vector<cuda::LaunchShape>& adam_shapes() {
  static const std::vector<cuda::LaunchShape> all = {cuda::kAdamShape, {dim3(33), 3}, {dim3(1), 1}, {dim3(1024), 2}};
  return all;
}

TYPED_TEST(CudaAdam, Step) {
  using T = TypeParam;
  Rng rng(51);
  // Adam, then AdamW late in a one-cycle run (beta1 moved, bias corrections small).
  const AdamStep adam{.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0, .step = 1};
  const AdamStep adamw{.lr = 3e-4, .beta1 = 0.87, .beta2 = 0.99, .eps = 1e-7, .weight_decay = 0.01, .step = 40};
  for (const Index n : {1, 31, 1000, 4099})
    for (const AdamStep& step : {adam, adamw}) {
      const Tensor<T> params = random_matrix<T>(1, n, rng), grads = random_matrix<T>(1, n, rng, 0.1);
      const Tensor<T> m = random_matrix<T>(1, n, rng, 0.01);
      Tensor<T> v(1, n);
      for (Index k = 0; k < n; ++k) v(0, k) = T(1e-4 * rng.uniform());
      const double nmse_limit = limit<T>(1e-13, 1e-28);
      check_op<T>({"adam_step",
                   "n " + std::to_string(n) + ", step " + std::to_string(step.step),
                   {updated("params", params), read("grads", grads), updated("m", m), updated("v", v)},
                   nmse_limit,
                   [step](const OpTable<T>& ops, Operands<T>& o) {
                     ops.adam_step(o["params"], o["grads"], o["m"], o["v"], step);
                   },
                   " (entry point)",
                   with_shapes<T>(adam_shapes(), [n, step](Operands<T>& o, const cuda::LaunchShape& shape) {
                     cuda::launch::adam_step(o.data("params"), o.data("grads"), o.data("m"), o.data("v"), n, step,
                                             cuda::detail::stream(), shape);
                   })});
    }
}

}  // namespace
}  // namespace nn::test
