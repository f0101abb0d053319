// starnn train: a network file and a catalogue in, checkpoints, history and metrics out.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli.h"
#include "interrupt.h"
#include "nn/devices.h"
#include "nn/evaluation.h"
#include "nn/io.h"
#include "nn/model.h"
#include "progress.h"

namespace starnn {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::unique_ptr<nn::Schedule> make_schedule(const nn::ScheduleSpec& s, nn::Index epochs, nn::Index batches) {
  switch (s.type) {
    case nn::ScheduleType::one_cycle: {
      nn::OneCycleOptions o = s.one_cycle;
      o.total_steps = epochs * batches;
      return nn::make_one_cycle(o);
    }
    case nn::ScheduleType::constant:
      return nn::make_constant(s.lr, s.beta1);
    case nn::ScheduleType::step:
      return nn::make_step({s.lr, s.step_size * batches, s.gamma, s.beta1});
  }
  throw nn::Error("unknown schedule");
}

// The history of a resumed run continues the file it left.
std::vector<std::string> read_history(const fs::path& path, nn::Index epochs_done) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (static_cast<nn::Index>(lines.size()) < epochs_done && std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string history_text(const std::vector<std::string>& lines) {
  std::string text = "epoch,train_loss,validation_loss,lr,seconds\n";
  for (const auto& l : lines) text += l + "\n";
  return text;
}

}  // namespace

int train_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"catalog", "out", "epochs", "device", "seed", "resume"}, {});
  args.expect_positionals(1, "starnn train NET.json");
  const fs::path net_path = args.positionals()[0];
  Progress progress(stdout);

  nn::NetworkFile file = nn::read_network_file(net_path);
  std::optional<nn::Model> resumed;
  if (const auto dir = args.get("resume")) {
    resumed.emplace(nn::Model::load(fs::path(*dir) / "last.safetensors"));
    if (resumed->adam_m().size() == 0)
      throw nn::Error(nn::str(*dir, "/last.safetensors holds no optimiser state to resume from"));
    // The run continues with the network file it started with; --epochs may change its length
    // (the schedule is then laid out anew over the new total).
    file = resumed->file();
  }
  if (const auto catalog = args.get("catalog")) {
    file.data.catalog = fs::absolute(*catalog).string();
  }
  file.training.epochs = args.integer("epochs", file.training.epochs);
  if (file.training.epochs < 1) throw nn::Error("--epochs must be at least 1");
  if (const auto seed = args.get("seed")) {
    if (resumed) throw nn::Error("--seed cannot change a resumed run");
    file.training.seed = std::uint64_t(args.integer("seed", 0));
  }
  file.training.device = args.device(file.training.device);
  const fs::path out = args.get("out")      ? fs::path(*args.get("out"))
                       : args.get("resume") ? fs::path(*args.get("resume"))
                                            : fs::path("runs") / net_path.stem();
  const nn::DeviceSelection device = nn::select_device(file.training.device);
  progress.line(nn::str("device: ", device.description));

  // Data.
  const fs::path catalog_path = file.catalog_path();
  const nn::CatalogOptions read_options{
      file.data.hdu, nn::needed_columns(catalog_path, nn::data_expressions(file.data), file.data.hdu)};
  const nn::Catalog catalog = nn::read_catalog(catalog_path, read_options);
  const nn::PreparedData data = nn::prepare_training_data(catalog, file);
  progress.line(nn::str("catalog ", catalog_path.string(), ": ", data.rows_in_catalog,
                        " rows; left out: ", data.rows.missing_input, " missing an input, ", data.rows.outliers,
                        " input outliers", "; train/validation/test ", data.train.rows(), "/", data.validation.rows(),
                        "/", data.test.rows(),
                        file.classifier == nn::Classifier::binary
                            ? nn::str("; ", data.rows.missing_label, " without the class label (classifier masked)")
                            : std::string()));

  // Net, optimiser, schedule.
  nn::Model model = resumed ? std::move(*resumed) : nn::Model(file, data.stats);
  if (resumed && model.stats().inputs.mean != data.stats.inputs.mean)
    throw nn::Error(
        nn::str("the catalogue differs from the one the resumed run trained on (", catalog_path.string(), ")"));
  nn::Net<float>& net = model.net();
  net.to(device.device);
  std::string backbone;
  if (file.backbone.type == nn::BackboneType::mlp) {
    backbone = "mlp backbone, hidden widths";
    for (nn::Index width : net.widths()) backbone += nn::str(" ", width);
  } else {
    backbone = nn::str(nn::to_string(file.backbone.block), " backbone, widths ", net.widths().front(), "..",
                       net.widths().back(), " over ", file.backbone.depth, " levels");
  }
  progress.line(nn::str("net: ", net.parameters().size(), " parameters; ", backbone));
  nn::NetLoss<float> loss({[&] {
                             std::vector<double> w;
                             for (const auto& t : file.data.targets) w.push_back(t.weight);
                             return w;
                           }(),
                           file.loss.alpha},
                          file.classifier == nn::Classifier::binary);
  nn::AdamOptions adam_options = file.optimizer.adam;
  nn::Adam<float> adam(net.parameters(), adam_options);
  if (model.adam_m().size() > 0) {
    nn::transfer<float>(model.adam_m().view(), adam.first_moment().view());
    nn::transfer<float>(model.adam_v().view(), adam.second_moment().view());
    adam.set_steps(model.state().step);
  }
  const nn::TrainOptions train_options{file.training.batch_size, file.data.augment};
  const nn::Index batches = nn::batches_per_epoch(data.train.rows(), train_options.batch_size);
  const auto schedule = make_schedule(file.schedule, file.training.epochs, batches);
  nn::Trainer<float> trainer(net, loss, adam, *schedule, train_options);

  // Epochs. The run's folder is made only now, so a bad catalogue or network file leaves none.
  fs::create_directories(out);
  std::vector<std::string> history =
      resumed ? read_history(out / "history.csv", model.state().epoch) : std::vector<std::string>();
  catch_interrupts();
  const auto start = Clock::now();
  bool interrupted = false;
  nn::TrainingState& state = model.state();
  // `last` always holds a state --resume continues exactly: parameters, moments, step, epoch.
  auto save_last = [&] {
    model.adam_m().resize(1, adam.first_moment().size());
    model.adam_v().resize(1, adam.second_moment().size());
    nn::transfer<float>(adam.first_moment().view(), model.adam_m().view());
    nn::transfer<float>(adam.second_moment().view(), model.adam_v().view());
    model.save(out / "last.safetensors", nn::OptimizerState::include);
  };
  if (!resumed) save_last();
  for (nn::Index epoch = state.epoch + 1; epoch <= file.training.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    nn::Rng rng = nn::Rng::derive(file.training.seed, std::uint64_t(epoch));
    const nn::EpochHooks hooks{interrupt_requested, [&](nn::Index done, nn::Index total) {
                                 const double rate = double(done) / seconds_since(epoch_start);
                                 progress.update(nn::str("epoch ", epoch, "/", file.training.epochs, "  batch ", done,
                                                         "/", total, "  ", std::lround(rate), " batches/s"));
                               }};
    const std::optional<double> train_loss = trainer.train_epoch(data.train, rng, hooks);
    if (!train_loss) {
      interrupted = true;
      break;
    }
    const double validation_loss = trainer.evaluate(data.validation);
    const double lr = schedule->at(std::max<std::int64_t>(adam.steps() - 1, 0)).lr;
    const double seconds = seconds_since(epoch_start);
    state.epoch = epoch;
    state.step = adam.steps();
    const bool best = !(validation_loss >= state.best_validation_loss);  // true for the first (NaN)
    if (best) {
      state.best_validation_loss = validation_loss;
      state.best_epoch = epoch;
      model.save(out / "best.safetensors", nn::OptimizerState::leave_out);
    }
    save_last();
    std::ostringstream row;
    row.precision(9);
    row << epoch << ',' << *train_loss << ',' << validation_loss << ',' << lr << ',' << seconds;
    history.push_back(row.str());
    nn::write_text_atomically(out / "history.csv", history_text(history));
    progress.line(nn::str("epoch ", epoch, "/", file.training.epochs, "  train ", *train_loss, "  validation ",
                          validation_loss, "  lr ", lr, "  ", std::lround(double(batches) / seconds), " batches/s",
                          best ? "  (best)" : ""));
  }
  if (interrupted) {
    progress.line(nn::str("interrupted: ", (out / "last.safetensors").string(), " holds epoch ", state.epoch,
                          "; continue with --resume ", out.string()));
    return 130;
  }

  // The best model on the held-out test split.
  nn::Model best = nn::Model::load(out / "best.safetensors");
  const nn::EvaluationReport report = nn::evaluate_model(best, catalog, nn::SplitChoice::test);
  nn::write_text_atomically(out / "metrics.json", nn::to_json(report) + "\n");
  progress.line(nn::str("trained ", file.training.epochs, " epochs in ", std::lround(seconds_since(start)),
                        " s; best validation loss ", state.best_validation_loss, " at epoch ", state.best_epoch));
  for (const nn::TargetReport& t : report.targets)
    progress.line(nn::str("test split: ", t.name, "  n ", t.metrics.n, "  sigma_gauss ", t.metrics.sigma_gauss,
                          "  sigma_mad ", t.metrics.sigma_mad, "  bias ", t.metrics.bias, "  rmse ", t.metrics.rmse));
  progress.line(
      nn::str("wrote ", (out / "best.safetensors").string(), ", last.safetensors, history.csv, metrics.json"));
  return 0;
}

}  // namespace starnn
