// The ops of a batch split among shards (nn/shards.h) give what the whole batch gives: each
// shard, a thread here (thread_shards.h), runs the CPU backend's ops on its own rows. BatchNorm's
// statistics, running estimates and input gradients are the whole batch's and the shards'
// parameter gradients add up to the whole batch's, within a few units of the last place (the
// sums are split, so their order differs); dropout draws the whole batch's masks exactly.
// tests/cuda/test_net_on_device.cpp trains on shards with both backends.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <utility>
#include <vector>

#include "nn/ops.h"
#include "nn/random.h"
#include "nn/train.h"
#include "thread_shards.h"

namespace nn::test {
namespace {

template <class T>
Tensor<T> random_values(Index rows, Index cols, Rng& rng, double mean = 0.0, double spread = 1.0) {
  Tensor<T> t(rows, cols);
  for (Index k = 0; k < t.size(); ++k) t.data()[k] = T(mean + spread * rng.normal());
  return t;
}

// Largest |a - b| over the largest |b|.
template <class T>
double relative_difference(ConstView<T> a, ConstView<T> b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  double worst = 0.0, scale = 0.0;
  for (Index i = 0; i < b.rows; ++i)
    for (Index j = 0; j < b.cols; ++j) {
      worst = std::max(worst, std::abs(double(a(i, j)) - double(b(i, j))));
      scale = std::max(scale, std::abs(double(b(i, j))));
    }
  return worst / scale;
}

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

// The outputs of one BatchNorm training step (forward, then backward) over some rows.
template <class T>
struct BatchNormStep {
  Tensor<T> y, mean, invstd, running_mean, running_var, dx, dgamma, dbeta;
};

// The step of plain BatchNorm, or with relu, of BatchNorm + ReLU with a residual added to dx,
// over rows [first, first + count) of x, dy and residual.
template <class T>
BatchNormStep<T> batchnorm_step(bool relu, ConstView<T> x, ConstView<T> dy, ConstView<T> residual, ConstView<T> gamma,
                                ConstView<T> beta, Index first, Index count) {
  const Index d = x.cols;
  const ConstView<T> xs = x.row_range(first, count), dys = dy.row_range(first, count);
  BatchNormStep<T> s{Tensor<T>(count, d), Tensor<T>(1, d),     Tensor<T>(1, d), Tensor<T>(1, d),
                     Tensor<T>(1, d),     Tensor<T>(count, d), Tensor<T>(1, d), Tensor<T>(1, d)};
  s.running_mean.fill(T(0.5));
  s.running_var.fill(T(2));
  s.dgamma.fill(T(0));
  s.dbeta.fill(T(0));
  const BatchNormOptions options;
  if (relu) {
    ops::batchnorm_relu_forward_train<T>(xs, gamma, beta, options, s.y, s.mean, s.invstd, s.running_mean,
                                         s.running_var);
    ops::batchnorm_relu_backward<T>(xs, s.mean, s.invstd, gamma, beta, dys, residual.row_range(first, count), s.dx,
                                    s.dgamma, s.dbeta);
  } else {
    ops::batchnorm_forward_train<T>(xs, gamma, beta, options, s.y, s.mean, s.invstd, s.running_mean, s.running_var);
    ops::batchnorm_backward<T>(xs, s.mean, s.invstd, gamma, dys, s.dx, s.dgamma, s.dbeta);
  }
  return s;
}

template <class T>
class BatchShardsOps : public ::testing::Test {};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(BatchShardsOps, Types);

TYPED_TEST(BatchShardsOps, BatchNormOnShardsIsTheWholeBatchs) {
  using T = TypeParam;
  // 37 x 70: two of the CPU's column blocks, rows split unevenly; 2101 x 130: large enough for
  // the column passes to run on every thread. Columns far from 0, so a variance computed about a
  // wrong mean would show.
  for (const auto [rows, d] : {std::pair<Index, Index>{37, 70}, std::pair<Index, Index>{2101, 130}})
    for (const bool relu : {false, true})
      for (const int count : {2, 3}) {
        Rng values(Index(21) + rows);
        const Tensor<T> x = random_values<T>(rows, d, values, 3.0, 2.0), dy = random_values<T>(rows, d, values),
                        residual = random_values<T>(rows, d, values), gamma = random_values<T>(1, d, values, 1.0, 0.3),
                        beta = random_values<T>(1, d, values, 0.0, 0.5);
        SCOPED_TRACE(std::string(relu ? "BatchNorm + ReLU" : "BatchNorm") + " of " + std::to_string(rows) + " x " +
                     std::to_string(d) + " on " + std::to_string(count) + " shards");
        const BatchNormStep<T> whole = batchnorm_step<T>(relu, x, dy, residual, gamma, beta, 0, rows);
        std::vector<BatchNormStep<T>> shards(static_cast<std::size_t>(count));
        run_on_shards(count, [&](const BatchShards& shard) {
          const ShardedBatch split(shard, rows);
          shards[std::size_t(shard.index())] =
              batchnorm_step<T>(relu, x, dy, residual, gamma, beta, shard.first_row(rows), shard.rows(rows));
        });
        Tensor<T> dgamma(1, d), dbeta(1, d);
        dgamma.fill(T(0));
        dbeta.fill(T(0));
        for (int k = 0; k < count; ++k) {
          const BatchNormStep<T>& s = shards[std::size_t(k)];
          const Index first = BatchShards::first_row(rows, k, count), n = s.y.rows();
          EXPECT_LT(relative_difference<T>(s.y.view(), whole.y.view().row_range(first, n)), tolerance<T>());
          EXPECT_LT(relative_difference<T>(s.dx.view(), whole.dx.view().row_range(first, n)), tolerance<T>());
          EXPECT_LT(relative_difference<T>(s.mean.view(), whole.mean.view()), tolerance<T>());
          EXPECT_LT(relative_difference<T>(s.invstd.view(), whole.invstd.view()), tolerance<T>());
          EXPECT_LT(relative_difference<T>(s.running_mean.view(), whole.running_mean.view()), tolerance<T>());
          EXPECT_LT(relative_difference<T>(s.running_var.view(), whole.running_var.view()), tolerance<T>());
          ops::add<T>(dgamma.view(), s.dgamma.view(), dgamma.view());
          ops::add<T>(dbeta.view(), s.dbeta.view(), dbeta.view());
        }
        // Each shard holds its own rows' parameter gradients, which the trainer sums.
        EXPECT_LT(relative_difference<T>(dgamma.view(), whole.dgamma.view()), tolerance<T>());
        EXPECT_LT(relative_difference<T>(dbeta.view(), whole.dbeta.view()), tolerance<T>());
        EXPECT_GT(relative_difference<T>(shards[0].dgamma.view(), whole.dgamma.view()), 1e-3);  // not the whole's
      }
}

TYPED_TEST(BatchShardsOps, DropoutOnShardsDrawsTheWholeBatchsMasks) {
  using T = TypeParam;
  Rng rng(22);
  const Index rows = 41, d = 13;
  const Tensor<T> x = random_values<T>(rows, d, rng);
  Tensor<T> mask(rows, d), y(rows, d);
  ops::dropout_forward<T>(x.view(), 0.3, 99, mask.view(), y.view());
  Tensor<T> shard_mask(rows, d), shard_y(rows, d);
  run_on_shards(3, [&](const BatchShards& shard) {
    const Index first = shard.first_row(rows), n = shard.rows(rows);
    const ShardedBatch split(shard, rows);
    ops::dropout_forward<T>(x.view().row_range(first, n), 0.3, 99, shard_mask.view().row_range(first, n),
                            shard_y.view().row_range(first, n));
  });
  EXPECT_TRUE(std::equal(mask.data(), mask.data() + mask.size(), shard_mask.data()));
  EXPECT_TRUE(std::equal(y.data(), y.data() + y.size(), shard_y.data()));
  // Without the split, a later shard's rows would draw the first rows' masks.
  Tensor<T> unsplit(rows - 20, d), unsplit_y(rows - 20, d);
  ops::dropout_forward<T>(x.view().row_range(20, rows - 20), 0.3, 99, unsplit.view(), unsplit_y.view());
  EXPECT_FALSE(std::equal(unsplit.data(), unsplit.data() + unsplit.size(), mask.data() + 20 * d));
}

TEST(BatchShards, TrainingRefusesABatchWithoutARowForEveryShard) {
  NetSpec spec;
  spec.n_inputs = 3;
  spec.backbone = {8, 8, 1, BlockType::resdense, Skips::none, 0.0};
  spec.heads = {HeadType::linear, 1, Classifier::none};
  Net<float> net(spec);
  NetLoss<float> loss({{1.0}, 1.0, {}}, false);
  Adam<float> adam(net.parameters(), {});
  const auto schedule = make_constant(1e-3, 0.9);
  ThreadExchange exchange(3);
  const ThreadShard shard(exchange, 0);
  Dataset<float> data;
  data.x.assign(42, 3, 0.5f);  // batches of 8: five full ones, then one of 2 rows for 3 shards
  data.y.assign(42, 1, 0.0f);
  data.scale.assign(42, 1, 1.0f);
  data.mask.assign(42, 1, 1.0f);
  Rng rng(1);
  TrainOptions options{8};
  options.shards = &shard;
  Trainer<float> trainer(net, loss, adam, *schedule, options);
  try {
    trainer.train_epoch(data, rng);
    ADD_FAILURE() << "trained";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("training on 3 shards: batches of 8 rows and a last batch of 2 of 42 rows "
                                         "give some shard no row; every batch needs at least one row per shard"),
              std::string::npos)
        << e.what();
  }
  options.batch_size = 2;  // every batch too short
  Trainer<float> short_batches(net, loss, adam, *schedule, options);
  EXPECT_THROW(short_batches.train_epoch(data, rng), Error);
}

// A stop asked of one shard stops every shard before the same batch: one that went on would wait
// for the others in its next sum.
TEST(BatchShards, AStopAskedOfOneShardStopsThemAll) {
  NetSpec spec;
  spec.n_inputs = 3;
  spec.backbone = {8, 8, 1, BlockType::resdense, Skips::none, 0.0};
  spec.heads = {HeadType::linear, 1, Classifier::none};
  Dataset<float> data;
  data.x.assign(80, 3, 0.5f);
  data.y.assign(80, 1, 0.0f);
  data.scale.assign(80, 1, 1.0f);
  data.mask.assign(80, 1, 1.0f);
  std::vector<std::int64_t> steps(2);
  std::vector<char> stopped(2);  // not vector<bool>: the shards write their own elements at once
  run_on_shards(2, [&](const BatchShards& shard) {
    Net<float> net(spec);
    NetLoss<float> loss({{1.0}, 1.0, {}}, false);
    Adam<float> adam(net.parameters(), {});
    const auto schedule = make_constant(1e-3, 0.9);
    TrainOptions options{8};
    options.shards = &shard;
    Trainer<float> trainer(net, loss, adam, *schedule, options);
    int asked = 0;
    EpochHooks hooks;
    hooks.stop_requested = [&] { return shard.index() == 1 && ++asked == 4; };  // before batch 4, shard 1 only
    Rng rng(2);
    stopped[std::size_t(shard.index())] = !trainer.train_epoch(data, rng, hooks).has_value();
    steps[std::size_t(shard.index())] = trainer.steps();
  });
  EXPECT_TRUE(stopped[0]);
  EXPECT_TRUE(stopped[1]);
  EXPECT_EQ(steps[0], 3);
  EXPECT_EQ(steps[1], 3);
}

TEST(BatchShards, RowsAreSharedOutInOrder) {
  EXPECT_EQ(BatchShards::first_row(10, 0, 3), 0);
  EXPECT_EQ(BatchShards::first_row(10, 1, 3), 3);
  EXPECT_EQ(BatchShards::first_row(10, 2, 3), 6);
  EXPECT_EQ(BatchShards::first_row(10, 3, 3), 10);
  // Outside a ShardedBatch the ops see a whole batch.
  EXPECT_EQ(current_batch_split().shards, nullptr);
  EXPECT_EQ(current_batch_split().first_row, 0);
}

}  // namespace
}  // namespace nn::test
