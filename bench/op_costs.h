#pragma once
// The least work each op must do, shared by the CPU and the CUDA benchmarks so that their GB/s
// and GFLOP/s mean the same thing. Floats are one read of every input and one write of every
// output (accumulated outputs count twice); an op that walks its input more than once moves more,
// so its GB/s reads low against the memory bandwidth. FLOPs are counted for the GEMMs only.
// (What each CUDA kernel actually moves is in kernels/README.md and bench/kernel_costs.json.)
#include "nn/tensor.h"

namespace nn::bench {

struct OpCost {
  double floats = 0.0;
  double flops = 0.0;
};

inline OpCost linear_forward_cost(Index rows, Index in, Index out) {
  return {double(rows * in + out * in + out + rows * out), 2.0 * double(rows * in * out)};
}
inline OpCost linear_backward_cost(Index rows, Index in, Index out) {
  return {double(rows * in + out * in + rows * out + 2 * (out * in + out) + rows * in), 4.0 * double(rows * in * out)};
}
inline OpCost batchnorm_forward_train_cost(Index rows, Index d) { return {double(2 * rows * d + 8 * d)}; }
inline OpCost batchnorm_forward_eval_cost(Index rows, Index d) { return {double(2 * rows * d + 4 * d)}; }
inline OpCost batchnorm_backward_cost(Index rows, Index d) { return {double(3 * rows * d + 7 * d)}; }
// `operands` (B, d) matrices read or written once: 2 for relu forward and copy, 3 for relu
// backward, dropout, multiply and add, 5 for attention forward (with its residual) and backward,
// 1 for fill.
inline OpCost elementwise_cost(Index rows, Index d, int operands) { return {double(operands * rows * d)}; }
inline OpCost weighted_l1_loss_cost(Index rows, Index targets) { return {double(4 * rows * targets + targets)}; }
inline OpCost weighted_l1_backward_cost(Index rows, Index targets) { return {double(5 * rows * targets + targets)}; }
inline OpCost bce_loss_cost(Index rows) { return {double(2 * rows)}; }
inline OpCost bce_backward_cost(Index rows) { return {double(3 * rows)}; }
// params, grads, m, v read; params, m, v written.
inline OpCost adam_cost(Index n) { return {double(7 * n)}; }

}  // namespace nn::bench
