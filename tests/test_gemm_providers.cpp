// The float products of the CPU backend on each GEMM provider (kernels/cpu/products.h) against
// the same ops in double (OpenBLAS's dgemm, another code path) on the same values: Linear, Linear +
// ReLU, Linear + residual (beside y and in place), and both gradients, overwritten and
// accumulated, on contiguous tensors and on column ranges of wider ones (a row stride that is not
// the width). Errors are max |a - b| / max(|b|, 1). A float sum of k products of order 1 is off
// by at most about k u (u = 2^-24, the classical bound); the tolerance is twice that, so a lost
// term or a wrong operand (errors of order 1) is far outside it.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "harness.h"
#include "nn/ops.h"
#include "products.h"

namespace nn::test {
namespace {

using cpu::GemmProvider;

// The tolerance for a float sum of `terms` products of order 1, each output's own included.
double float_rounding(Index terms) { return 2.0 * double(terms + 1) * 0x1p-24; }

std::vector<GemmProvider> providers() {
  std::vector<GemmProvider> all{GemmProvider::openblas};
  if (STARNN_WITH_ONEDNN) all.push_back(GemmProvider::onednn);
  return all;
}

const char* name(GemmProvider p) { return p == GemmProvider::onednn ? "onednn" : "openblas"; }

// Sets the float provider for one test and puts the process's choice back after it.
class WithProvider {
 public:
  explicit WithProvider(GemmProvider p) : previous_(cpu::float_gemm_provider()) { cpu::set_float_gemm_provider(p); }
  ~WithProvider() { cpu::set_float_gemm_provider(previous_); }
  WithProvider(const WithProvider&) = delete;
  WithProvider& operator=(const WithProvider&) = delete;

 private:
  GemmProvider previous_;
};

// A matrix in double and in float with the same values, as a (rows, cols) view that is either
// contiguous or the middle columns of a wider allocation.
struct Pair {
  Tensor<double> wide_d;
  Tensor<float> wide_f;
  Index rows, cols, first;
  Pair(Index rows_, Index cols_, bool strided, Rng& rng, double scale = 1.0)
      : wide_d(random_tensor(rows_, cols_ + (strided ? 5 : 0), rng, scale)),
        wide_f(rows_, cols_ + (strided ? 5 : 0)),
        rows(rows_),
        cols(cols_),
        first(strided ? 2 : 0) {
    for (Index k = 0; k < wide_d.size(); ++k) wide_f.data()[k] = float(wide_d.data()[k]);
    // The double copy holds the float values exactly, so both sides start from the same numbers.
    for (Index k = 0; k < wide_d.size(); ++k) wide_d.data()[k] = double(wide_f.data()[k]);
  }
  View<double> d() { return View<double>(wide_d).col_range(first, cols); }
  View<float> f() { return View<float>(wide_f).col_range(first, cols); }
};

double error(ConstView<float> actual, ConstView<double> expected) {
  Tensor<double> a(actual.rows, actual.cols);
  for (Index i = 0; i < actual.rows; ++i)
    for (Index j = 0; j < actual.cols; ++j) a(i, j) = double(actual(i, j));
  return max_error(a, expected);
}

void expect_close(const std::string& what, Index terms, ConstView<float> actual, ConstView<double> expected) {
  const double e = error(actual, expected);
  std::cout << "[gemm provider] " << what << ": " << e << "\n";
  EXPECT_LE(e, float_rounding(terms)) << what;
}

struct LinearShape {
  Index rows, in, out;
};
// A single row, odd sizes, a head of one output, and the nets' widths.
const std::vector<LinearShape> kShapes = {{1, 3, 2}, {7, 5, 9}, {33, 130, 1}, {256, 64, 64}, {300, 32, 96}};

std::string describe(GemmProvider p, const LinearShape& s, bool strided) {
  return str(name(p), " (", s.rows, ", ", s.in, ", ", s.out, ")", strided ? " strided" : "");
}

TEST(GemmProviders, ForwardProductsMatchDouble) {
  Rng rng(71);
  for (const GemmProvider p : providers()) {
    const WithProvider use(p);
    for (const LinearShape& s : kShapes)
      for (const bool strided : {false, true}) {
        Pair x(s.rows, s.in, strided, rng), w(s.out, s.in, strided, rng, 0.3), b(1, s.out, false, rng);
        Pair r(s.rows, s.out, strided, rng), y(s.rows, s.out, strided, rng);
        Tensor<double> ref(s.rows, s.out);
        const std::string at = describe(p, s, strided);

        ops::linear_forward<double>(x.d(), w.d(), b.d(), ref);
        ops::linear_forward<float>(x.f(), w.f(), b.f(), y.f());
        expect_close("linear " + at, s.in, y.f(), ref);

        ops::relu_forward<double>(ref, ref);
        ops::linear_relu_forward<float>(x.f(), w.f(), b.f(), y.f());
        expect_close("linear relu " + at, s.in, y.f(), ref);

        ops::linear_residual_forward<double>(x.d(), w.d(), b.d(), r.d(), ref);
        ops::linear_residual_forward<float>(x.f(), w.f(), b.f(), r.f(), y.f());
        expect_close("linear residual " + at, s.in + 1, y.f(), ref);
        // In place: the residual is y.
        ops::linear_residual_forward<float>(x.f(), w.f(), b.f(), r.f(), r.f());
        expect_close("linear residual in place " + at, s.in + 1, r.f(), ref);
      }
  }
}

TEST(GemmProviders, GradientProductsMatchDouble) {
  Rng rng(72);
  for (const GemmProvider p : providers()) {
    const WithProvider use(p);
    for (const LinearShape& s : kShapes)
      for (const bool strided : {false, true})
        for (const GradWrite write : {GradWrite::overwrite, GradWrite::accumulate}) {
          Pair x(s.rows, s.in, strided, rng), w(s.out, s.in, strided, rng, 0.3), dy(s.rows, s.out, strided, rng);
          // Gradients already hold values: dw and db accumulate, dx only where asked.
          Pair dx(s.rows, s.in, strided, rng), dw(s.out, s.in, strided, rng), db(1, s.out, false, rng);
          Tensor<double> dx_ref = copy_of(dx.d()), dw_ref = copy_of(dw.d()), db_ref = copy_of(db.d());
          ops::linear_backward<double>(x.d(), w.d(), dy.d(), dx_ref, write, dw_ref, db_ref);
          ops::linear_backward<float>(x.f(), w.f(), dy.f(), dx.f(), write, dw.f(), db.f());
          const std::string at =
              describe(p, s, strided) + (write == GradWrite::overwrite ? " dx overwritten" : " dx accumulated");
          expect_close("dx " + at, s.out, dx.f(), dx_ref);
          expect_close("dw " + at, s.rows, dw.f(), dw_ref);
          expect_close("db " + at, s.rows, db.f(), db_ref);
        }
  }
}

// A provider's plans are kept per shape, strides and epilogue: products of the same sizes with
// other strides or another epilogue, interleaved, each give what they give alone, to the bit, and
// so does a repeat.
TEST(GemmProviders, InterleavedShapesGiveTheSameBitsAsAlone) {
  Rng rng(73);
  for (const GemmProvider p : providers()) {
    const WithProvider use(p);
    Pair x(64, 48, false, rng), xs(64, 48, true, rng), w(40, 48, false, rng), b(1, 40, false, rng);
    Tensor<float> alone(64, 40), alone_strided(64, 40), alone_relu(64, 40);
    ops::linear_forward<float>(x.f(), w.f(), b.f(), alone);
    ops::linear_forward<float>(xs.f(), w.f(), b.f(), alone_strided);
    ops::linear_relu_forward<float>(x.f(), w.f(), b.f(), alone_relu);
    for (int round = 0; round < 3; ++round) {
      Tensor<float> y(64, 40), y_strided(64, 40), y_relu(64, 40);
      ops::linear_relu_forward<float>(x.f(), w.f(), b.f(), y_relu);
      ops::linear_forward<float>(xs.f(), w.f(), b.f(), y_strided);
      ops::linear_forward<float>(x.f(), w.f(), b.f(), y);
      EXPECT_TRUE(std::equal(y.data(), y.data() + y.size(), alone.data())) << name(p) << " round " << round;
      EXPECT_TRUE(std::equal(y_strided.data(), y_strided.data() + y.size(), alone_strided.data())) << name(p);
      EXPECT_TRUE(std::equal(y_relu.data(), y_relu.data() + y.size(), alone_relu.data())) << name(p);
    }
  }
}

// Ensemble members train side by side, one host thread each on one OpenMP thread: products run
// from two threads at once give each thread what one thread alone gives.
TEST(GemmProviders, ThreadsSideBySideGiveWhatOneThreadGives) {
  Rng rng(74);
  Pair x(256, 64, false, rng), w(64, 64, false, rng, 0.3), b(1, 64, false, rng);
  for (const GemmProvider p : providers()) {
    const WithProvider use(p);
    const auto run = [&](Tensor<float>& y) {
      omp_set_num_threads(1);
      for (int step = 0; step < 20; ++step) ops::linear_relu_forward<float>(x.f(), w.f(), b.f(), y);
    };
    Tensor<float> alone(256, 64), first(256, 64), second(256, 64);
    std::thread([&] { run(alone); }).join();
    std::thread a([&] { run(first); }), c([&] { run(second); });
    a.join();
    c.join();
    EXPECT_TRUE(std::equal(first.data(), first.data() + first.size(), alone.data())) << name(p);
    EXPECT_TRUE(std::equal(second.data(), second.data() + second.size(), alone.data())) << name(p);
  }
}

TEST(GemmProviders, DefaultIsOneDnnWhereBuilt) {
  if (std::getenv("STARNN_CPU_GEMM")) GTEST_SKIP() << "STARNN_CPU_GEMM is set";
  EXPECT_EQ(cpu::float_gemm_provider(), STARNN_WITH_ONEDNN ? GemmProvider::onednn : GemmProvider::openblas);
  const std::string description = cpu::gemm_description();
  std::cout << "[gemm provider] " << description << "\n";
  EXPECT_NE(description.find(STARNN_WITH_ONEDNN ? "float products on oneDNN" : "float and double products on"),
            std::string::npos)
      << description;
}

}  // namespace
}  // namespace nn::test
