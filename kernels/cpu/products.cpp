// The products of a Linear, each on its precision's GEMM provider (products.h).
#include "products.h"

#include <cblas.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "backend.h"
#include "bf16_products.h"
#include "gemm.h"
#include "nn/error.h"
#if STARNN_WITH_ONEDNN
#include "onednn_matmul.h"
#endif

namespace nn::cpu {
namespace {

constexpr bool kBuiltWithOneDnn = STARNN_WITH_ONEDNN;

GemmProvider provider_from_environment() {
  const char* value = std::getenv("STARNN_CPU_GEMM");
  if (!value || !*value) return kBuiltWithOneDnn ? GemmProvider::onednn : GemmProvider::openblas;
  const std::string_view name(value);
  if (name == "openblas") return GemmProvider::openblas;
  if (name == "onednn") {
    if (!kBuiltWithOneDnn) throw Error("STARNN_CPU_GEMM=onednn, but this build of starnn has no oneDNN");
    return GemmProvider::onednn;
  }
  throw Error(str("STARNN_CPU_GEMM=", name, ": expected onednn or openblas"));
}

// y = b, or b + residual, row by row: what OpenBLAS's beta = 1 then adds x W^T to.
template <class T>
void broadcast_bias(ConstView<T> b, LinearEpilogue epilogue, ConstView<T> residual, View<T> y) {
  for (Index i = 0; i < y.rows; ++i) {
    T* yi = y.row(i);
    if (epilogue == LinearEpilogue::residual) {
      const T* ri = residual.row(i);
      for (Index j = 0; j < y.cols; ++j) yi[j] = ri[j] + b.data[j];
    } else {
      for (Index j = 0; j < y.cols; ++j) yi[j] = b.data[j];
    }
  }
}

template <class T>
void openblas_linear_product(ConstView<T> x, ConstView<T> w, ConstView<T> b, LinearEpilogue epilogue,
                             ConstView<T> residual, View<T> y) {
  broadcast_bias(b, epilogue, residual, y);
  gemm(CblasNoTrans, CblasTrans, x.rows, w.rows, x.cols, T(1), x.data, x.stride, w.data, w.stride, T(1), y.data,
       y.stride);
}

template <class T>
void openblas_weight_gradient(ConstView<T> dy, ConstView<T> x, View<T> dw) {
  gemm(CblasTrans, CblasNoTrans, dw.rows, dw.cols, x.rows, T(1), dy.data, dy.stride, x.data, x.stride, T(1), dw.data,
       dw.stride);
}

template <class T>
void openblas_input_gradient(ConstView<T> dy, ConstView<T> w, GradWrite dx_write, View<T> dx) {
  // Always dx += dy W: to overwrite, dx is cleared first. OpenBLAS 0.3.21 clears C itself for
  // beta = 0, in a pass slower than fill's (10 to 25 us of a 60 to 600 us product at the
  // training sizes, on two threads); either way dx = 0 + dy W exactly.
  if (dx_write == GradWrite::overwrite) op_table<T>().fill(dx, T(0));
  gemm(CblasNoTrans, CblasNoTrans, dy.rows, w.cols, w.rows, T(1), dy.data, dy.stride, w.data, w.stride, T(1), dx.data,
       dx.stride);
}

#if STARNN_WITH_ONEDNN
// The bias and the residual as oneDNN adds them in the product's pass.
onednn::Epilogue onednn_epilogue(ConstView<float> b, LinearEpilogue epilogue, ConstView<float> residual,
                                 View<float> y) {
  onednn::Epilogue pass{.bias = b.data};
  // In place (the residual is y) the residual is y's earlier contents, which oneDNN's sum adds.
  if (epilogue == LinearEpilogue::residual) {
    if (residual.data == y.data && residual.stride == y.stride) {
      pass.accumulate = true;
    } else {
      pass.residual = residual.data;
      pass.residual_ld = residual.stride;
    }
  }
  return pass;
}

void onednn_linear_product(ConstView<float> x, ConstView<float> w, ConstView<float> b, LinearEpilogue epilogue,
                           ConstView<float> residual, View<float> y) {
  const BlasThreadsFor threads(x.rows, w.rows, x.cols);
  onednn::matmul(x.rows, w.rows, x.cols, {x.data, x.stride, false}, {w.data, w.stride, true},
                 onednn_epilogue(b, epilogue, residual, y), y.data, y.stride);
}

void onednn_bf16_linear_product(ConstView<float> x, ConstView<float> w, ConstView<float> b, LinearEpilogue epilogue,
                                ConstView<float> residual, View<float> y) {
  const BlasThreadsFor threads(x.rows, w.rows, x.cols);
  onednn::matmul_bf16(x.rows, w.rows, x.cols, bf16_rows(x), x.cols, w, onednn_epilogue(b, epilogue, residual, y),
                      y.data, y.stride);
}
#endif

// Training's products have no BF16 form: reaching one inside a Bf16Products scope is a mistake.
void expect_float_products(const char* product) {
  if (bf16_products_active())
    throw Error(str("the ", product, " of a backward pass ran inside a BF16 inference scope; BF16 is for inference"));
}

// Read from the environment at the first call; a bad value throws there, and again at every call.
std::atomic<GemmProvider>& chosen_float_provider() {
  static std::atomic<GemmProvider> provider = provider_from_environment();
  return provider;
}

}  // namespace

GemmProvider float_gemm_provider() { return chosen_float_provider().load(std::memory_order_relaxed); }

void set_float_gemm_provider(GemmProvider provider) {
  if (provider == GemmProvider::onednn && !kBuiltWithOneDnn) throw Error("this build of starnn has no oneDNN");
  chosen_float_provider().store(provider, std::memory_order_relaxed);
}

std::string gemm_description() {
  const std::string openblas = str(openblas_get_config(), " (kernels for ", openblas_get_corename(), ")");
#if STARNN_WITH_ONEDNN
  if (float_gemm_provider() == GemmProvider::onednn)
    return str("float products on ", onednn::description(), ", double on ", openblas);
#endif
  return str("float and double products on ", openblas);
}

template <class T>
void linear_product(ConstView<T> x, ConstView<T> w, ConstView<T> b, LinearEpilogue epilogue, ConstView<T> residual,
                    View<T> y) {
  const auto product = [&] {
#if STARNN_WITH_ONEDNN
    if constexpr (std::is_same_v<T, float>) {
      // A Bf16Products scope can only be open where oneDNN runs BF16 (bf16_products.h).
      if (bf16_products_active()) return onednn_bf16_linear_product(x, w, b, epilogue, residual, y);
      if (float_gemm_provider() == GemmProvider::onednn) return onednn_linear_product(x, w, b, epilogue, residual, y);
    }
#endif
    openblas_linear_product(x, w, b, epilogue, residual, y);
  };
  product();
  // The clamp is a second pass on either provider, relu_forward's, which lets a NaN through (no
  // provider's own ReLU does); y is still in cache from the product.
  if (epilogue == LinearEpilogue::relu) op_table<T>().relu_forward(y, y);
}

template <class T>
void weight_gradient_product(ConstView<T> dy, ConstView<T> x, View<T> dw) {
  expect_float_products("weight gradient");
#if STARNN_WITH_ONEDNN
  if constexpr (std::is_same_v<T, float>)
    if (float_gemm_provider() == GemmProvider::onednn) {
      const BlasThreadsFor threads(dw.rows, dw.cols, x.rows);
      return onednn::matmul(dw.rows, dw.cols, x.rows, {dy.data, dy.stride, true}, {x.data, x.stride, false},
                            {.accumulate = true}, dw.data, dw.stride);
    }
#endif
  openblas_weight_gradient(dy, x, dw);
}

template <class T>
void input_gradient_product(ConstView<T> dy, ConstView<T> w, GradWrite dx_write, View<T> dx) {
  expect_float_products("input gradient");
#if STARNN_WITH_ONEDNN
  if constexpr (std::is_same_v<T, float>)
    if (float_gemm_provider() == GemmProvider::onednn) {
      const BlasThreadsFor threads(dy.rows, w.cols, w.rows);
      return onednn::matmul(dy.rows, w.cols, w.rows, {dy.data, dy.stride, false}, {w.data, w.stride, false},
                            {.accumulate = dx_write == GradWrite::accumulate}, dx.data, dx.stride);
    }
#endif
  openblas_input_gradient(dy, w, dx_write, dx);
}

#define STARNN_INSTANTIATE_PRODUCTS(T)                                                                           \
  template void linear_product(ConstView<T>, ConstView<T>, ConstView<T>, LinearEpilogue, ConstView<T>, View<T>); \
  template void weight_gradient_product(ConstView<T>, ConstView<T>, View<T>);                                    \
  template void input_gradient_product(ConstView<T>, ConstView<T>, GradWrite, View<T>);
STARNN_INSTANTIATE_PRODUCTS(float)
STARNN_INSTANTIATE_PRODUCTS(double)
#undef STARNN_INSTANTIATE_PRODUCTS

}  // namespace nn::cpu
