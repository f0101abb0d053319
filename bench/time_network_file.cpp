// starnn_time_net NET.json [SECONDS] [--phase both|train|inference] [--device cpu|cuda]
//                 [--precision fp32|bf16] [--whole-batch]: the training and inference throughput of the net a
// network file describes, in float (inference's products in BF16 with --precision bf16), on random
// inputs (no catalogue is read). Prints one JSON line
//   {"train_rows_per_s": ..., "infer_rows_per_s": ..., "parameters": ..., "threads": ..., "device": ...}
// for bench/compare_torch.py, which times the same architecture in PyTorch. A phase left out is
// null, so a profiler attached to the process (bench/profile_starnn.py) sees only one phase.
//
// Training is Trainer::train_epoch (every batch gathered, zero_grad, forward, loss and its
// gradient, backward, Adam) over kTrainingBatches batches of the file's batch size, a step split
// among the threads as training runs it (nn/train.h), or with --whole-batch on the whole batch;
// inference is an evaluation-mode forward at 4096 rows.
// Each is warmed up first (buffers sized, pages mapped, OpenMP threads started), then repeated
// for SECONDS (default 3) of wall-clock time. On CUDA every timed call ends with the device idle.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "device_wait.h"
#include "nn/devices.h"
#include "nn/network_file.h"
#include "nn/train.h"
#include "nn/training_run.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr nn::Index kInferenceBatch = 4096;
constexpr int kWarmupSteps = 5;
constexpr nn::Index kTrainingBatches = 16;

struct Options {
  std::string net_file;
  double seconds = 3.0;
  bool train = true, inference = true;
  nn::DeviceChoice device = nn::DeviceChoice::cpu;
  nn::Precision precision = nn::Precision::fp32;
  bool split_on_threads = true;
};

Options parse(int argc, char** argv) {
  Options o;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--phase" && has_value) {
      const std::string_view phase = argv[++i];
      if (phase != "both" && phase != "train" && phase != "inference") throw nn::Error(nn::str("--phase ", phase));
      o.train = phase != "inference";
      o.inference = phase != "train";
    } else if (arg == "--device" && has_value) {
      const std::string_view device = argv[++i];
      if (device != "cpu" && device != "cuda") throw nn::Error(nn::str("--device ", device, ": cpu or cuda"));
      o.device = device == "cuda" ? nn::DeviceChoice::cuda : nn::DeviceChoice::cpu;
    } else if (arg == "--precision" && has_value) {
      o.precision = nn::parse_precision(argv[++i]);
    } else if (arg == "--whole-batch") {
      o.split_on_threads = false;
    } else if (positional == 0 && !arg.starts_with("--")) {
      o.net_file = arg;
      ++positional;
    } else if (positional == 1 && !arg.starts_with("--")) {
      const std::string text(arg);
      char* end = nullptr;
      o.seconds = std::strtod(text.c_str(), &end);
      if (*end != '\0' || !(o.seconds > 0.0)) throw nn::Error(nn::str("SECONDS '", arg, "': a positive number"));
      ++positional;
    } else {
      throw nn::Error(nn::str("unexpected argument '", arg, "'"));
    }
  }
  if (positional == 0) throw nn::Error("no network file given");
  return o;
}

// A (rows, cols) tensor of standard normal draws on `device`.
nn::Tensor<float> normal_tensor(nn::Index rows, nn::Index cols, nn::Rng& rng, nn::Device device) {
  nn::Tensor<float> t(rows, cols);
  for (nn::Index k = 0; k < t.size(); ++k) t.data()[k] = float(rng.normal());
  t.move_to(device);
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

std::string json_rate(const std::optional<double>& rate) {
  if (!rate) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", *rate);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "starnn_time_net: %s\n", e.what());
    std::fprintf(stderr,
                 "usage: starnn_time_net NET.json [SECONDS] [--phase both|train|inference] [--device cpu|cuda]\n"
                 "                       [--precision fp32|bf16] [--whole-batch]\n");
    return 2;
  }
  try {
    const nn::NetworkFile file = nn::read_network_file(options.net_file);
    const nn::Device device = nn::select_device(options.device).device;
    const nn::NetSpec spec = file.net_spec();
    const bool with_classifier = spec.heads.classifier == nn::Classifier::binary;
    nn::Net<float> net(spec);
    net.to(device);

    // The file's own loss; an ensemble is timed as one of its members.
    nn::NetLoss<float> loss = nn::make_loss(file);
    nn::Adam<float> adam(net.parameters(), file.optimizer.adam);

    // Normalised inputs and labels are z-scores, so standard normal draws stand in for them;
    // every label present and unit scale, as in a catalogue without error columns. One label
    // column per target of the file, as the loss weights: the heads' targets and, for an
    // auto-encoder, its band.
    nn::Rng rng(spec.seed + 1);
    const nn::Index batch = file.training.batch_size, n_targets = nn::Index(file.data.targets.size());
    const nn::Index rows = batch * kTrainingBatches;
    nn::Dataset<float> data;
    data.x = normal_tensor(rows, spec.n_inputs, rng, nn::Device::cpu);
    data.y = normal_tensor(rows, n_targets, rng, nn::Device::cpu);
    data.scale.assign(rows, n_targets, 1.0F);
    data.mask.assign(rows, n_targets, 1.0F);
    if (with_classifier) {
      data.label.assign(rows, 1, 0.0F);
      for (nn::Index i = 0; i < rows; ++i) data.label(i, 0) = rng.uniform() < 0.5 ? 1.0F : 0.0F;
    }

    std::optional<double> train, infer;
    if (options.train) {
      // The learning rate only scales the update; a schedule's per-step cost is negligible.
      const auto schedule = nn::make_constant(1e-3, 0.9);
      nn::TrainOptions train_options{batch};
      train_options.split_on_threads = options.split_on_threads;
      nn::Trainer<float> trainer(net, loss, adam, *schedule, train_options);
      train = rows_per_second(
          [&] {
            trainer.train_epoch(data, rng);
            nn::bench::wait_for(device);
          },
          rows, options.seconds);
    }

    if (options.inference) {
      const nn::Tensor<float> x_infer = normal_tensor(kInferenceBatch, spec.n_inputs, rng, device);
      std::optional<nn::Bf16Products> bf16;
      if (options.precision == nn::Precision::bf16) bf16.emplace();
      infer = rows_per_second(
          [&] {
            net.forward(x_infer, nn::Mode::eval);
            nn::bench::wait_for(device);
          },
          kInferenceBatch, options.seconds);
    }

    std::printf(
        "{\"train_rows_per_s\": %s, \"infer_rows_per_s\": %s, \"parameters\": %lld, \"threads\": %d, "
        "\"device\": \"%s\"}\n",
        json_rate(train).c_str(), json_rate(infer).c_str(), static_cast<long long>(net.parameters().size()),
        omp_get_max_threads(), nn::to_string(device));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "starnn_time_net: %s\n", e.what());
    return 1;
  }
}
