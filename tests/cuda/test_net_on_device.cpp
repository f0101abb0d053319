// The library's own nets on the CUDA backend: the same Net, NetLoss, Adam and Trainer code,
// once with the net on the CPU and once moved to the GPU, from the same initial parameters,
// data and seeds. It builds twice: over the host emulation of kernels/ (so CI runs it) and over
// libstarnn's GPU backend (skipped where the runtime finds no device).
//
// 50 optimiser steps (10 epochs of 5 batches) of a ResDense net with every part the network
// files use: U-Net skips, dropout, causal heads and a classifier with the alpha-weighted total
// loss; the same net with uncertainty heads on the Gaussian (50 steps) and Laplace (20 steps)
// likelihoods, with label errors; 10 steps of an auto-encoder with AResDense blocks and an MLP
// decoder (one label, the second target as its missing band; emulated launches are slow); and
// 20 steps of a net with presence indicators and band dropout, recorded and replayed, with
// every step's batch hiding other inputs (DESIGN.md "Missing inputs"). In
// double the epoch losses, the validation loss and the final parameters agree within 1e-9
// relative. In float within 1e-4, with Adam's eps at 1e-4: with a tiny eps, the rounding
// noise of the gradient of a bias that feeds a BatchNorm (true gradient 0) becomes full
// +-lr steps that differ per backend (tests/cuda/test_training.cpp says more).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <vector>

#include "cuda_backend.h"
#include "nn/devices.h"
#include "nn/model.h"
#include "nn/train.h"
#include "thread_shards.h"

namespace nn::test {
namespace {

constexpr Index kInputs = 5, kTargets = 2, kBatch = 32, kBatchesPerEpoch = 5;

// missing_inputs: x is (rows, 2 kInputs), z-scores then presence indicators, with about one
// input in six missing (0 in both halves).
template <class T>
Dataset<T> sample(Index rows, std::uint64_t seed, bool missing_inputs = false) {
  Rng rng(seed);
  Dataset<T> d;
  d.x.resize(rows, missing_inputs ? 2 * kInputs : kInputs);
  d.y.resize(rows, kTargets);
  d.scale.resize(rows, kTargets);
  d.mask.resize(rows, kTargets);
  d.error.resize(rows, kTargets);
  d.label.resize(rows, 1);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < kInputs; ++j) d.x(i, j) = T(rng.uniform(-1.5, 1.5));
    const double a = std::sin(double(d.x(i, 0))) + 0.5 * double(d.x(i, 1) * d.x(i, 2));
    const double b = 0.3 * double(d.x(i, 3) * d.x(i, 3)) - 0.2 * double(d.x(i, 4));
    const bool labelled = i % 7 != 3;  // some rows miss target 1: masked, not zero-filled
    d.y(i, 0) = T(a);
    d.y(i, 1) = labelled ? T(b) : T(0);
    d.mask(i, 0) = T(1);
    d.mask(i, 1) = labelled ? T(1) : T(0);
    d.scale(i, 0) = T(1);
    d.scale(i, 1) = T(rng.uniform(0.5, 2.0));
    d.error(i, 0) = T(0);
    d.error(i, 1) = T(0.05 * double(i % 4));  // none for every fourth row
    d.label(i, 0) = T(a > 0.0);
    for (Index j = 0; j < kInputs && missing_inputs; ++j) {
      const bool present = (i * 7 + j * 3) % 6 != 0;
      d.x(i, j) = present ? d.x(i, j) : T(0);
      d.x(i, kInputs + j) = present ? T(1) : T(0);
    }
  }
  return d;
}

template <class T>
std::vector<double> host_values(ConstView<T> v) {
  std::vector<T> host(std::size_t(v.size()));
  transfer<T>(v, View<T>(host.data(), v.rows, v.cols));
  return {host.begin(), host.end()};
}

template <class T>
struct Run {
  std::vector<double> epoch_losses;
  double validation_loss = 0.0;
  std::vector<double> parameters;
  std::vector<double> predictions;  // eval mode, so the BatchNorm running statistics count too
  Index replayed_steps = 0;
};

// The net of a variant: ResDense with two causal targets, or the AResDense auto-encoder whose
// decoder predicts the second target as the band.
struct TrainedNet {
  BlockType block;
  Index epochs;
  double dropout = 0.1;
  std::optional<Likelihood> likelihood = {};         // uncertainty heads on this likelihood
  std::optional<MissingInputs> missing_inputs = {};  // presence indicators and band dropout
};

// shards: this thread's shard of every batch (nn/shards.h), or the whole batch.
template <class T>
Run<T> train(Device device, const TrainedNet& variant, bool record_steps = true, const BatchShards* shards = nullptr) {
  const auto [block, epochs, dropout, likelihood, missing_inputs] = variant;
  const bool masks = missing_inputs.has_value();
  const Dataset<T> data = sample<T>(kBatchesPerEpoch * kBatch, 11, masks), validation = sample<T>(45, 12, masks);
  NetSpec spec;
  spec.n_inputs = masks ? 2 * kInputs : kInputs;
  spec.backbone = {8, 16, 2, block, Skips::additive, variant.dropout};
  spec.heads = {HeadType::causal, kTargets, Classifier::binary, likelihood.has_value()};
  if (block == BlockType::aresdense) {
    spec.heads.n_targets = kTargets - 1;
    // An MLP decoder (12 -> 6, then the band), so the plain layers run on the device too.
    spec.decoder = BackboneSpec{8, 16, 2, BlockType::resdense, Skips::additive, dropout, BackboneType::mlp, {12, 6}};
  }
  spec.seed = 5;
  Net<T> net(spec);
  net.to(device);
  EXPECT_EQ(net.device(), device);
  NetLoss<T> loss({{1.0, 3.0}, 0.7, likelihood}, true);
  Adam<T> adam(net.parameters(), {0.999, std::is_same_v<T, float> ? 1e-4 : 1e-8, 1e-3});
  const auto schedule = make_one_cycle({5e-3, epochs * kBatchesPerEpoch, 0.25, 25.0, 1e4, 0.95, 0.85});
  Trainer<T> trainer(net, loss, adam, *schedule, {kBatch, Augment::none, record_steps, missing_inputs, shards});
  Run<T> run;
  Rng rng(3);
  for (Index epoch = 0; epoch < epochs; ++epoch) run.epoch_losses.push_back(*trainer.train_epoch(data, rng));
  EXPECT_EQ(trainer.steps(), epochs * kBatchesPerEpoch);
  run.validation_loss = trainer.evaluate(validation);
  run.parameters = host_values<T>(net.parameters().values());
  Tensor<T> out(validation.rows(), net.out_features());  // on the host: predict brings it back
  trainer.predict(validation.x.view(), out.view());
  run.predictions = host_values<T>(out.view());
  run.replayed_steps = trainer.replayed_steps();
  return run;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); }

// The worst relative differences of a run from a reference run: of the epoch losses and the
// validation loss, and of the parameters and predictions relative to the largest of their kind
// (single ones pass 0).
struct Differences {
  double loss = 0.0, parameter = 0.0, prediction = 0.0;
};

std::ostream& operator<<(std::ostream& out, const Differences& d) {
  return out << "epoch losses " << d.loss << ", parameters " << d.parameter << ", predictions " << d.prediction;
}

template <class T>
Differences differences(const Run<T>& run, const Run<T>& reference) {
  Differences worst;
  EXPECT_EQ(run.epoch_losses.size(), reference.epoch_losses.size());
  for (std::size_t k = 0; k < std::min(run.epoch_losses.size(), reference.epoch_losses.size()); ++k)
    worst.loss = std::max(worst.loss, relative(run.epoch_losses[k], reference.epoch_losses[k]));
  worst.loss = std::max(worst.loss, relative(run.validation_loss, reference.validation_loss));
  const auto scale = [](const std::vector<double>& v) {
    double s = 0.0;
    for (double x : v) s = std::max(s, std::abs(x));
    return s;
  };
  const auto worst_of = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double w = 0.0;
    EXPECT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < std::min(a.size(), b.size()); ++k) w = std::max(w, std::abs(a[k] - b[k]) / scale(b));
    return w;
  };
  worst.parameter = worst_of(run.parameters, reference.parameters);
  worst.prediction = worst_of(run.predictions, reference.predictions);
  return worst;
}

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 1e-4 : 1e-9;
}

template <class T>
class NetOnDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  }
};
using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(NetOnDevice, Types);

TYPED_TEST(NetOnDevice, AutoSelectsTheGpuAndNamesIt) {
  const DeviceSelection auto_choice = select_device(DeviceChoice::auto_select);
  EXPECT_EQ(auto_choice.device, Device::cuda);
  EXPECT_EQ(auto_choice.description.rfind("cuda: ", 0), 0u) << auto_choice.description;
  EXPECT_GT(auto_choice.description.size(), 6u);
  EXPECT_EQ(select_device(DeviceChoice::cpu).device, Device::cpu);
}

TYPED_TEST(NetOnDevice, TrainingStepsMatchTheCpu) {
  using T = TypeParam;
  for (const TrainedNet& variant :
       {TrainedNet{BlockType::resdense, 10}, TrainedNet{BlockType::resdense, 10, 0.1, Likelihood::gaussian},
        TrainedNet{BlockType::resdense, 4, 0.1, Likelihood::laplace}, TrainedNet{BlockType::aresdense, 2},
        TrainedNet{BlockType::resdense, 4, 0.0, {}, MissingInputs{2, 0.3}}}) {
    const auto [block, epochs, dropout, likelihood, missing_inputs] = variant;
    const std::string name = block == BlockType::aresdense        ? "AResDense auto-encoder with an MLP decoder"
                             : missing_inputs                     ? "ResDense, band dropout, replayed steps"
                             : likelihood == Likelihood::gaussian ? "ResDense, Gaussian uncertainty heads"
                             : likelihood == Likelihood::laplace  ? "ResDense, Laplace uncertainty heads"
                                                                  : "ResDense";
    SCOPED_TRACE(name);
    const Run<T> cpu = train<T>(Device::cpu, variant), gpu = train<T>(Device::cuda, variant);
    const Differences worst = differences(gpu, cpu);
    std::cout << "[net on device] " << name << (std::is_same_v<T, float> ? " float, " : " double, ")
              << epochs * kBatchesPerEpoch << " steps: worst relative difference, " << worst << "\n";
    EXPECT_LT(worst.loss, tolerance<T>());
    EXPECT_LT(worst.parameter, tolerance<T>());
    EXPECT_LT(worst.prediction, tolerance<T>());
    if (missing_inputs) EXPECT_EQ(gpu.replayed_steps, epochs * kBatchesPerEpoch - 1);
    if (epochs >= 10) EXPECT_LT(cpu.epoch_losses.back(), 0.8 * cpu.epoch_losses.front());  // and it did learn
  }
}

// Without dropout, every full batch after the first replays a recorded step (a CUDA graph): the
// very same kernels on the same memory, so the run is the same to the last bit.
TYPED_TEST(NetOnDevice, RecordedStepsTrainExactlyAsLaunchedOnes) {
  using T = TypeParam;
  const TrainedNet net{BlockType::resdense, 2, 0.0};
  const Run<T> replayed = train<T>(Device::cuda, net, true), launched = train<T>(Device::cuda, net, false);
  EXPECT_EQ(replayed.replayed_steps, 2 * kBatchesPerEpoch - 1);
  EXPECT_EQ(launched.replayed_steps, 0);
  EXPECT_EQ(replayed.epoch_losses, launched.epoch_losses);
  EXPECT_EQ(replayed.validation_loss, launched.validation_loss);
  EXPECT_EQ(replayed.parameters, launched.parameters);
  EXPECT_EQ(replayed.predictions, launched.predictions);
  // With dropout a recorded step would repeat one mask: those nets launch every step.
  EXPECT_EQ(train<T>(Device::cuda, TrainedNet{BlockType::resdense, 1, 0.1}).replayed_steps, 0);
}

TYPED_TEST(NetOnDevice, RecordedWorkRunsOnlyWhenReplayed) {
  using T = TypeParam;
  Tensor<T> a(2, 3, Device::cuda), b(2, 3, Device::cuda);
  a.fill(T(1));
  b.fill(T(0.5));
  cuda::RecordedWork work;
  work.record([&] { ops::add<T>(a.view(), b.view(), a.view()); });
  EXPECT_EQ(host_values<T>(a.view()), std::vector<double>(6, 1.0));  // recorded, not run
  work.replay();
  work.replay();
  EXPECT_EQ(host_values<T>(a.view()), std::vector<double>(6, 2.0));
}

TYPED_TEST(NetOnDevice, RecordingRefusesWorkThatWaitsForTheGpu) {
  using T = TypeParam;
  Tensor<T> z(4, 1, Device::cuda), t(4, 1, Device::cuda);
  z.fill(T(0));
  t.fill(T(1));
  cuda::RecordedWork work;
  // A loss value is read back to the host: the recording cannot hold it.
  EXPECT_THROW(work.record([&] { ops::bce_with_logits_loss<T>(z.view(), t.view()); }), Error);
  EXPECT_FALSE(work.recorded());
  // The stream is usable again afterwards: log 2 per row.
  EXPECT_NEAR(ops::bce_with_logits_loss<T>(z.view(), t.view()), std::log(2.0), 1e-6);
}

TYPED_TEST(NetOnDevice, MovingThereAndBackKeepsEveryValue) {
  using T = TypeParam;
  NetSpec spec;
  spec.n_inputs = kInputs;
  spec.backbone = {8, 16, 2, BlockType::resdense, Skips::additive, 0.0};
  spec.heads = {HeadType::linear, kTargets, Classifier::none};
  Net<T> net(spec);
  const std::vector<double> before = host_values<T>(net.parameters().values());
  net.to(Device::cuda);
  net.to(Device::cpu);
  EXPECT_EQ(host_values<T>(net.parameters().values()), before);
  EXPECT_EQ(net.device(), Device::cpu);
}

// An ensemble of uncertainty heads predicts on the GPU what it predicts on the CPU: every member's
// forward pass and their combination, in float within 1e-5 of the values' scale.
TEST(ModelOnDevice, AnEnsemblePredictsOnTheGpuAsOnTheCpu) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  NetworkFile file = parse_network_file(R"({
    "format": "starnn-net/1",
    "data": {"type": "catalog", "catalog": "stars.fits", "inputs": ["ug", "gr", "ri"],
             "targets": [{"type": "target", "column": "feh"}, {"type": "target", "column": "logg"}]},
    "model": {"type": "regressor", "members": 3,
              "backbone": {"type": "sandwich", "block": "aresdense", "n_init": 8, "n_max": 16, "depth": 2},
              "heads": {"type": "causal"}},
    "loss": {"type": "gaussian_nll"},
    "optimizer": {"type": "adam"},
    "schedule": {"type": "one_cycle", "max_lr": 0.01},
    "training": {"type": "minibatch", "epochs": 1, "batch_size": 64, "seed": 3}
  })",
                                        "ensemble.json");
  const ColumnStats inputs{{"ug", "gr", "ri"}, {1.0, 0.5, 0.2}, {0.3, 0.2, 0.1}};
  const DataStats stats{
      inputs, {-5.0, -5.0, -5.0}, {5.0, 5.0, 5.0}, {{"feh", "logg"}, {-0.8, 4.0}, {0.5, 0.6}}, {1.0, 1.0}};
  Catalog stars("stars", 300);
  Rng rng(9);
  for (const char* name : {"ug", "gr", "ri"}) {
    std::vector<double> column(300);
    for (double& v : column) v = rng.uniform(-0.5, 2.0);
    stars.add_column(name, column);
  }
  Model on_gpu(file, stats), on_cpu(file, stats);
  on_gpu.to(Device::cuda);
  const Predictions gpu = on_gpu.predict(stars, {64, 0}), cpu = on_cpu.predict(stars, {64, 0});
  ASSERT_EQ(gpu.names, (std::vector<std::string>{"feh_pred", "feh_err", "logg_pred", "logg_err", "starnn_flags"}));
  double worst = 0.0;
  for (std::size_t k = 0; k < cpu.columns.size(); ++k) {
    double scale = 0.0;
    for (double v : cpu.columns[k]) scale = std::max(scale, std::abs(v));
    for (std::size_t r = 0; r < cpu.columns[k].size(); ++r)
      worst = std::max(worst, std::abs(gpu.columns[k][r] - cpu.columns[k][r]) / std::max(scale, 1e-30));
  }
  std::cout << "[ensemble on device] 3 members, 300 stars: worst relative difference " << worst << "\n";
  EXPECT_LT(worst, 1e-5);
}

// A model trained on the GPU saves the same file as one on the CPU, and loads onto the CPU.
TEST(ModelOnDevice, SavesFromTheGpuAndLoadsOnTheCpu) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  const NetworkFile file = parse_network_file(R"({
    "format": "starnn-net/1",
    "data": {"type": "catalog", "catalog": "stars.fits", "inputs": ["ug", "gr", "ri"],
             "targets": [{"type": "target", "column": "feh"}]},
    "model": {"type": "regressor",
              "backbone": {"type": "sandwich", "block": "resdense", "n_init": 8, "n_max": 16, "depth": 2},
              "heads": {"type": "linear"}},
    "loss": {"type": "weighted_l1"},
    "optimizer": {"type": "adam"},
    "schedule": {"type": "one_cycle", "max_lr": 0.01},
    "training": {"type": "minibatch", "epochs": 1, "batch_size": 64, "seed": 3}
  })",
                                              "model.json");
  const ColumnStats inputs{{"ug", "gr", "ri"}, {1.0, 0.5, 0.2}, {0.3, 0.2, 0.1}};
  const DataStats stats{inputs, {-5.0, -5.0, -5.0}, {5.0, 5.0, 5.0}, {{"feh"}, {-0.8}, {0.5}}, {1.0}};
  Model on_gpu(file, stats), on_cpu(file, stats);
  on_gpu.net().to(Device::cuda);
  const std::filesystem::path gpu_path = std::filesystem::temp_directory_path() / "starnn_model_from_gpu.safetensors";
  const std::filesystem::path cpu_path = std::filesystem::temp_directory_path() / "starnn_model_from_cpu.safetensors";
  on_gpu.save(gpu_path, OptimizerState::leave_out);
  on_cpu.save(cpu_path, OptimizerState::leave_out);
  Model loaded = Model::load(gpu_path);
  EXPECT_EQ(loaded.net().device(), Device::cpu);
  EXPECT_EQ(host_values<float>(loaded.net().parameters().values()),
            host_values<float>(on_cpu.net().parameters().values()));
  std::ifstream a(gpu_path, std::ios::binary), b(cpu_path, std::ios::binary);
  const std::string bytes_a((std::istreambuf_iterator<char>(a)), {}), bytes_b((std::istreambuf_iterator<char>(b)), {});
  EXPECT_EQ(bytes_a, bytes_b);
  std::filesystem::remove(gpu_path);
  std::filesystem::remove(cpu_path);
}

// Data-parallel training (nn/shards.h, TrainOptions::shards): K shards of every batch, each a
// thread here (thread_shards.h; the emulated GPU taken in turns), take the steps one process
// takes on the whole batch: BatchNorm's statistics and gradient sums over the shards, dropout's
// masks by the batch's rows, the loss of the gathered output, the gradients summed. Every shard
// ends with the same parameters, bit for bit. Against one process on the same backend, the
// losses agree within 1e-10 relative in double and 1e-5 in float over 50 steps (measured: 1e-11
// and 3e-7; the sums are split, so they round otherwise), the parameters and predictions within
// the backends' tolerance above (measured: 5e-10 and 2e-5, the bias that feeds a BatchNorm
// again); the GPU's shards against the CPU's one process within that tolerance too.
template <class T>
Run<T> train_on_shards(Device device, const TrainedNet& variant, int count) {
  std::vector<Run<T>> runs(static_cast<std::size_t>(count));
  std::mutex turn;
  run_on_shards(
      count,
      [&](const BatchShards& shards) { runs[std::size_t(shards.index())] = train<T>(device, variant, true, &shards); },
      device == Device::cuda ? &turn : nullptr);
  for (int k = 1; k < count; ++k) EXPECT_EQ(runs[std::size_t(k)].parameters, runs[0].parameters) << "shard " << k;
  return runs[0];
}

template <class T>
class TrainingOnShards : public ::testing::Test {};
TYPED_TEST_SUITE(TrainingOnShards, Types);

TYPED_TEST(TrainingOnShards, CpuShardsTakeTheStepsOfOneProcess) {
  using T = TypeParam;
  for (const TrainedNet& variant :
       {TrainedNet{BlockType::resdense, 10, 0.1, Likelihood::gaussian}, TrainedNet{BlockType::aresdense, 2},
        TrainedNet{BlockType::resdense, 4, 0.0, {}, MissingInputs{2, 0.3}}}) {
    const Run<T> whole = train<T>(Device::cpu, variant);
    for (const int count : {2, 3}) {
      const Differences worst = differences(train_on_shards<T>(Device::cpu, variant, count), whole);
      std::cout << "[training on shards] " << count << " CPU shards, " << variant.epochs * kBatchesPerEpoch
                << " steps, " << (std::is_same_v<T, float> ? "float" : "double") << ": " << worst << "\n";
      EXPECT_LT(worst.loss, (std::is_same_v<T, float> ? 1e-5 : 1e-10));
      EXPECT_LT(worst.parameter, tolerance<T>());
      EXPECT_LT(worst.prediction, tolerance<T>());
    }
  }
}

TYPED_TEST(TrainingOnShards, GpuShardsTakeTheStepsOfTheCpu) {
  using T = TypeParam;
  if (cuda_device_count() == 0) GTEST_SKIP() << "no usable CUDA device";
  const TrainedNet variant{BlockType::resdense, 2, 0.1, Likelihood::gaussian};  // 10 steps: emulated launches are slow
  const Differences worst = differences(train_on_shards<T>(Device::cuda, variant, 2), train<T>(Device::cpu, variant));
  std::cout << "[training on shards] 2 GPU shards against one CPU process, " << variant.epochs * kBatchesPerEpoch
            << " steps, " << (std::is_same_v<T, float> ? "float" : "double") << ": " << worst << "\n";
  EXPECT_LT(worst.loss, tolerance<T>());
  EXPECT_LT(worst.parameter, tolerance<T>());
  EXPECT_LT(worst.prediction, tolerance<T>());
}

}  // namespace
}  // namespace nn::test
