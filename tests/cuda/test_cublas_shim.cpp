// The emulation's cuBLAS (kernels/cuda/emulation/simt_cublas.h) against OpenBLAS called column-major: every
// transpose combination, leading dimensions larger than the rows, alpha and beta, cuBLAS's
// argument checks, and beta = 0 / alpha = 0 not reading C / A and B. Emulation builds only.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "nn/random.h"
#include "simt_cublas.h"

namespace nn::test {
namespace {

class CublasShim : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cublasCreate(&handle_), CUBLAS_STATUS_SUCCESS); }
  void TearDown() override { cublasDestroy(handle_); }
  cublasHandle_t handle_ = nullptr;
};

std::vector<float> random_vector(std::size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (float& x : v) x = float(rng.normal());
  return v;
}

CBLAS_TRANSPOSE cblas_op(cublasOperation_t op) { return op == CUBLAS_OP_T ? CblasTrans : CblasNoTrans; }

TEST_F(CublasShim, SgemmMatchesColumnMajorBlas) {
  Rng rng(61);
  const int m = 7, n = 5, k = 11;
  for (const cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T})
    for (const cublasOperation_t tb : {CUBLAS_OP_N, CUBLAS_OP_T}) {
      // Column-major op(A) is (m, k): A is (m, k) or (k, m); leading dimensions exceed the rows.
      const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
      const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
      const int lda = a_rows + 2, ldb = b_rows + 3, ldc = m + 1;
      const std::vector<float> a = random_vector(std::size_t(lda) * a_cols, rng);
      const std::vector<float> b = random_vector(std::size_t(ldb) * b_cols, rng);
      const std::vector<float> c0 = random_vector(std::size_t(ldc) * n, rng);
      const float alpha = 0.75f, beta = -1.25f;
      std::vector<float> expected = c0, actual = c0;
      cblas_sgemm(CblasColMajor, cblas_op(ta), cblas_op(tb), m, n, k, alpha, a.data(), lda, b.data(), ldb, beta,
                  expected.data(), ldc);
      ASSERT_EQ(cublasSgemm(handle_, ta, tb, m, n, k, &alpha, a.data(), lda, b.data(), ldb, &beta, actual.data(), ldc),
                CUBLAS_STATUS_SUCCESS);
      for (std::size_t e = 0; e < actual.size(); ++e)
        EXPECT_NEAR(actual[e], expected[e], 1e-5f * (1.0f + std::abs(expected[e]))) << "op " << ta << tb << " " << e;
    }
}

TEST_F(CublasShim, DgemmMatchesColumnMajorBlas) {
  Rng rng(62);
  const int m = 6, n = 9, k = 4, lda = k + 1, ldb = n + 2, ldc = m;
  std::vector<double> a(std::size_t(lda) * m), b(std::size_t(ldb) * k), c(std::size_t(ldc) * n);
  for (double& x : a) x = rng.normal();
  for (double& x : b) x = rng.normal();
  for (double& x : c) x = rng.normal();
  std::vector<double> expected = c;
  const double alpha = -0.5, beta = 2.0;
  cblas_dgemm(CblasColMajor, CblasTrans, CblasTrans, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta,
              expected.data(), ldc);
  ASSERT_EQ(cublasDgemm(handle_, CUBLAS_OP_T, CUBLAS_OP_T, m, n, k, &alpha, a.data(), lda, b.data(), ldb, &beta,
                        c.data(), ldc),
            CUBLAS_STATUS_SUCCESS);
  for (std::size_t e = 0; e < c.size(); ++e) EXPECT_NEAR(c[e], expected[e], 1e-13 * (1.0 + std::abs(expected[e])));
}

TEST_F(CublasShim, ZeroScalarsDoNotReadTheirOperand) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> a(4, 1.0f), b(4, 2.0f), c(4, nan);
  const float one = 1.0f, zero = 0.0f;
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &one, a.data(), 2, b.data(), 2, &zero, c.data(), 2),
            CUBLAS_STATUS_SUCCESS);
  for (const float v : c) EXPECT_EQ(v, 4.0f) << "beta = 0 overwrites C, NaN or not";
  std::vector<float> nan_a(4, nan);
  ASSERT_EQ(
      cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &zero, nan_a.data(), 2, b.data(), 2, &one, c.data(), 2),
      CUBLAS_STATUS_SUCCESS);
  for (const float v : c) EXPECT_EQ(v, 4.0f) << "alpha = 0 leaves A and B unread";
}

TEST_F(CublasShim, ChecksArgumentsAsCublas) {
  std::vector<float> a(64), b(64), c(64);
  const float one = 1.0f;
  auto sgemm = [&](cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda, int ldb, int ldc) {
    return cublasSgemm(handle_, ta, tb, m, n, k, &one, a.data(), lda, b.data(), ldb, &one, c.data(), ldc);
  };
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, 4, 4, 4), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, 3, 4, 4), CUBLAS_STATUS_INVALID_VALUE) << "lda < m";
  EXPECT_EQ(sgemm(CUBLAS_OP_T, CUBLAS_OP_N, 4, 4, 5, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE) << "lda < k for A^T";
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_T, 4, 6, 4, 4, 5, 4), CUBLAS_STATUS_INVALID_VALUE) << "ldb < n for B^T";
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, 4, 4, 3), CUBLAS_STATUS_INVALID_VALUE) << "ldc < m";
  EXPECT_EQ(sgemm(CUBLAS_OP_N, CUBLAS_OP_N, -1, 4, 4, 4, 4, 4), CUBLAS_STATUS_INVALID_VALUE) << "negative m";
  EXPECT_EQ(cublasSgemm(nullptr, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, a.data(), 1, b.data(), 1, &one, c.data(), 1),
            CUBLAS_STATUS_NOT_INITIALIZED);
}

TEST_F(CublasShim, Tf32RoundsFloatInputs) {
  // 1 + 2^-12 is not a TF32 number (10 mantissa bits): it rounds to 1, so the product does too.
  const float a = 1.0f + 0x1.0p-12f, b = 1.0f, zero = 0.0f, one = 1.0f;
  float c = 0.0f;
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &a, 1, &b, 1, &zero, &c, 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c, a);
  ASSERT_EQ(cublasSetMathMode(handle_, CUBLAS_TF32_TENSOR_OP_MATH), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &a, 1, &b, 1, &zero, &c, 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c, 1.0f);
  // 1 + 3 * 2^-12 lies above the midpoint between two TF32 neighbours: it rounds up, not down.
  const float up = 1.0f + 3 * 0x1.0p-12f;
  ASSERT_EQ(cublasSgemm(handle_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, &up, 1, &b, 1, &zero, &c, 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(c, 1.0f + 0x1.0p-10f);
}

}  // namespace
}  // namespace nn::test
