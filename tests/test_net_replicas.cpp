// Evaluation split by rows among OpenMP threads (Net::forward with replicas) gives the rows one
// thread gives, bit for bit: each row's products and passes are the same arithmetic whichever
// block it is in. A change to the net (a parameter, a running statistic) reaches the replicas
// before the next forward, and BF16 products run on every thread when the caller asked for them.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "nn/devices.h"
#include "nn/net.h"

namespace nn::test {
namespace {

NetSpec spec_of(BlockType block) {
  NetSpec spec;
  spec.n_inputs = 6;
  spec.backbone = {16, 64, 3, block, Skips::additive, 0.1};
  spec.heads = {HeadType::causal, 2, Classifier::binary, true};
  spec.seed = 9;
  return spec;
}

Tensor<float> inputs(Index rows) {
  Rng rng(4);
  Tensor<float> x(rows, 6);
  for (Index k = 0; k < x.size(); ++k) x.data()[k] = float(rng.normal());
  return x;
}

// net(x) in evaluation on `threads` OpenMP threads, copied out.
Tensor<float> evaluate(Net<float>& net, const Tensor<float>& x, int threads) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  const ConstView<float> y = net.forward(x.view(), Mode::eval);
  Tensor<float> out(y.rows, y.cols);
  for (Index i = 0; i < y.rows; ++i) std::copy(y.row(i), y.row(i) + y.cols, out.view().row(i));
  omp_set_num_threads(before);
  return out;
}

bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())) == 0;
}

TEST(NetReplicas, RowsSplitAmongThreadsAreTheOneThreadRows) {
  for (const BlockType block : {BlockType::resdense, BlockType::aresdense}) {
    Net<float> net(spec_of(block));
    const Tensor<float> x = inputs(3 * Net<float>::kRowsPerReplica + 7);  // uneven blocks
    const Tensor<float> one = evaluate(net, x, 1);
    EXPECT_TRUE(same_bits(evaluate(net, x, 2), one));
    EXPECT_TRUE(same_bits(evaluate(net, x, 3), one));
  }
}

TEST(NetReplicas, AChangedNetReachesTheReplicas) {
  Net<float> net(spec_of(BlockType::resdense));
  const Tensor<float> x = inputs(4 * Net<float>::kRowsPerReplica);
  const Tensor<float> before = evaluate(net, x, 2);
  // A parameter and a running statistic change between two forwards.
  View<float> values = net.parameters().values();
  for (Index k = 0; k < values.size(); k += 7) values.data[k] *= 1.1f;
  struct Buffers final : ModuleVisitor<float> {
    void parameter(const std::string&, Param<float>&) override {}
    void buffer(const std::string&, Tensor<float>& buffer) override { buffer.data()[0] += 0.5f; }
  } shift;
  net.visit(shift, "");
  const Tensor<float> after = evaluate(net, x, 2);
  EXPECT_FALSE(same_bits(after, before));
  EXPECT_TRUE(same_bits(after, evaluate(net, x, 1)));
}

TEST(NetReplicas, Bf16ProductsRunOnEveryThread) {
  if (!bf16_unavailable().empty()) GTEST_SKIP() << bf16_unavailable();
  Net<float> net(spec_of(BlockType::resdense));
  const Tensor<float> x = inputs(4 * Net<float>::kRowsPerReplica);
  const Tensor<float> fp32 = evaluate(net, x, 2);
  const Bf16Products products;
  const Tensor<float> one = evaluate(net, x, 1), two = evaluate(net, x, 2);
  EXPECT_FALSE(same_bits(one, fp32));
  EXPECT_TRUE(same_bits(two, one));  // the second thread's rows too
}

}  // namespace
}  // namespace nn::test
