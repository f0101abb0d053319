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
#include "op_case.h"

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

std::string describe(const LinearSize& s) {
  return "x (" + std::to_string(s.rows) + ", " + std::to_string(s.in) + "), w (" + std::to_string(s.out) + ", " +
         std::to_string(s.in) + ") (" + std::to_string(s.rows) + ", " + std::to_string(s.out) + ")";
}

// Random x, w and b for s; a case may plant values in them.
template <class T>
struct ForwardOperands {
  Tensor<T> x, w, b;
  ForwardOperands(const LinearSize& s, Rng& rng)
      : x(random_matrix<T>(s.rows, s.in, rng)),
        w(random_matrix<T>(s.out, s.in, rng, 0.3)),
        b(random_matrix<T>(1, s.out, rng)) {}
};

// How a case runs on the device: through the entry point or not, and through the launcher with
// each of these shapes on each of these GEMM routes.
struct Launches {
  bool entry_point = true;
  std::vector<cuda::LaunchShape> shapes;
  std::vector<GemmRoute> routes;
};
const Launches entry_point_only{true, {}, {}};

// The launcher variants: every route with every shape.
template <class T>
std::vector<Variant<T>> launcher_variants(
    const Launches& launches, const std::function<void(Operands<T>&, const cuda::LaunchShape&, GemmRoute)>& launch) {
  std::vector<Variant<T>> variants;
  for (const GemmRoute route : launches.routes)
    for (Variant<T>&v : with_shapes<T>(
             launches.shapes,
             [launch, route](Operands<T>&o, const cuda::LaunchShape&shape) { launch(o, shape, route); },
             describe(route)))
      variants.push_back(std::move(v));
  return variants;
}

template <class T>
void check_forward(const LinearSize& s, const ForwardOperands<T>& in, Activation activation, const Launches& launches,
                   double nmse_limit, const std::string& op) {
  const bool relu = activation == Activation::relu;
  OpCase<T> c{op,
              describe(s),
              {read("x", in.x), read("w", in.w), read("b", in.b), written<T>("y", s.rows, s.out)},
              nmse_limit,
              [relu](const OpTable<T>& ops, Operands<T>& o) {
                (relu ? ops.linear_relu_forward : ops.linear_forward)(o["x"], o["w"], o["b"], o["y"]);
              },
              shape_label(cuda::kElementwiseShape) + " (entry point)",
              launcher_variants<T>(
                  launches,
                  [relu, s](Operands<T>& o, const cuda::LaunchShape& shape, GemmRoute route) {
                    (relu ? cuda::launch::linear_relu_forward<T>
                          : cuda::launch::linear_forward<T>)(o.data("x"), o.stride("x"), o.data("w"), o.stride("w"),
                                                             o.data("b"), o.data("y"), o.stride("y"), s.rows, s.in,
                                                             s.out, blas_for(route), cuda::detail::stream(), shape);
                  }),
              launches.entry_point};
  check_op(c);
}

template <class T>
void check_forward(const LinearSize& s, const Launches& launches, double nmse_limit, const std::string& op, Rng& rng,
                   Activation activation = Activation::none) {
  check_forward<T>(s, ForwardOperands<T>(s, rng), activation, launches, nmse_limit, op);
}

template <class T>
void check_backward(const LinearSize& s, const Launches& launches, GradWrite dx_write, double nmse_limit,
                    const std::string& op, Rng& rng) {
  const Tensor<T> x = random_matrix<T>(s.rows, s.in, rng), w = random_matrix<T>(s.out, s.in, rng, 0.3);
  const Tensor<T> dy = random_matrix<T>(s.rows, s.out, rng);
  // dw and db accumulate; dx too when asked, and is overwritten (from NaN) otherwise.
  const Tensor<T> dw0 = random_matrix<T>(s.out, s.in, rng), db0 = random_matrix<T>(1, s.out, rng);
  const Tensor<T> dx0 = random_matrix<T>(s.rows, s.in, rng);
  const bool accumulate = dx_write == GradWrite::accumulate;
  OpCase<T> c{
      op + (accumulate ? " (dx accumulated)" : ""),
      describe(s),
      {read("x", x), read("w", w), read("dy", dy), accumulate ? updated("dx", dx0) : written<T>("dx", s.rows, s.in),
       updated("dw", dw0), updated("db", db0)},
      nmse_limit,
      [dx_write](const OpTable<T>& ops, Operands<T>& o) {
        ops.linear_backward(o["x"], o["w"], o["dy"], o["dx"], dx_write, o["dw"], o["db"]);
      },
      shape_label(cuda::kColumnTileShape) + " (entry point)",
      launcher_variants<T>(launches,
                           [dx_write, s](Operands<T>& o, const cuda::LaunchShape& shape, GemmRoute route) {
                             cuda::launch::linear_backward(o.data("x"), o.stride("x"), o.data("w"), o.stride("w"),
                                                           o.data("dy"), o.stride("dy"), o.data("dx"), o.stride("dx"),
                                                           dx_write, o.data("dw"), o.stride("dw"), o.data("db"), s.rows,
                                                           s.in, s.out, blas_for(route), cuda::detail::stream(), shape);
                           }),
      launches.entry_point};
  check_op(c);
}

TYPED_TEST(CudaLinear, Forward) {
  using T = TypeParam;
  Rng rng(31);
  for (const LinearSize& s : linear_sizes())
    check_forward<T>(s, {true, elementwise_shapes(), gemm_routes()}, limit<T>(1e-10, 1e-24), "linear_forward", rng);
}

TYPED_TEST(CudaLinear, ReluForward) {
  using T = TypeParam;
  Rng rng(36);
  for (const LinearSize& s : linear_sizes())
    check_forward<T>(s, {true, elementwise_shapes(), gemm_routes()}, limit<T>(1e-10, 1e-24), "linear_relu_forward", rng,
                     Activation::relu);
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
    check_forward<T>(s, in, Activation::relu, {false, {cuda::kElementwiseShape}, gemm_routes()}, limit<T>(1e-10, 1e-24),
                     "linear_relu_forward (NaN)");
  }
}

TYPED_TEST(CudaLinear, Backward) {
  using T = TypeParam;
  Rng rng(32);
  for (const LinearSize& s : linear_sizes())
    for (const GradWrite write : {GradWrite::overwrite, GradWrite::accumulate})
      check_backward<T>(s, {true, column_tile_shapes(), gemm_routes()}, write, limit<T>(1e-10, 1e-24),
                        "linear_backward", rng);
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
  EXPECT_EQ(matmuls_of([&] { check_forward<T>(aligned, entry_point_only, nmse_limit, "linear_forward", rng); }), 1)
      << "the forward's bias in the epilogue";
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(aligned, entry_point_only, nmse_limit, "linear_relu_forward", rng, Activation::relu);
            }),
            1)
      << "Linear + ReLU: the bias and the ReLU in the epilogue";
  EXPECT_EQ(matmuls_of([&] {
              check_backward<T>(aligned, entry_point_only, GradWrite::overwrite, nmse_limit, "linear_backward", rng);
            }),
            1)
      << "the weight gradient's GEMM with the bias gradient in its epilogue";
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(misaligned, entry_point_only, nmse_limit, "linear_forward", rng);
              check_forward<T>(misaligned, entry_point_only, nmse_limit, "linear_relu_forward", rng, Activation::relu);
              check_backward<T>(misaligned, entry_point_only, GradWrite::overwrite, nmse_limit, "linear_backward", rng);
            }),
            0)
      << "no algorithm for misaligned operands: the cuBLAS path";
  EXPECT_EQ(matmuls_of([&] {
              check_forward<T>(aligned, {false, {cuda::kElementwiseShape}, {GemmRoute::cublas_alone}}, nmse_limit,
                               "linear_forward", rng);
              check_forward<T>(aligned, {false, {cuda::kElementwiseShape}, {GemmRoute::cublas_alone}}, nmse_limit,
                               "linear_relu_forward", rng, Activation::relu);
              check_backward<T>(aligned, {false, {cuda::kColumnTileShape}, {GemmRoute::cublas_alone}},
                                GradWrite::accumulate, nmse_limit, "linear_backward", rng);
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
    check_forward<T>(s, entry_point_only, nmse_limit, "linear_forward (tf32)", rng);
    check_forward<T>(s, entry_point_only, nmse_limit, "linear_relu_forward (tf32)", rng, Activation::relu);
    check_backward<T>(s, entry_point_only, GradWrite::overwrite, nmse_limit, "linear_backward (tf32)", rng);
  }
}

}  // namespace
}  // namespace nn::test
