// starnn train: a network file and a catalogue in, checkpoints, history and metrics out.
#include <chrono>
#include <cmath>
#include <filesystem>

#include "cli.h"
#include "interrupt.h"
#include "nn/devices.h"
#include "nn/evaluation.h"
#include "nn/io.h"
#include "nn/model.h"
#include "nn/ranks.h"
#include "nn/training_run.h"
#include "progress.h"

namespace starnn {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string describe_net(const nn::TrainingRun& run, nn::Net<float>& net) {
  const nn::NetworkFile& file = run.file();
  std::string backbone;
  if (file.backbone.type == nn::BackboneType::mlp) {
    backbone = "mlp backbone, hidden widths";
    for (nn::Index width : net.widths()) backbone += nn::str(" ", width);
  } else {
    backbone = nn::str(nn::to_string(file.backbone.block), " backbone, widths ", net.widths().front(), "..",
                       net.widths().back(), " over ", file.backbone.depth, " levels");
  }
  const nn::Index members = file.members;
  return nn::str(
      members > 1 ? nn::str(members, " members of ") : std::string(), net.parameters().size(), " parameters; ",
      backbone,
      file.loss.uncertainty() ? nn::str("; uncertainty heads (", nn::to_string(file.loss.type), ")") : std::string());
}

}  // namespace

int train_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"catalog", "out", "epochs", "device", "seed", "resume"}, {"overwrite"});
  args.expect_positionals(1, "starnn train NET.json");
  const fs::path net_path = args.positionals()[0];
  const nn::Ranks& ranks = nn::Ranks::world();
  Progress progress(ranks.root() ? stdout : nullptr);  // rank 0 speaks for a run under mpirun

  nn::RunOptions options;
  if (const auto catalog = args.get("catalog")) options.catalog = *catalog;
  if (args.get("epochs")) options.epochs = args.integer("epochs", 0);
  if (args.get("seed")) options.seed = args.integer("seed", 0);
  if (args.get("device")) options.device = args.device(nn::DeviceChoice::auto_select);
  if (const auto dir = args.get("resume")) options.resume = *dir;
  options.overwrite = args.flag("overwrite");
  const fs::path out = args.get("out")      ? fs::path(*args.get("out"))
                       : args.get("resume") ? fs::path(*args.get("resume"))
                                            : fs::path("runs") / net_path.stem();

  // The run's folder is made only when it trains, so a bad catalogue or network file leaves none.
  nn::TrainingRun run = nn::start_training_run(nn::read_network_file(net_path), out, options);
  const nn::PreparedData& data = run.data();
  progress.line(nn::str("device: ", run.device().description));
  if (ranks.size() > 1)
    progress.line(nn::str("ranks: ", ranks.size(), ", each training on its own rows of every batch of ",
                          run.file().training.batch_size, " (data-parallel)",
                          run.device().device == nn::Device::cuda
                              ? "; the GPUs' sums go through host memory (MPI gets no device buffers)"
                              : ""));
  progress.line(nn::str("catalog ", run.catalog_path().string(), ": ", data.rows_in_catalog,
                        " rows; left out: ", data.rows.missing_input, " missing an input, ", data.rows.outliers,
                        " input outliers", "; train/validation/test ", data.train.rows(), "/", data.validation.rows(),
                        "/", data.test.rows(),
                        run.file().classifier == nn::Classifier::binary
                            ? nn::str("; ", data.rows.missing_label, " without the class label (classifier masked)")
                            : std::string(),
                        data.unusable_errors > 0 ? nn::str("; ", data.unusable_errors,
                                                           " labels with an error <= 0 or not finite, weighted as "
                                                           "without one")
                                                 : std::string()));
  progress.line(nn::str("net: ", describe_net(run, run.model().net())));

  const nn::Index epochs = run.file().training.epochs;
  // The live line's rate counts from the epoch's first report.
  nn::Index live_epoch = 0;
  Clock::time_point epoch_start;
  catch_interrupts();
  const auto start = Clock::now();
  nn::TrainingRunEvents events;
  events.stop_requested = interrupt_requested;
  events.batch_done = [&](nn::Index epoch, nn::Index done, nn::Index total) {
    if (epoch != live_epoch) live_epoch = epoch, epoch_start = Clock::now();
    const double rate = double(done - 1) / seconds_since(epoch_start);
    progress.update(
        nn::str("epoch ", epoch, "/", epochs, "  batch ", done, "/", total, "  ", std::lround(rate), " batches/s"));
  };
  events.epoch_done = [&](const nn::HistoryRow& row, bool best) {
    progress.line(nn::str("epoch ", row.epoch, "/", epochs, "  train ", row.train_loss, "  validation ",
                          row.validation_loss, "  lr ", row.lr, "  ",
                          std::lround(double(run.batches_per_epoch() * run.model().members()) / row.seconds),
                          " batches/s", best ? "  (best)" : ""));
  };
  if (!run.train(events)) {
    progress.line(nn::str("interrupted: ", (out / "last.safetensors").string(), " holds epoch ", run.state().epoch,
                          "; continue with --resume ", out.string()));
    return 130;
  }

  // The best model on the held-out test split.
  const nn::EvaluationReport report = run.evaluate_best();
  std::string best;
  for (const nn::MemberBest& b : run.state().best)
    best += nn::str(best.empty() ? "" : ", ", b.validation_loss, " at epoch ", b.epoch);
  progress.line(nn::str("trained ", epochs, " epochs in ", std::lround(seconds_since(start)),
                        " s; best validation loss ", run.state().best.size() > 1 ? "per member " : "", best));
  for (const nn::TargetReport& t : report.targets) {
    progress.line(nn::str("test split: ", t.name, "  n ", t.metrics.n, "  sigma_gauss ", t.metrics.sigma_gauss,
                          "  sigma_mad ", t.metrics.sigma_mad, "  bias ", t.metrics.bias, "  rmse ", t.metrics.rmse));
    if (const auto& c = t.calibration)
      progress.line(nn::str("test split: ", t.name, "  mean_sigma ", c->mean_sigma, "  z_sigma_mad ", c->z_sigma_mad,
                            "  coverage_68 ", c->coverage_68, "  coverage_95 ", c->coverage_95));
  }
  progress.line(
      nn::str("wrote ", (out / "best.safetensors").string(), ", last.safetensors, history.csv, metrics.json"));
  return 0;
}

}  // namespace starnn
