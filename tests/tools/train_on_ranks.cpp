// Data-parallel training over real MPI ranks, in double: run under `mpirun -n R`, every rank
// trains the same net twice from the same start, once alone on whole batches and once as its
// rank's shard of every batch (TrainOptions::shards = nn::Ranks::world()), 50 optimiser steps of
// a ResDense net with BatchNorm, dropout, uncertainty heads and a classifier, with some labels
// missing. The sharded run's epoch losses and validation loss must be the lone run's within
// 1e-10 relative, its parameters within 1e-9 of the largest, and every rank's parameters the
// same bits. Prints the worst differences; exits 1 where a check fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "nn/ranks.h"
#include "nn/train.h"

namespace {

using nn::Index;

constexpr Index kInputs = 5, kTargets = 2, kBatch = 30, kBatchesPerEpoch = 5, kEpochs = 10;

nn::Dataset<double> sample(Index rows, std::uint64_t seed) {
  nn::Rng rng(seed);
  nn::Dataset<double> d;
  d.x.resize(rows, kInputs);
  d.y.resize(rows, kTargets);
  d.scale.assign(rows, kTargets, 1.0);
  d.mask.assign(rows, kTargets, 1.0);
  d.error.assign(rows, kTargets, 0.05);
  d.label.resize(rows, 1);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < kInputs; ++j) d.x(i, j) = rng.uniform(-1.5, 1.5);
    d.y(i, 0) = std::sin(d.x(i, 0)) + 0.5 * d.x(i, 1) * d.x(i, 2);
    d.y(i, 1) = 0.3 * d.x(i, 3) * d.x(i, 3) - 0.2 * d.x(i, 4);
    if (i % 7 == 3) d.y(i, 1) = d.mask(i, 1) = 0.0;  // a missing label: masked
    d.label(i, 0) = d.y(i, 0) > 0.0;
  }
  return d;
}

struct Run {
  std::vector<double> losses;  // each epoch's, then the validation loss
  std::vector<double> parameters;
};

Run train(const nn::BatchShards* shards) {
  const nn::Dataset<double> data = sample(kBatch * kBatchesPerEpoch, 11), validation = sample(45, 12);
  nn::NetSpec spec;
  spec.n_inputs = kInputs;
  spec.backbone = {8, 16, 2, nn::BlockType::resdense, nn::Skips::additive, 0.1};
  spec.heads = {nn::HeadType::causal, kTargets, nn::Classifier::binary, true};
  spec.seed = 5;
  nn::Net<double> net(spec);
  nn::NetLoss<double> loss({{1.0, 3.0}, 0.7, nn::Likelihood::gaussian}, true);
  nn::Adam<double> adam(net.parameters(), {});
  const auto schedule = nn::make_one_cycle({5e-3, kEpochs * kBatchesPerEpoch, 0.25, 25.0, 1e4, 0.95, 0.85});
  nn::TrainOptions options{kBatch};
  options.shards = shards;
  nn::Trainer<double> trainer(net, loss, adam, *schedule, options);
  Run run;
  nn::Rng rng(3);
  for (Index epoch = 0; epoch < kEpochs; ++epoch) run.losses.push_back(*trainer.train_epoch(data, rng));
  run.losses.push_back(trainer.evaluate(validation));
  const nn::ConstView<double> values = net.parameters().values();
  run.parameters.assign(values.data, values.data + values.size());
  return run;
}

}  // namespace

int main() {
  try {
    const nn::Ranks& ranks = nn::Ranks::world();
    const Run alone = train(nullptr), sharded = train(&ranks);
    double worst_loss = 0.0, worst_parameter = 0.0, scale = 0.0;
    for (std::size_t k = 0; k < alone.losses.size(); ++k)
      worst_loss = std::max(worst_loss, std::abs(sharded.losses[k] - alone.losses[k]) / std::abs(alone.losses[k]));
    for (double p : alone.parameters) scale = std::max(scale, std::abs(p));
    for (std::size_t k = 0; k < alone.parameters.size(); ++k)
      worst_parameter = std::max(worst_parameter, std::abs(sharded.parameters[k] - alone.parameters[k]) / scale);
    // Every rank's parameters, at rank 0.
    const std::vector<double> all = ranks.gather(sharded.parameters);
    bool same_on_every_rank = true;
    for (std::size_t k = 0; k < all.size(); ++k)
      same_on_every_rank &= all[k] == sharded.parameters[k % sharded.parameters.size()];
    if (!ranks.root()) return 0;
    std::printf(
        "%d ranks, %lld steps in double: worst relative difference from one process, losses %.3g, "
        "parameters %.3g; every rank the same parameters: %s\n",
        ranks.size(), static_cast<long long>(kEpochs * kBatchesPerEpoch), worst_loss, worst_parameter,
        same_on_every_rank ? "yes" : "no");
    return ranks.size() > 1 && worst_loss < 1e-10 && worst_parameter < 1e-9 && same_on_every_rank ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_on_ranks: %s\n", e.what());
    return 1;
  }
}
