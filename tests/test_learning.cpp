// End to end on the CPU: a small net learns a known smooth function, and a seeded run
// repeats bit for bit.
#include <cmath>

#include "harness.h"
#include "nn/train.h"

namespace nn::test {
namespace {

// f(x) = sin(x0) + 0.5 x1 x2 - 0.3 x3^2 + 0.2 x0 x3 on [-1.5, 1.5]^4; its spread is ~0.9.
double smooth_function(const float* x) {
  return std::sin(x[0]) + 0.5 * x[1] * x[2] - 0.3 * x[3] * x[3] + 0.2 * x[0] * x[3];
}

Dataset<float> sample(Index rows, Rng& rng) {
  Dataset<float> d;
  d.x.resize(rows, 4);
  d.y.resize(rows, 1);
  d.scale.assign(rows, 1, 1.0f);
  d.mask.assign(rows, 1, 1.0f);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < 4; ++j) d.x(i, j) = float(rng.uniform(-1.5, 1.5));
    d.y(i, 0) = float(smooth_function(&d.x(i, 0)));
  }
  return d;
}

struct TrainingRun {
  std::vector<double> losses;
  double held_out_mae;
};

// input_error: the standard error given for every input (augmentation draws from it).
TrainingRun train_smooth_function(std::uint64_t seed, Index epochs, Augment augment = Augment::none,
                                  float input_error = 0.0f,
                                  const BackboneSpec& backbone = {32, 64, 2, BlockType::resdense, Skips::additive,
                                                                  0.0}) {
  Rng data_rng(seed);
  Dataset<float> train = sample(4000, data_rng);
  const Dataset<float> test = sample(1000, data_rng);
  if (augment == Augment::from_input_errors) train.x_error.assign(train.rows(), 4, input_error);
  NetSpec spec;
  spec.n_inputs = 4;
  spec.backbone = backbone;
  spec.heads = {HeadType::linear, 1, Classifier::none};
  spec.seed = seed;
  Net<float> net(spec);
  NetLoss<float> loss({{1.0}, 1.0, {}}, false);
  Adam<float> adam(net.parameters(), {});
  const TrainOptions options{64, augment};
  auto schedule = make_one_cycle({1e-2, epochs * (train.rows() / options.batch_size + 1), 0.25, 25.0, 1e4, 0.95, 0.85});
  Trainer<float> trainer(net, loss, adam, *schedule, options);
  TrainingRun run;
  Rng shuffle_rng(seed + 1);
  for (Index epoch = 0; epoch < epochs; ++epoch) run.losses.push_back(*trainer.train_epoch(train, shuffle_rng));
  Tensor<float> predicted(test.rows(), 1);
  trainer.predict(test.x.view(), predicted.view());
  double mae = 0.0;
  for (Index i = 0; i < test.rows(); ++i) mae += std::abs(double(predicted(i, 0)) - double(test.y(i, 0)));
  run.held_out_mae = mae / double(test.rows());
  return run;
}

TEST(Learning, SmallNetLearnsSmoothFunction) {
  const TrainingRun run = train_smooth_function(7, 20);
  std::cout << "[learning] held-out MAE " << run.held_out_mae << " (first epoch loss " << run.losses.front()
            << ", last " << run.losses.back() << ")\n";
  // A constant predictor has an MAE of ~0.7 on this function.
  EXPECT_LT(run.held_out_mae, 0.05);
  EXPECT_LT(run.losses.back(), 0.5 * run.losses.front());
}

TEST(Learning, MlpLearnsSmoothFunction) {
  BackboneSpec mlp;
  mlp.type = BackboneType::mlp;
  mlp.hidden_widths = {64, 64};
  const TrainingRun run = train_smooth_function(7, 20, Augment::none, 0.0f, mlp);
  std::cout << "[learning] MLP 4-64-64-1: held-out MAE " << run.held_out_mae << " (first epoch loss "
            << run.losses.front() << ", last " << run.losses.back() << ")\n";
  EXPECT_LT(run.held_out_mae, 0.05);
  EXPECT_LT(run.losses.back(), 0.5 * run.losses.front());
}

TEST(Learning, SameSeedGivesBitIdenticalLosses) {
  const TrainingRun a = train_smooth_function(21, 3), b = train_smooth_function(21, 3);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (std::size_t k = 0; k < a.losses.size(); ++k) EXPECT_EQ(a.losses[k], b.losses[k]) << "epoch " << k;
  EXPECT_EQ(a.held_out_mae, b.held_out_mae);
  const TrainingRun c = train_smooth_function(22, 3);
  EXPECT_NE(a.losses.back(), c.losses.back());  // and another seed gives another run
}

TEST(Learning, AugmentationDrawsFromTheInputErrors) {
  // Zero errors leave the inputs as they are, bit for bit; real errors change every epoch's
  // inputs, and so the losses.
  const TrainingRun plain = train_smooth_function(31, 2);
  const TrainingRun zero = train_smooth_function(31, 2, Augment::from_input_errors, 0.0f);
  const TrainingRun noisy = train_smooth_function(31, 2, Augment::from_input_errors, 0.3f);
  EXPECT_EQ(plain.losses, zero.losses);
  EXPECT_NE(plain.losses, noisy.losses);
  EXPECT_GT(noisy.losses.back(), plain.losses.back());  // noise the net cannot fit
}

}  // namespace
}  // namespace nn::test
