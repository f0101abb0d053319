// Linear ops of the CUDA backend against the CPU (OpenBLAS): GEMMs on row-major views with row
// strides, through cuBLASLt with the bias (and the ReLU of linear_relu_forward) and the bias
// gradient in their epilogues, and through cuBLAS with the bias broadcast, the ReLU and the
// column sums of our kernels (the fallback, run on every problem through the launchers). GEMMs
// and column sums add in another order: NMSE within 1e-10 (float) and 1e-24 (double); the ReLU
// clamps both results at the same sign, so Linear + ReLU keeps those limits. With TF32 on, float
// GEMMs round their inputs to 10 mantissa bits: NMSE within 1e-5.
#include <limits>

#include "backend_testing.h"
#include "context.h"
#include "linear.h"
#include "nn/ops.h"

namespace nn::test {
namespace {

template <class T>
class CudaLinear : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
  void TearDown() override {
    if (cuda::device_count() > 0) cuda::set_gemm_math(cuda::GemmMath::fp32);
  }
};
TYPED_TEST_SUITE(CudaLinear, Types);

struct LinearSize {
  Index rows, in, out;
};

const std::vector<LinearSize>& linear_sizes() {
  static const std::vector<LinearSize> all = {{1, 1, 1},    {2, 3, 5},     {17, 33, 9},
                                              {64, 96, 70}, {130, 97, 33}, {5, 300, 7}};
  return all;
}

std::string describe(const LinearSize& s, const cuda::LaunchShape& shape) {
  return "x (" + std::to_string(s.rows) + ", " + std::to_string(s.in) + "), w (" + std::to_string(s.out) + ", " +
         std::to_string(s.in) + ") " + describe(Size{s.rows, s.out}, shape);
}

// A case runs through the entry point (shape null) or through the launcher with a shape and a
// GEMM route.
std::string where(const LinearSize& s, const cuda::LaunchShape* shape, GemmRoute route,
                  const cuda::LaunchShape& entry_shape) {
  return shape == nullptr ? describe(s, entry_shape) + " (entry point)" : describe(s, *shape) + describe(route);
}

// Which forward a case runs: linear_forward, or linear_relu_forward.

// Random x, w and b for s; a case may plant values in them.
template <class T>
struct ForwardOperands {
  Tensor<T> x, w, b;
  ForwardOperands(const LinearSize& s, Rng& rng)
      : x(random_matrix<T>(s.rows, s.in, rng)),
        w(random_matrix<T>(s.out, s.in, rng, 0.3)),
        b(random_matrix<T>(1, s.out, rng)) {}
};

template <class T>
void check_forward(const LinearSize& s, const ForwardOperands<T>& in, Activation activation,
                   const cuda::LaunchShape* shape, GemmRoute route, double nmse_limit, const std::string& op) {
  const bool relu = activation == Activation::relu;
  Tensor<T> y(s.rows, s.out);
  (relu ? cpu::op_table<T>().linear_relu_forward : cpu::op_table<T>().linear_forward)(in.x, in.w, in.b, y);

  DeviceMatrix<T> x_d(in.x.cview()), w_d(in.w.cview()), b_d(in.b.cview()), y_d(s.rows, s.out);
  if (shape == nullptr)
    (relu ? cuda::op_table<T>().linear_relu_forward : cuda::op_table<T>().linear_forward)(x_d.view(), w_d.view(),
                                                                                          b_d.view(), y_d.view());
  else
    (relu ? cuda::launch::linear_relu_forward<T>
          : cuda::launch::linear_forward<T>)(x_d.data(), x_d.stride(), w_d.data(), w_d.stride(), b_d.data(), y_d.data(),
                                             y_d.stride(), s.rows, s.in, s.out, blas_for(route), cuda::detail::stream(),
                                             *shape);
  expect_close<T>(op, y_d.get(), y, nmse_limit, where(s, shape, route, cuda::kElementwiseShape));
}

template <class T>
void check_forward(const LinearSize& s, const cuda::LaunchShape* shape, GemmRoute route, double nmse_limit,
                   const std::string& op, Rng& rng, Activation activation = Activation::none) {
  check_forward<T>(s, ForwardOperands<T>(s, rng), activation, shape, route, nmse_limit, op);
}

template <class T>
void check_backward(const LinearSize& s, const cuda::LaunchShape* shape, GemmRoute route, GradWrite dx_write,
                    double nmse_limit, const std::string& op, Rng& rng) {
  const Tensor<T> x = random_matrix<T>(s.rows, s.in, rng), w = random_matrix<T>(s.out, s.in, rng, 0.3);
  const Tensor<T> dy = random_matrix<T>(s.rows, s.out, rng);
  // dw and db accumulate; dx too when asked, and is overwritten (from NaN) otherwise.
  const Tensor<T> dw0 = random_matrix<T>(s.out, s.in, rng), db0 = random_matrix<T>(1, s.out, rng);
  const Tensor<T> dx0 = random_matrix<T>(s.rows, s.in, rng);
  Tensor<T> dw = copy_of<T>(dw0), db = copy_of<T>(db0), dx = copy_of<T>(dx0);
  cpu::op_table<T>().linear_backward(x, w, dy, dx, dx_write, dw, db);

  DeviceMatrix<T> x_d(x.cview()), w_d(w.cview()), dy_d(dy.cview()), dw_d(dw0.cview()), db_d(db0.cview()),
      dx_d(s.rows, s.in);
  if (dx_write == GradWrite::accumulate) dx_d.set(dx0);
  if (shape == nullptr)
    cuda::op_table<T>().linear_backward(x_d.view(), w_d.view(), dy_d.view(), dx_d.view(), dx_write, dw_d.view(),
                                        db_d.view());
  else
    cuda::launch::linear_backward(x_d.data(), x_d.stride(), w_d.data(), w_d.stride(), dy_d.data(), dy_d.stride(),
                                  dx_d.data(), dx_d.stride(), dx_write, dw_d.data(), dw_d.stride(), db_d.data(), s.rows,
                                  s.in, s.out, blas_for(route), cuda::detail::stream(), *shape);
  const std::string context = where(s, shape, route, cuda::kColumnTileShape);
  expect_close<T>(op + " (dw)", dw_d.get(), dw, nmse_limit, context);
  expect_close<T>(op + " (db)", db_d.get(), db, nmse_limit, context);
  expect_close<T>(op + (dx_write == GradWrite::accumulate ? " (dx, accumulated)" : " (dx)"), dx_d.get(), dx, nmse_limit,
                  context);
}

TYPED_TEST(CudaLinear, Forward) {
  using T = TypeParam;
  Rng rng(31);
  for (const LinearSize& s : linear_sizes()) {
    check_forward<T>(s, nullptr, GemmRoute::cublaslt_where_it_can, limit<T>(1e-10, 1e-24), "linear_forward", rng);
    for (const cuda::LaunchShape& shape : elementwise_shapes())
      for (const GemmRoute route : gemm_routes())
        check_forward<T>(s, &shape, route, limit<T>(1e-10, 1e-24), "linear_forward", rng);
  }
}

TYPED_TEST(CudaLinear, ReluForward) {
  using T = TypeParam;
  Rng rng(36);
  for (const LinearSize& s : linear_sizes()) {
    check_forward<T>(s, nullptr, GemmRoute::cublaslt_where_it_can, limit<T>(1e-10, 1e-24), "linear_relu_forward", rng,
                     Activation::relu);
    for (const cuda::LaunchShape& shape : elementwise_shapes())
      for (const GemmRoute route : gemm_routes())
        check_forward<T>(s, &shape, route, limit<T>(1e-10, 1e-24), "linear_relu_forward", rng, Activation::relu);
  }
}

TYPED_TEST(CudaLinear, ReluForwardKeepsNaN) {
  // As relu_forward on the CPU: a NaN in a row of x makes that row's outputs NaN, and a NaN in b
  // that column's, on both routes. Emulated, cuBLASLt's epilogue keeps it by assumption
  // (simt_cublaslt.cpp); on a GPU this checks the library.
  using T = TypeParam;
  Rng rng(37);
  for (const LinearSize& s : {LinearSize{17, 33, 9}, LinearSize{2, 3, 5}}) {
    ForwardOperands<T> in(s, rng);
    in.x(s.rows - 1, 0) = std::numeric_limits<T>::quiet_NaN();
    in.b(0, 1) = std::numeric_limits<T>::quiet_NaN();
    for (const GemmRoute route : gemm_routes())
      check_forward<T>(s, in, Activation::relu, &cuda::kElementwiseShape, route, limit<T>(1e-10, 1e-24),
                       "linear_relu_forward (NaN)");
  }
}

TYPED_TEST(CudaLinear, Backward) {
  using T = TypeParam;
  Rng rng(32);
  for (const LinearSize& s : linear_sizes())
    for (const GradWrite write : {GradWrite::overwrite, GradWrite::accumulate}) {
      check_backward<T>(s, nullptr, GemmRoute::cublaslt_where_it_can, write, limit<T>(1e-10, 1e-24), "linear_backward",
                        rng);
      for (const cuda::LaunchShape& shape : column_tile_shapes())
        for (const GemmRoute route : gemm_routes())
          check_backward<T>(s, &shape, route, write, limit<T>(1e-10, 1e-24), "linear_backward", rng);
    }
}

TYPED_TEST(CudaLinear, BackwardWithoutInputGradient) {
  // The first layer of a net needs no dx: an empty view, left alone.
  using T = TypeParam;
  Rng rng(33);
  const Tensor<T> x = random_matrix<T>(9, 6, rng), w = random_matrix<T>(4, 6, rng), dy = random_matrix<T>(9, 4, rng);
  Tensor<T> dw(4, 6), db(1, 4), no_dx;
  dw.fill(T(0));
  db.fill(T(0));
  DeviceMatrix<T> x_d(x.cview()), w_d(w.cview()), dy_d(dy.cview()), dw_d(dw.cview()), db_d(db.cview());
  cpu::op_table<T>().linear_backward(x, w, dy, no_dx, GradWrite::overwrite, dw, db);
  cuda::op_table<T>().linear_backward(x_d.view(), w_d.view(), dy_d.view(), View<T>(), GradWrite::overwrite, dw_d.view(),
                                      db_d.view());
  expect_close<T>("linear_backward (no dx)", dw_d.get(), dw, limit<T>(1e-10, 1e-24), "(9, 6) -> 4");
  expect_close<T>("linear_backward (no dx)", db_d.get(), db, limit<T>(1e-10, 1e-24), "(9, 6) -> 4");
}

#if defined(STARNN_CUDA_EMULATION)
TYPED_TEST(CudaLinear, AlignedOperandsTakeCublasLtTheRestFallBack) {
  // Which path runs is the heuristic's to say, and the emulated one has an algorithm only for
  // operands aligned to 16 bytes (simt_cublaslt.h). Every matrix here has a row stride of
  // cols + 3: with 33 inputs and 9 outputs, strides of 36 and 12 elements, aligned in float and
  // double; with 34 inputs, 37, which is not.
  using T = TypeParam;
  Rng rng(35);
  const LinearSize aligned{20, 33, 9}, misaligned{20, 34, 9};
  const double nmse_limit = limit<T>(1e-10, 1e-24);
  auto matmuls_of = [](auto&& run) {
    const std::int64_t before = simt::lt::accepted_matmuls();
    run();
    return simt::lt::accepted_matmuls() - before;
  };
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(aligned, nullptr, GemmRoute::cublaslt_where_it_can, nmse_limit, "linear_forward", rng);
            }),
            1)
      << "the forward's bias in the epilogue";
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(aligned, nullptr, GemmRoute::cublaslt_where_it_can, nmse_limit, "linear_relu_forward",
                               rng, Activation::relu);
            }),
            1)
      << "Linear + ReLU: the bias and the ReLU in the epilogue";
  EXPECT_EQ(matmuls_of([&] {
              check_backward<T>(aligned, nullptr, GemmRoute::cublaslt_where_it_can, GradWrite::overwrite, nmse_limit,
                                "linear_backward", rng);
            }),
            1)
      << "the weight gradient's GEMM with the bias gradient in its epilogue";
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(misaligned, nullptr, GemmRoute::cublaslt_where_it_can, nmse_limit, "linear_forward",
                               rng);
              check_forward<T>(misaligned, nullptr, GemmRoute::cublaslt_where_it_can, nmse_limit, "linear_relu_forward",
                               rng, Activation::relu);
              check_backward<T>(misaligned, nullptr, GemmRoute::cublaslt_where_it_can, GradWrite::overwrite, nmse_limit,
                                "linear_backward", rng);
            }),
            0)
      << "no algorithm for misaligned operands: the cuBLAS path";
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(aligned, &cuda::kElementwiseShape, GemmRoute::cublas_alone, nmse_limit, "linear_forward",
                               rng);
              check_forward<T>(aligned, &cuda::kElementwiseShape, GemmRoute::cublas_alone, nmse_limit,
                               "linear_relu_forward", rng, Activation::relu);
              check_backward<T>(aligned, &cuda::kColumnTileShape, GemmRoute::cublas_alone, GradWrite::accumulate,
                                nmse_limit, "linear_backward", rng);
            }),
            0)
      << "without cuBLASLt, the cuBLAS path";
}
#endif

TYPED_TEST(CudaLinear, Tf32IsOptIn) {
  using T = TypeParam;
  Rng rng(34);
  EXPECT_EQ(cuda::gemm_math(), cuda::GemmMath::fp32);
  cuda::set_gemm_math(cuda::GemmMath::tf32);
  EXPECT_EQ(cuda::gemm_math(), cuda::GemmMath::tf32);
  // Double GEMMs ignore TF32 and keep their tolerance.
  const double nmse_limit = limit<T>(1e-5, 1e-24);
  for (const LinearSize& s : linear_sizes()) {
    check_forward<T>(s, nullptr, GemmRoute::cublaslt_where_it_can, nmse_limit, "linear_forward (tf32)", rng);
    check_forward<T>(s, nullptr, GemmRoute::cublaslt_where_it_can, nmse_limit, "linear_relu_forward (tf32)", rng,
                     Activation::relu);
    check_backward<T>(s, nullptr, GemmRoute::cublaslt_where_it_can, GradWrite::overwrite, nmse_limit,
                      "linear_backward (tf32)", rng);
  }
}

}  // namespace
}  // namespace nn::test
