#pragma once
// Cases that the plain BatchNorm ops (test_batchnorm.cpp) and the fused BatchNorm + ReLU ops
// (test_fused_block.cpp) share: the two training forwards have one signature, and a backward
// starts from what its forward saved.
#include <string>

#include "backend_testing.h"
#include "batchnorm.h"
#include "context.h"
#include "fused_block.h"
#include "op_case.h"

namespace nn::test {

// A table slot of a training forward: batchnorm_forward_train or batchnorm_relu_forward_train.
template <class T>
using ForwardTrainSlot = decltype(OpTable<T>::batchnorm_forward_train) OpTable<T>::*;

// Column reductions in another order than the CPU's: NMSE within 1e-10 (float), 1e-24 (double).
template <class T>
double batchnorm_reduction_limit() {
  return limit<T>(1e-10, 1e-24);
}

// Every batch size of two rows or more, through the entry point and the launcher with every
// column-tile shape. `launch` is the slot's launcher (cuda::launch::<op><T>).
template <class T, class Launch>
void check_forward_train(const std::string& op, ForwardTrainSlot<T> slot, Launch launch, Rng& rng) {
  const BatchNormOptions options;
  for (const Size& size : batch_sizes()) {
    if (size.rows < 2) continue;  // a training batch needs two rows
    // An offset mean, so a one-pass variance would lose digits to cancellation.
    const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng, 2.0, 3.0);
    Features<T> f(size.cols, rng);
    check_op<T>(
        {op,
         describe(size),
         {read("x", x), read("gamma", f.gamma), read("beta", f.beta), written<T>("y", size.rows, size.cols),
          written<T>("mean", 1, size.cols), written<T>("invstd", 1, size.cols), updated("running mean", f.running_mean),
          updated("running var", f.running_var)},
         batchnorm_reduction_limit<T>(),
         [options, slot](const OpTable<T>& ops, Operands<T>& o) {
           (ops.*slot)(o["x"], o["gamma"], o["beta"], options, o["y"], o["mean"], o["invstd"], o["running mean"],
                       o["running var"]);
         },
         shape_label(cuda::kColumnTileShape) + " (entry point)",
         with_shapes<T>(column_tile_shapes(), [options, size, launch](Operands<T>& o, const cuda::LaunchShape& s) {
           launch(o.data("x"), o.stride("x"), o.data("gamma"), o.data("beta"), T(options.eps), T(options.momentum),
                  o.data("y"), o.stride("y"), o.data("mean"), o.data("invstd"), o.data("running mean"),
                  o.data("running var"), size.rows, size.cols, cuda::detail::batchnorm_partials<T>(s),
                  cuda::detail::stream(), s);
         })});
  }
}

// A table slot of an evaluation forward: batchnorm_forward_eval or batchnorm_relu_forward_eval.
template <class T>
using ForwardEvalSlot = decltype(OpTable<T>::batchnorm_forward_eval) OpTable<T>::*;

// Elementwise with running statistics, where only FMA contraction on a GPU can change a
// rounding: NMSE within 1e-13 (float), 1e-28 (double). Every size, through the entry point and
// the launcher with every elementwise shape; inputs scattered about x_offset.
template <class T, class Launch>
void check_forward_eval(const std::string& op, ForwardEvalSlot<T> slot, Launch launch, double x_offset, Rng& rng) {
  const BatchNormOptions options;
  for (const Size& size : sizes()) {
    const Tensor<T> x = random_matrix<T>(size.rows, size.cols, rng, 2.0, x_offset);
    Features<T> f(size.cols, rng);
    check_op<T>(
        {op,
         describe(size),
         {read("x", x), read("gamma", f.gamma), read("beta", f.beta), read("running mean", f.running_mean),
          read("running var", f.running_var), written<T>("y", size.rows, size.cols)},
         limit<T>(1e-13, 1e-28),
         [options, slot](const OpTable<T>& ops, Operands<T>& o) {
           (ops.*slot)(o["x"], o["gamma"], o["beta"], o["running mean"], o["running var"], options, o["y"]);
         },
         shape_label(cuda::kElementwiseShape) + " (entry point)",
         with_shapes<T>(elementwise_shapes(), [options, size, launch](Operands<T>& o, const cuda::LaunchShape& s) {
           launch(o.data("x"), o.stride("x"), o.data("gamma"), o.data("beta"), o.data("running mean"),
                  o.data("running var"), T(options.eps), o.data("y"), o.stride("y"), size.rows, size.cols,
                  cuda::detail::stream(), s);
         })});
  }
}

// The batch statistics a training forward through `slot` saves for x; a single row has none, so
// any will do there.
template <class T>
struct SavedStatistics {
  Tensor<T> mean, invstd;
};
template <class T>
SavedStatistics<T> saved_statistics(const Tensor<T>& x, Features<T>& f, ForwardTrainSlot<T> slot, Rng& rng) {
  SavedStatistics<T> s{random_matrix<T>(1, x.cols(), rng, 1.0, 3.0), Tensor<T>(1, x.cols())};
  for (Index j = 0; j < x.cols(); ++j) s.invstd(0, j) = T(0.5 + rng.uniform());
  if (x.rows() >= 2) {
    Tensor<T> y(x.rows(), x.cols());
    (cpu::op_table<T>().*slot)(x, f.gamma, f.beta, BatchNormOptions(), y, s.mean, s.invstd, f.running_mean,
                               f.running_var);
  }
  return s;
}

}  // namespace nn::test
