// starnn_time_net NET.json [SECONDS]: the training and inference throughput of the net a network
// file describes, in float on the CPU, on random inputs (no catalogue is read). Prints one JSON line
//   {"train_rows_per_s": ..., "infer_rows_per_s": ..., "parameters": ..., "threads": ...}
// for bench/compare_torch.py, which times the same architecture in PyTorch.
//
// A training step is what Trainer does per batch (zero_grad, forward, loss and its gradient,
// backward, Adam) at the file's batch size; inference is an evaluation-mode forward at 4096 rows.
// Each is warmed up first (buffers sized, pages mapped, OpenMP threads started), then repeated
// for SECONDS (default 3) of wall-clock time.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "nn/network_file.h"
#include "nn/train.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr nn::Index kInferenceBatch = 4096;
constexpr int kWarmupSteps = 5;

nn::Tensor<float> normal_tensor(nn::Index rows, nn::Index cols, nn::Rng& rng) {
  nn::Tensor<float> t(rows, cols);
  for (nn::Index k = 0; k < t.size(); ++k) t.data()[k] = float(rng.normal());
  return t;
}

nn::Tensor<float> filled(nn::Index rows, nn::Index cols, float value) {
  nn::Tensor<float> t;
  t.assign(rows, cols, value);
  return t;
}

// Rows per second of step(), which handles `rows` rows, over at least `seconds` of wall clock.
template <class Step>
double rows_per_second(Step&& step, nn::Index rows, double seconds) {
  for (int i = 0; i < kWarmupSteps; ++i) step();
  const Clock::time_point start = Clock::now();
  long calls = 0;
  double elapsed = 0.0;
  do {
    step();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return double(calls) * double(rows) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: starnn_time_net NET.json [SECONDS]\n");
    return 2;
  }
  try {
    const nn::NetworkFile file = nn::read_network_file(argv[1]);
    const double seconds = argc == 3 ? std::stod(argv[2]) : 3.0;
    const nn::NetSpec spec = file.net_spec();
    const bool with_classifier = spec.heads.classifier == nn::Classifier::binary;
    nn::Net<float> net(spec);

    nn::LossSpec loss_spec;
    for (const nn::TargetSpec& target : file.data.targets) loss_spec.weights.push_back(target.weight);
    loss_spec.alpha = with_classifier ? file.loss.alpha : 1.0;
    nn::NetLoss<float> loss(loss_spec, with_classifier);
    nn::Adam<float> adam(net.parameters(), file.optimizer.adam);

    // Normalised inputs and labels are z-scores, so standard normal draws stand in for them;
    // every label present and unit scale, as in a catalogue without error columns.
    nn::Rng rng(spec.seed + 1);
    const nn::Index batch = file.training.batch_size, n_targets = spec.heads.n_targets;
    const nn::Tensor<float> x = normal_tensor(batch, spec.n_inputs, rng);
    const nn::Tensor<float> y = normal_tensor(batch, n_targets, rng);
    const nn::Tensor<float> scale = filled(batch, n_targets, 1.0F), mask = filled(batch, n_targets, 1.0F);
    nn::Tensor<float> label;
    if (with_classifier) {
      label.assign(batch, 1, 0.0F);
      for (nn::Index i = 0; i < batch; ++i) label(i, 0) = rng.uniform() < 0.5 ? 1.0F : 0.0F;
    }
    const nn::Targets<float> targets{y.view(), scale.view(), mask.view(), label.view()};

    // The learning rate only scales the update; a schedule's per-step cost is negligible.
    const double train = rows_per_second(
        [&] {
          net.parameters().zero_grad();
          loss.value_and_gradient(net.forward(x, nn::Mode::train), targets);
          net.backward(loss.gradient());
          adam.step(1e-3, 0.9);
        },
        batch, seconds);

    const nn::Tensor<float> x_infer = normal_tensor(kInferenceBatch, spec.n_inputs, rng);
    const double infer = rows_per_second([&] { net.forward(x_infer, nn::Mode::eval); }, kInferenceBatch, seconds);

    std::printf("{\"train_rows_per_s\": %.1f, \"infer_rows_per_s\": %.1f, \"parameters\": %lld, \"threads\": %d}\n",
                train, infer, static_cast<long long>(net.parameters().size()), omp_get_max_threads());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "starnn_time_net: %s\n", e.what());
    return 1;
  }
}
