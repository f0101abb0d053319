// A training step split among OpenMP threads (Trainer with TrainOptions::split_on_threads: each
// thread a shard of the batch on its own replica of the net, nn/thread_shards.h) takes the step the
// whole batch takes: in double, the gradients of one step on 2 and 3 threads agree with one
// thread's to a few units of the last place (the split sums run in another order), and the
// parameters and running statistics closely, after one step and after two epochs. In float a split run repeats bit for
// bit on the same threads, differs in its last bits from the whole batch's (so the split did run), and a bad input is
// refused naming its batch row.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "nn/net.h"
#include "nn/train.h"

namespace nn::test {
namespace {

// BatchNorm in every block, causal uncertainty heads on two targets and a classifier: every part
// of a step that sums over the batch.
NetSpec spec_of(BlockType block) {
  NetSpec spec;
  spec.n_inputs = 5;
  spec.backbone = {16, 48, 3, block, Skips::additive, 0.0};
  spec.heads = {HeadType::causal, 2, Classifier::binary, true};
  spec.seed = 21;
  return spec;
}

template <class T>
Dataset<T> sample(Index rows) {
  Rng rng(8);
  Dataset<T> d;
  d.x.resize(rows, 5);
  d.y.resize(rows, 2);
  d.scale.assign(rows, 2, T(1));
  d.mask.assign(rows, 2, T(1));
  d.label.resize(rows, 1);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < 5; ++j) d.x(i, j) = T(rng.normal());
    d.y(i, 0) = T(std::sin(double(d.x(i, 0))) + 0.3 * double(d.x(i, 1)));
    d.y(i, 1) = T(double(d.x(i, 2)) * double(d.x(i, 3)));
    d.label(i, 0) = d.x(i, 4) > T(0) ? T(1) : T(0);
    if (i % 7 == 3) d.mask(i, 1) = T(0);  // some labels missing
  }
  return d;
}

// The net after `epochs` epochs of `rows` rows on `threads` threads: its parameters and running
// statistics, and the gradients of its last step.
template <class T>
struct TrainedState {
  std::vector<T> state, gradients;
};
template <class T>
TrainedState<T> trained_state(BlockType block, int threads, bool split_on_threads = true, Dataset<T>* data = nullptr,
                              Index rows = 690, int epochs = 2) {
  Net<T> net(spec_of(block));
  NetLoss<T> loss({{1.0, 0.5}, 0.8, Likelihood::laplace}, true);
  Adam<T> adam(net.parameters(), {});
  const auto schedule = make_constant(3e-3, 0.9);
  TrainOptions options{200};  // 3 full batches and one of 90 rows: at least 64 rows a shard on 2 threads
  options.split_on_threads = split_on_threads;
  Trainer<T> trainer(net, loss, adam, *schedule, options);
  Dataset<T> own = sample<T>(rows);
  Rng rng(5);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  struct Restore {
    int threads;
    ~Restore() { omp_set_num_threads(threads); }
  } restore{before};
  for (int epoch = 0; epoch < epochs; ++epoch) trainer.train_epoch(data ? *data : own, rng);
  const ConstView<T> values = net.parameters().values(), grads = net.parameters().grads();
  TrainedState<T> trained{{values.data, values.data + values.size()}, {grads.data, grads.data + grads.size()}};
  struct Buffers final : ModuleVisitor<T> {
    std::vector<T>* out;
    void parameter(const std::string&, Param<T>&) override {}
    void buffer(const std::string&, Tensor<T>& b) override { out->insert(out->end(), b.data(), b.data() + b.size()); }
  } buffers;
  buffers.out = &trained.state;
  net.visit(buffers, "");
  return trained;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return worst / scale;
}

TEST(TrainingOnThreads, ASplitStepIsTheWholeBatchsStep) {
  for (const BlockType block : {BlockType::resdense, BlockType::aresdense}) {
    // One step of one batch of 200 rows. Adam's step divides by the gradients' magnitude, so a
    // gradient that is 0 but for rounding (a Linear's bias before a BatchNorm) moves its parameter
    // by up to lr |g| / (|g| + eps): the parameters agree less closely than the gradients.
    const TrainedState<double> one = trained_state<double>(block, 1, true, nullptr, 200, 1);
    for (const int threads : {2, 3}) {
      const TrainedState<double> split = trained_state<double>(block, threads, true, nullptr, 200, 1);
      EXPECT_LT(relative_difference(split.gradients, one.gradients), 1e-13) << threads << " threads";
      EXPECT_LT(relative_difference(split.state, one.state), 1e-9) << threads << " threads";
    }
  }
}

TEST(TrainingOnThreads, SplitEpochsFollowTheWholeBatchs) {
  for (const BlockType block : {BlockType::resdense, BlockType::aresdense}) {
    const std::vector<double> one = trained_state<double>(block, 1).state;
    EXPECT_LT(relative_difference(trained_state<double>(block, 2).state, one), 1e-9);
    EXPECT_LT(relative_difference(trained_state<double>(block, 3).state, one), 1e-9);
    EXPECT_LT(relative_difference(trained_state<double>(block, 2, false).state, one), 1e-9);
  }
}

TEST(TrainingOnThreads, ASplitRunRepeatsBitForBit) {
  const std::vector<float> first = trained_state<float>(BlockType::resdense, 2).state;
  const std::vector<float> again = trained_state<float>(BlockType::resdense, 2).state;
  const std::vector<float> whole = trained_state<float>(BlockType::resdense, 2, false).state;
  ASSERT_EQ(first.size(), again.size());
  EXPECT_EQ(std::memcmp(first.data(), again.data(), sizeof(float) * first.size()), 0);
  // The shards' sums are added in another order than the whole batch's.
  ASSERT_EQ(first.size(), whole.size());
  EXPECT_NE(std::memcmp(first.data(), whole.data(), sizeof(float) * first.size()), 0);
}

TEST(TrainingOnThreads, ANonFiniteInputIsRefusedBeforeTheThreadsStart) {
  Dataset<float> data = sample<float>(690);
  for (Index i = 0; i < data.rows(); ++i) data.x(i, 2) = std::numeric_limits<float>::quiet_NaN();
  try {
    trained_state<float>(BlockType::resdense, 2, true, &data);
    ADD_FAILURE() << "trained on NaN inputs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("net forward: input row 0, column 2 is nan"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nn::test
