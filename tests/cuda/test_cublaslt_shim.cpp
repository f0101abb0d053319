// The emulation's cuBLASLt (kernels/cuda/emulation/simt_cublaslt.h) against OpenBLAS called column-major: every
// transpose combination with the bias epilogue and with bias + ReLU, C apart from D (its own
// leading dimension) and C == D, the bias gradients of A and of B, double and TF32; the order of
// bias and ReLU and the NaN the shim assumes the ReLU keeps; the heuristic's answer by
// alignment; what the library refuses, what the shim refuses where the library would compute
// garbage, and what it refuses as not emulated; a captured matmul keeping its arguments.
// Emulation builds only.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "nn/random.h"
#include "simt_cublaslt.h"

namespace nn::test {
namespace {

// Host memory as the emulated cudaMalloc gives it: 256-byte aligned.
template <class T>
class Buffer {
 public:
  explicit Buffer(std::size_t n) : n_(n) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(T)), cudaSuccess);
    data_.reset(static_cast<T*>(p));
  }
  Buffer(std::size_t n, Rng& rng) : Buffer(n) {
    for (std::size_t e = 0; e < n; ++e) data_.get()[e] = T(rng.normal());
  }
  T* data() const { return data_.get(); }
  T& operator[](std::size_t e) const { return data_.get()[e]; }
  std::size_t size() const { return n_; }
  std::vector<T> values() const { return std::vector<T>(data(), data() + n_); }

 private:
  struct Free {
    void operator()(T* p) const { cudaFree(p); }
  };
  std::size_t n_;
  std::unique_ptr<T, Free> data_;
};

template <class T>
constexpr cudaDataType_t data_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_64F;
}

// A matmul's descriptors, and the calls made with them.
class Matmul {
 public:
  Matmul(cublasComputeType_t compute, cudaDataType_t type, cublasOperation_t ta, cublasOperation_t tb,
         cublasLtEpilogue_t epilogue)
      : type_(type) {
    EXPECT_EQ(cublasLtCreate(&handle_), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(cublasLtMatmulDescCreate(&desc_, compute, type), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(set(CUBLASLT_MATMUL_DESC_TRANSA, ta), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(set(CUBLASLT_MATMUL_DESC_TRANSB, tb), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(set(CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(cublasLtMatmulPreferenceCreate(&preference_), CUBLAS_STATUS_SUCCESS);
  }
  Matmul(const Matmul&) = delete;
  Matmul& operator=(const Matmul&) = delete;
  ~Matmul() {
    for (cublasLtMatrixLayout_t layout : layouts_) cublasLtMatrixLayoutDestroy(layout);
    cublasLtMatmulPreferenceDestroy(preference_);
    cublasLtMatmulDescDestroy(desc_);
    cublasLtDestroy(handle_);
  }

  template <class V>
  cublasStatus_t set(cublasLtMatmulDescAttributes_t attribute, const V& value) {
    return cublasLtMatmulDescSetAttribute(desc_, attribute, &value, sizeof(value));
  }
  cublasStatus_t set_bias(const void* bias) { return set(CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias); }
  cublasStatus_t prefer_alignment(cublasLtMatmulPreferenceAttributes_t attribute, std::uint32_t bytes) {
    return cublasLtMatmulPreferenceSetAttribute(preference_, attribute, &bytes, sizeof(bytes));
  }
  cublasLtMatrixLayout_t layout(std::uint64_t rows, std::uint64_t cols, std::int64_t ld) {
    return layout(type_, rows, cols, ld);
  }
  cublasLtMatrixLayout_t layout(cudaDataType_t type, std::uint64_t rows, std::uint64_t cols, std::int64_t ld) {
    cublasLtMatrixLayout_t out = nullptr;
    EXPECT_EQ(cublasLtMatrixLayoutCreate(&out, type, rows, cols, ld), CUBLAS_STATUS_SUCCESS);
    layouts_.push_back(out);
    return out;
  }

  cublasStatus_t heuristic(cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c,
                           cublasLtMatrixLayout_t d, int* returned, int requested = 1) {
    return cublasLtMatmulAlgoGetHeuristic(handle_, desc_, a, b, c, d, preference_, requested, &result_, returned);
  }
  // The heuristic's algorithm, then the matmul with it.
  template <class T>
  cublasStatus_t run(T alpha, const T* A, cublasLtMatrixLayout_t a, const T* B, cublasLtMatrixLayout_t b, T beta,
                     const T* C, cublasLtMatrixLayout_t c, T* D, cublasLtMatrixLayout_t d) {
    int returned = 0;
    const cublasStatus_t found = heuristic(a, b, c, d, &returned);
    if (found != CUBLAS_STATUS_SUCCESS) return found;
    EXPECT_EQ(returned, 1);
    return matmul(alpha, A, a, B, b, beta, C, c, D, d);
  }
  // The matmul with the last algorithm the heuristic gave.
  template <class T>
  cublasStatus_t matmul(T alpha, const T* A, cublasLtMatrixLayout_t a, const T* B, cublasLtMatrixLayout_t b, T beta,
                        const T* C, cublasLtMatrixLayout_t c, T* D, cublasLtMatrixLayout_t d, void* workspace = nullptr,
                        std::size_t workspace_bytes = 0) {
    return cublasLtMatmul(handle_, desc_, &alpha, A, a, B, b, &beta, C, c, D, d, &result_.algo, workspace,
                          workspace_bytes, nullptr);
  }
  cublasLtHandle_t handle() const { return handle_; }
  cublasLtMatmulDesc_t desc() const { return desc_; }

 private:
  cudaDataType_t type_;
  cublasLtHandle_t handle_ = nullptr;
  cublasLtMatmulDesc_t desc_ = nullptr;
  cublasLtMatmulPreference_t preference_ = nullptr;
  cublasLtMatmulHeuristicResult_t result_{};
  std::vector<cublasLtMatrixLayout_t> layouts_;
};

CBLAS_TRANSPOSE cblas_op(cublasOperation_t op) { return op == CUBLAS_OP_T ? CblasTrans : CblasNoTrans; }

void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float* A, int lda,
          const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasColMajor, cblas_op(ta), cblas_op(tb), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, double alpha, const double* A, int lda,
          const double* B, int ldb, double beta, double* C, int ldc) {
  cblas_dgemm(CblasColMajor, cblas_op(ta), cblas_op(tb), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <class T>
void expect_near_all(const std::vector<T>& actual, const std::vector<T>& expected, double tolerance,
                     const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t e = 0; e < actual.size(); ++e)
    EXPECT_NEAR(actual[e], expected[e], tolerance * (1.0 + std::abs(expected[e]))) << what << ", element " << e;
}

// D (m, n) = alpha op(A) op(B) + beta C + bias along D's rows, clamped at 0 by RELU_BIAS, C
// apart from D with its own leading dimension; leading dimensions are multiples of 4 elements so
// that every operand is 16-byte aligned, and exceed the rows.
template <class T>
void check_bias_epilogue_with(cublasLtEpilogue_t epilogue, cublasComputeType_t compute, cublasOperation_t ta,
                              cublasOperation_t tb, double tolerance, Rng& rng) {
  const int m = 7, n = 5, k = 11;
  const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
  const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
  const int lda = (a_rows + 4) / 4 * 4, ldb = (b_rows + 7) / 4 * 4, ldc = 12, ldd = 8;
  const Buffer<T> a(std::size_t(lda) * a_cols, rng), b(std::size_t(ldb) * b_cols, rng), c(std::size_t(ldc) * n, rng),
      bias(m, rng), d(std::size_t(ldd) * n, rng);
  const std::vector<T> c_before = c.values(), d_before = d.values();
  const T alpha = T(0.75), beta = T(-1.25);
  // The reference: C's copy laid out as D, the GEMM into it, the bias added to each row, then
  // the ReLU.
  std::vector<T> expected = d_before;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) expected[std::size_t(i + j * ldd)] = c_before[std::size_t(i + j * ldc)];
  gemm(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, expected.data(), ldd);
  int clamped = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      T& e = expected[std::size_t(i + j * ldd)];
      e += bias[std::size_t(i)];
      if (epilogue == CUBLASLT_EPILOGUE_RELU_BIAS && e < T(0)) e = T(0), ++clamped;
    }
  if (epilogue == CUBLASLT_EPILOGUE_RELU_BIAS) EXPECT_GT(clamped, 0) << "a ReLU that clamps nothing tests nothing";

  Matmul mm(compute, data_type<T>(), ta, tb, epilogue);
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(mm.run(alpha, a.data(), mm.layout(a_rows, a_cols, lda), b.data(), mm.layout(b_rows, b_cols, ldb), beta,
                   c.data(), mm.layout(m, n, ldc), d.data(), mm.layout(m, n, ldd)),
            CUBLAS_STATUS_SUCCESS);
  expect_near_all(d.values(), expected, tolerance, "op " + std::to_string(ta) + std::to_string(tb));
  EXPECT_EQ(c.values(), c_before) << "C is only read";
}

// The same check with A and B each as they are and transposed.
template <class T>
void check_bias_epilogue(cublasLtEpilogue_t epilogue, cublasComputeType_t compute, double tolerance, Rng& rng) {
  for (const cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T})
    for (const cublasOperation_t tb : {CUBLAS_OP_N, CUBLAS_OP_T})
      check_bias_epilogue_with<T>(epilogue, compute, ta, tb, tolerance, rng);
}

TEST(CublasLtShim, BiasEpilogueMatchesColumnMajorBlas) {
  Rng rng(71);
  check_bias_epilogue<float>(CUBLASLT_EPILOGUE_BIAS, CUBLAS_COMPUTE_32F, 1e-5, rng);
  check_bias_epilogue<double>(CUBLASLT_EPILOGUE_BIAS, CUBLAS_COMPUTE_64F, 1e-13, rng);
}

TEST(CublasLtShim, ReluBiasEpilogueMatchesColumnMajorBlasThenClamp) {
  Rng rng(74);
  check_bias_epilogue<float>(CUBLASLT_EPILOGUE_RELU_BIAS, CUBLAS_COMPUTE_32F, 1e-5, rng);
  check_bias_epilogue<float>(CUBLASLT_EPILOGUE_RELU_BIAS, CUBLAS_COMPUTE_32F_FAST_TF32, 1e-2, rng);
  check_bias_epilogue<double>(CUBLASLT_EPILOGUE_RELU_BIAS, CUBLAS_COMPUTE_64F, 1e-13, rng);
}

TEST(CublasLtShim, ReluBiasAddsTheBiasThenClampsAndKeepsNaN) {
  // "apply Bias and then ReLu transform" (cublasLt.h): a product of -1 with bias 1.5 gives 0.5
  // (clamping first would give 1.5), 1 with bias -1.5 gives 0 (clamping first, -0.5). A NaN
  // stays NaN, the shim's assumption where the header says nothing. In place (C == D, beta = 1)
  // the ReLU applies to the whole sum. A is diag(-1, 1, NaN, 1), B the identity, ld 4.
  const Buffer<double> a(16), b(16), bias(4), d(16);
  for (std::size_t e = 0; e < 16; ++e) a[e] = 0.0, b[e] = e % 5 == 0 ? 1.0 : 0.0;
  a[0] = -1.0, a[5] = 1.0, a[10] = std::nan(""), a[15] = 1.0;
  bias[0] = 1.5, bias[1] = -1.5, bias[2] = 0.0, bias[3] = 0.0;
  Matmul mm(CUBLAS_COMPUTE_64F, CUDA_R_64F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_RELU_BIAS);
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  const cublasLtMatrixLayout_t square = mm.layout(4, 4, 4);
  ASSERT_EQ(mm.run(1.0, a.data(), square, b.data(), square, 0.0, d.data(), square, d.data(), square),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(d[0], 0.5);
  EXPECT_EQ(d[5], 0.0);
  EXPECT_TRUE(std::isnan(d[10])) << d[10];
  EXPECT_EQ(d[15], 1.0);
  EXPECT_EQ(d[4], 1.5) << "off the diagonal, the bias of row 0 alone";
  EXPECT_EQ(d[1], 0.0) << "off the diagonal, the bias of row 1 alone, clamped";
  EXPECT_TRUE(std::isnan(d[14])) << "NaN times 0 is NaN: row 2 is NaN throughout";
  // D = max(A B + D + bias, 0) with D from above: 0.5 - 1 + 1.5 = 1 and, where the product is
  // 0, -5 + 1.5 clamped to 0.
  d[0] = 0.5, d[4] = -5.0;
  ASSERT_EQ(mm.run(1.0, a.data(), square, b.data(), square, 1.0, d.data(), square, d.data(), square),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(d[0], 1.0);
  EXPECT_EQ(d[4], 0.0);
}

TEST(CublasLtShim, InPlaceAccumulatesIntoD) {
  // C == D with D's layout: D = op(A) op(B) + D + bias, as a skip connection added in place.
  Rng rng(72);
  const int m = 6, n = 9, k = 4, ld = 8;
  const Buffer<double> a(std::size_t(ld) * k, rng), b(std::size_t(ld) * n, rng), d(std::size_t(ld) * n, rng),
      bias(m, rng);
  std::vector<double> expected = d.values();
  gemm(CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, 1.0, a.data(), ld, b.data(), ld, 1.0, expected.data(), ld);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) expected[std::size_t(i + j * ld)] += bias[std::size_t(i)];
  Matmul mm(CUBLAS_COMPUTE_64F, CUDA_R_64F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  const cublasLtMatrixLayout_t d_layout = mm.layout(m, n, ld);
  ASSERT_EQ(mm.run(1.0, a.data(), mm.layout(m, k, ld), b.data(), mm.layout(k, n, ld), 1.0, d.data(), d_layout, d.data(),
                   d_layout),
            CUBLAS_STATUS_SUCCESS);
  expect_near_all(d.values(), expected, 1e-13, "in place");
}

TEST(CublasLtShim, BiasGradientsReduceOverK) {
  // BGRADB: one value per column of D, the sum of op(B) over k; BGRADA: one per row of D, the
  // sum of op(A) over k. D itself is the plain product, here accumulated in place (beta = 1).
  Rng rng(73);
  const int m = 5, n = 7, k = 13;
  for (const cublasLtEpilogue_t epilogue : {CUBLASLT_EPILOGUE_BGRADA, CUBLASLT_EPILOGUE_BGRADB})
    for (const cublasOperation_t ta : {CUBLAS_OP_N, CUBLAS_OP_T})
      for (const cublasOperation_t tb : {CUBLAS_OP_N, CUBLAS_OP_T}) {
        const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
        const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
        const int lda = (a_rows + 3) / 4 * 4, ldb = (b_rows + 3) / 4 * 4, ldd = 8;
        const Buffer<float> a(std::size_t(lda) * a_cols, rng), b(std::size_t(ldb) * b_cols, rng),
            d(std::size_t(ldd) * n, rng);
        const bool of_a = epilogue == CUBLASLT_EPILOGUE_BGRADA;
        Buffer<float> gradient(of_a ? m : n);  // NaN: written, never read
        std::vector<float> expected_d = d.values();
        gemm(ta, tb, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 1.0f, expected_d.data(), ldd);
        std::vector<float> expected_gradient(gradient.size());
        for (std::size_t v = 0; v < gradient.size(); ++v) {
          double sum = 0.0;
          for (int l = 0; l < k; ++l) {
            const int i = int(v);
            sum += of_a ? (ta == CUBLAS_OP_N ? a[std::size_t(i + l * lda)] : a[std::size_t(l + i * lda)])
                        : (tb == CUBLAS_OP_N ? b[std::size_t(l + i * ldb)] : b[std::size_t(i + l * ldb)]);
          }
          expected_gradient[v] = float(sum);
        }
        Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, ta, tb, epilogue);
        ASSERT_EQ(mm.set_bias(gradient.data()), CUBLAS_STATUS_SUCCESS);
        const cublasLtMatrixLayout_t d_layout = mm.layout(m, n, ldd);
        ASSERT_EQ(mm.run(1.0f, a.data(), mm.layout(a_rows, a_cols, lda), b.data(), mm.layout(b_rows, b_cols, ldb), 1.0f,
                         d.data(), d_layout, d.data(), d_layout),
                  CUBLAS_STATUS_SUCCESS);
        const std::string what =
            std::string(of_a ? "BGRADA" : "BGRADB") + " op " + std::to_string(ta) + std::to_string(tb);
        expect_near_all(d.values(), expected_d, 1e-5, what + " (D)");
        expect_near_all(gradient.values(), expected_gradient, 1e-5, what + " (bias gradient)");
      }
}

TEST(CublasLtShim, BetaZeroDoesNotReadC) {
  // 2 x 2 operands with leading dimension 4; D starts as NaN and is also C.
  const Buffer<float> a(8), b(8), bias(2), d(8);
  for (std::size_t e = 0; e < 8; ++e) a[e] = 1.0f, b[e] = 2.0f;
  bias[0] = 0.5f, bias[1] = -0.5f;
  Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  const cublasLtMatrixLayout_t square = mm.layout(2, 2, 4);
  ASSERT_EQ(mm.run(1.0f, a.data(), square, b.data(), square, 0.0f, d.data(), square, d.data(), square),
            CUBLAS_STATUS_SUCCESS);
  for (const std::size_t e : {0, 1, 4, 5}) EXPECT_EQ(d[e], 4.0f + bias[e % 4]) << "element " << e;
  for (const std::size_t e : {2, 3, 6, 7}) EXPECT_TRUE(std::isnan(d[e])) << "past the rows, element " << e;
}

TEST(CublasLtShim, Tf32ComputeRoundsFloatInputs) {
  // 1 + 2^-12 is not a TF32 number (10 mantissa bits): it rounds to 1, so the product does too.
  const Buffer<float> a(4), b(4), d(4), bias(4);
  for (std::size_t e = 0; e < 4; ++e) a[e] = 1.0f + 0x1.0p-12f, b[e] = 1.0f, bias[e] = 0.0f;
  for (const cublasComputeType_t compute : {CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32}) {
    Matmul mm(compute, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
    ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
    const cublasLtMatrixLayout_t one = mm.layout(1, 1, 4);
    ASSERT_EQ(mm.run(1.0f, a.data(), one, b.data(), one, 0.0f, d.data(), one, d.data(), one), CUBLAS_STATUS_SUCCESS);
    EXPECT_EQ(d[0], compute == CUBLAS_COMPUTE_32F ? a[0] : 1.0f);
  }
}

TEST(CublasLtShim, HeuristicNeedsSixteenByteAlignment) {
  // The shim's one algorithm needs every matrix (its pointer as the preference promises it, its
  // leading dimension in bytes) and the bias vector (by its pointer) aligned to 16 bytes: below
  // that it has nothing, as the library may have nothing for a problem, and says so with
  // NOT_SUPPORTED.
  const Buffer<float> bias(8);
  const cublasLtMatmulPreferenceAttributes_t operands[] = {
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
  for (const cublasLtMatmulPreferenceAttributes_t operand : operands)
    for (const std::uint32_t bytes : {4u, 8u, 16u, 256u}) {
      Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
      ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
      ASSERT_EQ(mm.prefer_alignment(operand, bytes), CUBLAS_STATUS_SUCCESS);
      const cublasLtMatrixLayout_t layout = mm.layout(4, 4, 4);
      int returned = -1;
      EXPECT_EQ(mm.heuristic(layout, layout, layout, layout, &returned),
                bytes >= 16 ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED)
          << "operand " << operand << " aligned to " << bytes;
      EXPECT_EQ(returned, bytes >= 16 ? 1 : 0);
    }
  for (const std::int64_t ld : {5, 6, 8}) {
    Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
    ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
    const cublasLtMatrixLayout_t square = mm.layout(4, 4, 4), strided = mm.layout(4, 4, ld);
    int returned = -1;
    EXPECT_EQ(mm.heuristic(square, strided, square, square, &returned),
              ld * sizeof(float) % 16 == 0 ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED)
        << "B's columns " << ld << " floats apart";
  }
  for (const cublasLtEpilogue_t epilogue : {CUBLASLT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_RELU_BIAS})
    for (const std::size_t offset : {1, 2, 4}) {
      Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, epilogue);
      ASSERT_EQ(mm.set_bias(bias.data() + offset), CUBLAS_STATUS_SUCCESS);
      const cublasLtMatrixLayout_t layout = mm.layout(4, 4, 4);
      int returned = -1;
      EXPECT_EQ(mm.heuristic(layout, layout, layout, layout, &returned),
                offset * sizeof(float) >= 16 ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_SUPPORTED)
          << "epilogue " << epilogue << ", bias " << offset << " floats past a 256-byte boundary";
    }
  // The heuristic only reads the bias pointer's value. One whose lowest set bit lies above bit 31
  // (ThreadSanitizer's allocator returns such addresses) is aligned to every boundary.
  for (const int bit : {31, 32, 40}) {
    Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
    ASSERT_EQ(mm.set_bias(reinterpret_cast<const void*>(std::uintptr_t(1) << bit)), CUBLAS_STATUS_SUCCESS);
    const cublasLtMatrixLayout_t layout = mm.layout(4, 4, 4);
    int returned = -1;
    EXPECT_EQ(mm.heuristic(layout, layout, layout, layout, &returned), CUBLAS_STATUS_SUCCESS) << "bias at 2^" << bit;
  }
}

TEST(CublasLtShim, RefusesWhatTheLibraryRefuses) {
  const Buffer<float> a(64), b(64), c(64), d(64), bias(16);
  auto make = [](cublasComputeType_t compute, cudaDataType_t type) {
    return std::make_unique<Matmul>(compute, type, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_DEFAULT);
  };
  int returned = 0;
  {
    // Types outside cublasLtMatmul's table.
    auto mm = make(CUBLAS_COMPUTE_64F, CUDA_R_32F);
    const cublasLtMatrixLayout_t l = mm->layout(CUDA_R_32F, 4, 4, 4);
    EXPECT_EQ(mm->heuristic(l, l, l, l, &returned), CUBLAS_STATUS_NOT_SUPPORTED) << "float data, double compute";
    auto tf32 = make(CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_64F);
    const cublasLtMatrixLayout_t dl = tf32->layout(CUDA_R_64F, 4, 4, 4);
    EXPECT_EQ(tf32->heuristic(dl, dl, dl, dl, &returned), CUBLAS_STATUS_NOT_SUPPORTED) << "TF32 on doubles";
    auto mixed = make(CUBLAS_COMPUTE_32F, CUDA_R_32F);
    const cublasLtMatrixLayout_t fl = mixed->layout(CUDA_R_32F, 4, 4, 4), dd = mixed->layout(CUDA_R_64F, 4, 4, 4);
    EXPECT_EQ(mixed->heuristic(fl, fl, fl, dd, &returned), CUBLAS_STATUS_INVALID_VALUE) << "C and D of two types";
    EXPECT_EQ(mixed->heuristic(dd, fl, fl, fl, &returned), CUBLAS_STATUS_NOT_SUPPORTED) << "a double A";
  }
  auto mm = make(CUBLAS_COMPUTE_32F, CUDA_R_32F);
  const cublasLtMatrixLayout_t square = mm->layout(4, 4, 4);
  EXPECT_EQ(mm->heuristic(mm->layout(4, 4, 3), square, square, square, &returned), CUBLAS_STATUS_INVALID_VALUE)
      << "lda below the rows";
  EXPECT_EQ(mm->heuristic(square, mm->layout(5, 4, 8), square, square, &returned), CUBLAS_STATUS_INVALID_VALUE)
      << "op(B) with 5 rows after op(A) with 4 columns";
  EXPECT_EQ(mm->heuristic(square, square, mm->layout(4, 3, 4), square, &returned), CUBLAS_STATUS_INVALID_VALUE)
      << "C of another size than D";
  EXPECT_EQ(mm->heuristic(square, square, square, square, &returned, 0), CUBLAS_STATUS_INVALID_VALUE)
      << "no algorithm requested";
  ASSERT_EQ(mm->heuristic(square, square, square, square, &returned), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(mm->matmul(1.0f, a.data(), square, b.data(), square, 1.0f, d.data(), mm->layout(4, 4, 8), d.data(), square),
            CUBLAS_STATUS_INVALID_VALUE)
      << "C == D with another layout";
  EXPECT_EQ(mm->matmul(1.0f, a.data(), square, b.data(), square, 0.0f, c.data(), square, d.data(), square,
                       static_cast<void*>(c.data() + 4), 64),
            CUBLAS_STATUS_INVALID_VALUE)
      << "a workspace that is not 256-byte aligned";
  EXPECT_EQ(cublasLtMatmul(nullptr, mm->desc(), nullptr, a.data(), square, b.data(), square, nullptr, c.data(), square,
                           d.data(), square, nullptr, nullptr, 0, nullptr),
            CUBLAS_STATUS_NOT_INITIALIZED);
  for (const cublasLtEpilogue_t epilogue : {CUBLASLT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_RELU_BIAS}) {
    auto biased = std::make_unique<Matmul>(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, epilogue);
    const cublasLtMatrixLayout_t l = biased->layout(4, 4, 4);
    EXPECT_EQ(biased->heuristic(l, l, l, l, &returned), CUBLAS_STATUS_INVALID_VALUE)
        << "epilogue " << epilogue << " without its bias";
  }
}

TEST(CublasLtShim, RefusesWhatWouldBeGarbage) {
  const Buffer<float> a(64), b(64), d(64), bias(16);
  Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  const cublasLtMatrixLayout_t square = mm.layout(4, 4, 4);
  int returned = 0;
  ASSERT_EQ(mm.prefer_alignment(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, 16), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(mm.heuristic(square, square, square, square, &returned), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(mm.matmul(1.0f, a.data(), square, b.data(), square, 1.0f, d.data() + 8, square, d.data(), square),
            CUBLAS_STATUS_INVALID_VALUE)
      << "C overlapping D without being D";
  EXPECT_EQ(mm.matmul(1.0f, a.data(), square, b.data(), square, 1.0f, d.data() + 16, square, d.data(), square),
            CUBLAS_STATUS_SUCCESS)
      << "C just past D";
  EXPECT_EQ(mm.matmul(1.0f, a.data() + 1, square, b.data(), square, 0.0f, d.data(), square, d.data(), square),
            CUBLAS_STATUS_INVALID_VALUE)
      << "A 4-byte aligned, the algorithm chosen for 256";
  EXPECT_EQ(mm.matmul(1.0f, a.data(), square, b.data(), square, 0.0f, d.data() + 4, square, d.data() + 4, square),
            CUBLAS_STATUS_INVALID_VALUE)
      << "D 16-byte aligned, the algorithm chosen for 256";
  ASSERT_EQ(mm.set_bias(bias.data() + 1), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(mm.matmul(1.0f, a.data(), square, b.data(), square, 0.0f, d.data(), square, d.data(), square),
            CUBLAS_STATUS_INVALID_VALUE)
      << "the bias 4-byte aligned, the algorithm chosen for 256";
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(mm.matmul(1.0f, a.data(), square, b.data(), square, 0.0f, d.data(), square, d.data(), square),
            CUBLAS_STATUS_SUCCESS);
}

TEST(CublasLtShim, RefusesWhatItDoesNotEmulate) {
  const Buffer<float> a(16), b(16), d(16), gradient(4);
  Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_DEFAULT);
  // CUBLASLT_EPILOGUE_RELU, RELU_AUX, RELU_AUX_BIAS, DRELU, DRELU_BGRAD, GELU, GELU_BIAS: every
  // activation but RELU_BIAS, and every aux buffer.
  for (const std::uint32_t epilogue : {2u, 2u | 128u, 2u | 128u | 4u, 8u | 128u, 8u | 128u | 16u, 32u, 32u | 4u})
    EXPECT_EQ(mm.set(CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue), CUBLAS_STATUS_INVALID_VALUE) << "epilogue " << epilogue;
  EXPECT_EQ(mm.set(cublasLtMatmulDescAttributes_t(12), std::int64_t(128)), CUBLAS_STATUS_INVALID_VALUE)
      << "an aux leading dimension";
  EXPECT_EQ(mm.set(CUBLASLT_MATMUL_DESC_TRANSA, std::int64_t(CUBLAS_OP_T)), CUBLAS_STATUS_INVALID_VALUE)
      << "an attribute of the wrong size";
  ASSERT_EQ(mm.set(CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BGRADB), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(mm.set_bias(gradient.data()), CUBLAS_STATUS_SUCCESS);
  const cublasLtMatrixLayout_t square = mm.layout(4, 4, 4);
  EXPECT_EQ(mm.run(2.0f, a.data(), square, b.data(), square, 0.0f, d.data(), square, d.data(), square),
            CUBLAS_STATUS_INVALID_VALUE)
      << "a bias gradient with alpha other than 1";
  const float one = 1.0f, zero = 0.0f;
  EXPECT_EQ(cublasLtMatmul(mm.handle(), mm.desc(), &one, a.data(), square, b.data(), square, &zero, d.data(), square,
                           d.data(), square, nullptr, nullptr, 0, nullptr),
            CUBLAS_STATUS_INVALID_VALUE)
      << "no algorithm: the library would ask its heuristic";
}

TEST(CublasLtShim, CapturedMatmulKeepsItsArguments) {
  // Recorded in a capture, a matmul runs when the graph does, with alpha, beta and the bias
  // pointer of the moment it was called.
  const Buffer<float> a(16), b(16), d(16), bias(4), other_bias(4);
  for (std::size_t e = 0; e < 16; ++e) a[e] = b[e] = e % 5 == 0 ? 1.0f : 0.0f;  // identities with ld 4
  for (std::size_t e = 0; e < 4; ++e) bias[e] = 10.0f, other_bias[e] = -10.0f;
  Matmul mm(CUBLAS_COMPUTE_32F, CUDA_R_32F, CUBLAS_OP_N, CUBLAS_OP_N, CUBLASLT_EPILOGUE_BIAS);
  ASSERT_EQ(mm.set_bias(bias.data()), CUBLAS_STATUS_SUCCESS);
  const cublasLtMatrixLayout_t square = mm.layout(4, 4, 4);
  ASSERT_EQ(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal), cudaSuccess);
  const std::int64_t accepted = simt::lt::accepted_matmuls();
  ASSERT_EQ(mm.run(2.0f, a.data(), square, b.data(), square, 0.0f, d.data(), square, d.data(), square),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(simt::lt::accepted_matmuls(), accepted + 1);
  ASSERT_EQ(mm.set_bias(other_bias.data()), CUBLAS_STATUS_SUCCESS);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(nullptr, &graph), cudaSuccess);
  EXPECT_TRUE(std::isnan(d[0])) << "recorded, not run";
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, nullptr), cudaSuccess);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(d[std::size_t(i + 4 * j)], (i == j ? 2.0f : 0.0f) + 10.0f);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
}

}  // namespace
}  // namespace nn::test
