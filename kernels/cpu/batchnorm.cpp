// BatchNorm1d ops on the CPU: the column loops of batchnorm_columns.h without an activation.
#include "backend.h"
#include "batchnorm_columns.h"

namespace nn::cpu {
namespace {

template <class T>
void batchnorm_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var) {
  batchnorm_train_columns<Activation::none>(x, gamma, beta, options, y, mean, invstd, running_mean, running_var);
}

template <class T>
void batchnorm_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y) {
  batchnorm_eval_columns<Activation::none>(x, gamma, beta, running_mean, running_var, options, y);
}

template <class T>
void batchnorm_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma, ConstView<T> dy,
                        View<T> dx, View<T> dgamma, View<T> dbeta) {
  batchnorm_backward_columns<Activation::none>(x, mean, invstd, gamma, ConstView<T>(), dy, ConstView<T>(), dx, dgamma,
                                               dbeta);
}

}  // namespace

template <class T>
void fill_batchnorm_ops(OpTable<T>& table) {
  table.batchnorm_forward_train = batchnorm_forward_train<T>;
  table.batchnorm_forward_eval = batchnorm_forward_eval<T>;
  table.batchnorm_backward = batchnorm_backward<T>;
}
template void fill_batchnorm_ops(OpTable<float>&);
template void fill_batchnorm_ops(OpTable<double>&);

}  // namespace nn::cpu
