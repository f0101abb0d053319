// The residual blocks' fused ops on the CPU (nn/ops.h; kernels/README.md, "Fused ResDense"): each
// saves a pass over a (B, d) activation that the unfused ops would make.
#include "backend.h"
#include "batchnorm_columns.h"
#include "products.h"

namespace nn::cpu {
namespace {

template <class T>
void batchnorm_relu_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta,
                                  const BatchNormOptions& options, View<T> y, View<T> mean, View<T> invstd,
                                  View<T> running_mean, View<T> running_var) {
  batchnorm_train_columns<Activation::relu>(x, gamma, beta, options, y, mean, invstd, running_mean, running_var);
}

template <class T>
void batchnorm_relu_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                                 ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  batchnorm_eval_columns<Activation::relu>(x, gamma, beta, running_mean, running_var, options, y);
}

template <class T>
void batchnorm_relu_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma,
                             ConstView<T> beta, ConstView<T> dy, ConstView<T> residual, View<T> dx, View<T> dgamma,
                             View<T> dbeta) {
  batchnorm_backward_columns<Activation::relu>(x, mean, invstd, gamma, beta, dy, residual, dx, dgamma, dbeta);
}

template <class T>
void linear_residual_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, ConstView<T> residual, View<T> y) {
  // x is (B, in), w is (out, in), b is (1, out), residual and y are (B, out): the skip connection
  // is added in the product's pass (oneDNN's post-op, or OpenBLAS's beta = 1 over y = b +
  // residual), never in a pass of its own.
  linear_product<T>(x, w, b, LinearEpilogue::residual, residual, y);
}

template <class T>
void batchnorm_fold_into_linear(ConstView<T> w, ConstView<T> b, ConstView<T> gamma, ConstView<T> beta,
                                ConstView<T> running_mean, ConstView<T> running_var, const BatchNormOptions& options,
                                View<T> w_folded, View<T> b_folded) {
  // Output feature o of the Linear is BatchNorm's column o: its scale multiplies row o of w.
  // The bias goes through the same scale and shift as batchnorm_forward_eval.
  for (Index o = 0; o < w.rows; ++o) {
    const EvalAffine<T> bn = eval_affine(gamma, beta, running_mean, running_var, options, o);
    const T* wo = w.row(o);
    T* fo = w_folded.row(o);
    for (Index k = 0; k < w.cols; ++k) fo[k] = wo[k] * bn.scale;
    b_folded.data[o] = b.data[o] * bn.scale + bn.shift;
  }
}

}  // namespace

template <class T>
void fill_fused_block_ops(OpTable<T>& table) {
  table.batchnorm_relu_forward_train = batchnorm_relu_forward_train<T>;
  table.batchnorm_relu_forward_eval = batchnorm_relu_forward_eval<T>;
  table.batchnorm_relu_backward = batchnorm_relu_backward<T>;
  table.linear_residual_forward = linear_residual_forward<T>;
  table.batchnorm_fold_into_linear = batchnorm_fold_into_linear<T>;
}
template void fill_fused_block_ops(OpTable<float>&);
template void fill_fused_block_ops(OpTable<double>&);

}  // namespace nn::cpu
