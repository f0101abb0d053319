// Embedding starnn: one dense layer, y = x W^T + b, through the library's checked entry
// point; a whole net's forward pass; then a call with a weight of the wrong shape, which
// starnn rejects.
#include <cmath>
#include <cstdio>

#include "nn/net.h"
#include "nn/ops.h"
#include "nn/tensor.h"

int main() {
  // Two stars with three features each, mapped to two outputs.
  nn::Tensor<float> x(2, 3);  // x is (B, in) = (2, 3)
  nn::Tensor<float> w(2, 3);  // w is (out, in) = (2, 3)
  nn::Tensor<float> b(1, 2);  // b is (1, out) = (1, 2)
  nn::Tensor<float> y(2, 2);  // y is (B, out) = (2, 2)
  const float x_values[2][3] = {{1, 2, 3}, {4, 5, 6}};
  const float w_values[2][3] = {{0.5f, -1, 2}, {1, 0, -0.25f}};
  const float b_values[2] = {0.25f, -1};
  for (nn::Index i = 0; i < 2; ++i)
    for (nn::Index j = 0; j < 3; ++j) {
      x(i, j) = x_values[i][j];
      w(i, j) = w_values[i][j];
    }
  for (nn::Index j = 0; j < 2; ++j) b(0, j) = b_values[j];

  nn::ops::linear_forward<float>(x, w, b, y);

  // By hand: row 0 is (0.5 - 2 + 6 + 0.25, 1 - 0.75 - 1), row 1 is (2 - 5 + 12 + 0.25, 4 - 1.5 - 1).
  const float expected[2][2] = {{4.75f, -0.75f}, {9.25f, 1.5f}};
  bool ok = true;
  for (nn::Index i = 0; i < 2; ++i) {
    std::printf("y[%lld] = (%g, %g)\n", static_cast<long long>(i), y(i, 0), y(i, 1));
    for (nn::Index j = 0; j < 2; ++j) ok = ok && std::fabs(y(i, j) - expected[i][j]) <= 1e-6f;
  }
  if (!ok) {
    std::fprintf(stderr, "linear_forward differs from the hand-computed values\n");
    return 1;
  }

  // The thesis's net: four colours in, [Fe/H] out, through a ResDense sandwich backbone.
  nn::NetSpec spec;
  spec.n_inputs = 4;
  spec.backbone = {16, 32, 2, nn::BlockType::resdense, nn::Skips::additive, 0.0};
  spec.heads = {nn::HeadType::linear, 1, nn::Classifier::none};
  nn::Net<float> net(spec);
  nn::Tensor<float> colours(3, 4);  // colours is (B, 4): three stars
  colours.fill(0.5f);
  const nn::ConstView<float> feh = net.forward(colours, nn::Mode::eval);  // feh is (B, 1)
  std::printf("net: %lld parameters, output (%lld, %lld)\n", static_cast<long long>(net.parameters().size()),
              static_cast<long long>(feh.rows), static_cast<long long>(feh.cols));
  if (feh.rows != 3 || feh.cols != 1 || !std::isfinite(feh(0, 0))) return 1;

  // A weight with four inputs does not fit three-feature rows: starnn throws nn::Error,
  // whose message() is meant for the user (what() adds the file:line of the check).
  nn::Tensor<float> wrong_w(2, 4);
  wrong_w.fill(0);
  try {
    nn::ops::linear_forward<float>(x, wrong_w, b, y);
  } catch (const nn::Error& e) {
    std::printf("rejected: %s\n", e.message().c_str());
    return 0;
  }
  std::fprintf(stderr, "a weight of the wrong shape was accepted\n");
  return 1;
}
