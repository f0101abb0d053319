#include "nn/training_run.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "member_epochs.h"
#include "nn/calibration.h"
#include "nn/error.h"
#include "nn/evaluation.h"
#include "nn/io.h"
#include "nn/ranks.h"
#include "nn/train.h"
#include "run_lock.h"

namespace nn {
namespace fs = std::filesystem;

std::unique_ptr<Schedule> make_schedule(const ScheduleSpec& spec, Index epochs, Index batches_per_epoch) {
  switch (spec.type) {
    case ScheduleType::one_cycle: {
      OneCycleOptions options = spec.one_cycle;
      options.total_steps = epochs * batches_per_epoch;
      return make_one_cycle(options);
    }
    case ScheduleType::constant:
      return make_constant(spec.lr, spec.beta1);
    case ScheduleType::step:
      return make_step({spec.lr, spec.step_size * batches_per_epoch, spec.gamma, spec.beta1});
  }
  throw Error("unknown schedule");
}

NetLoss<float> make_loss(const NetworkFile& file) {
  LossSpec spec{{}, file.loss.alpha, {}};
  for (const auto& target : file.data.targets) spec.weights.push_back(target.weight);
  if (file.loss.type == LossType::gaussian_nll) spec.likelihood = Likelihood::gaussian;
  if (file.loss.type == LossType::laplace_nll) spec.likelihood = Likelihood::laplace;
  return NetLoss<float>(spec, file.classifier == Classifier::binary);
}

// ---- history.csv ----

namespace {

constexpr const char* history_header = "epoch,train_loss,validation_loss,lr,seconds";

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  for (std::string field; std::getline(stream, field, ',');) fields.push_back(field);
  return fields;
}

// The whole field as a number, or nothing ("1.5x" and "" are not numbers).
std::optional<double> parse_number(const std::string& field) {
  double value = 0.0;
  const char* end = field.data() + field.size();
  const auto [stop, error] = std::from_chars(field.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

}  // namespace

std::vector<HistoryRow> read_history(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  if (!in || !std::getline(in, line)) throw Error(str(csv.string(), ": cannot read a header line"));
  const std::vector<std::string> header = split_fields(line);
  auto column = [&](const char* name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw Error(str(csv.string(), ": no column '", name, "'"));
    return std::size_t(it - header.begin());
  };
  const std::size_t columns[] = {column("epoch"), column("train_loss"), column("validation_loss"), column("lr"),
                                 column("seconds")};
  std::vector<HistoryRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = split_fields(line);
    double values[5];
    for (int k = 0; k < 5; ++k) {
      const std::optional<double> value =
          columns[k] < fields.size() ? parse_number(fields[columns[k]]) : std::optional<double>();
      if (!value) throw Error(str(csv.string(), ": line ", number, " is not a row of numbers"));
      values[k] = *value;
    }
    if (!(values[0] >= 1) || values[0] != std::floor(values[0]))
      throw Error(str(csv.string(), ": line ", number, ": epoch ", values[0], " is not a positive whole number"));
    rows.push_back({Index(values[0]), values[1], values[2], values[3], values[4]});
  }
  return rows;
}

void write_history(const fs::path& csv, const std::vector<HistoryRow>& rows) {
  std::ostringstream text;
  text.precision(9);
  text << history_header << '\n';
  for (const HistoryRow& r : rows)
    text << r.epoch << ',' << r.train_loss << ',' << r.validation_loss << ',' << r.lr << ',' << r.seconds << '\n';
  write_text_atomically(csv, text.str());
}

Model load_resume_point(const fs::path& folder) {
  const fs::path last = folder / "last.safetensors";
  Model model = Model::load(last);
  if (model.adam_m().size() == 0) throw Error(str(last.string(), " holds no optimiser state to resume from"));
  return model;
}

// ---- The run ----

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

Catalog read_training_catalog(const NetworkFile& file, const fs::path& path) {
  const CatalogOptions options{file.data.hdu, needed_columns(path, data_expressions(file.data), file.data.hdu)};
  return read_catalog(path, options);
}

// The files of a run, as the folder holds them.
constexpr const char* run_files[] = {"best.safetensors", "last.safetensors", "history.csv", "metrics.json"};

NetworkFile checked(NetworkFile file) {
  if (file.training.epochs < 1) throw Error(str("training.epochs must be at least 1, not ", file.training.epochs));
  return file;
}

// The run's folder, where a new run does not silently mix its files with an earlier run's.
fs::path run_folder(fs::path folder, bool resumed, ExistingRun existing) {
  if (resumed || existing == ExistingRun::replace) return folder;
  std::error_code error;
  for (const char* name : run_files)
    if (fs::exists(folder / name, error))
      throw Error(str("'", folder.string(), "' already holds a training run (", (folder / name).string(),
                      "); resume it (--resume), replace it (--overwrite) or train into another folder"));
  return folder;
}

// The schedule over the whole run; a run too short for it is the network file's to change.
std::unique_ptr<Schedule> run_schedule(const NetworkFile& file, Index batches, Index train_rows) {
  const Index steps = file.training.epochs * batches;
  if (file.schedule.type == ScheduleType::one_cycle && steps < 2)
    throw Error(str(file.source, ": $.schedule: one_cycle needs at least 2 optimiser steps; ", file.training.epochs,
                    " epochs of ", batches, " batches (", train_rows, " training rows in batches of ",
                    file.training.batch_size, ") give ", steps,
                    "; lower $.training.batch_size or raise "
                    "$.training.epochs"));
  return make_schedule(file.schedule, file.training.epochs, batches);
}

// A net too large for the machine, said in the network file's terms.
Model new_model(const NetworkFile& file, const PreparedData& data) {
  try {
    return Model(file, data.stats);
  } catch (const std::bad_alloc&) {
    throw Error(str(file.source, ": the net does not fit in this machine's memory; lower $.model.backbone.n_max ",
                    "(or the widths of an mlp) or depth"));
  }
}

// The net to train, on `device`: a new one, or the one a resumed run left.
Model start_model(const NetworkFile& file, const PreparedData& data, std::optional<Model>& resume_from,
                  const fs::path& catalog_path, Device device) {
  Model model = resume_from ? std::move(*resume_from) : new_model(file, data);
  model.to(device);
  if (!resume_from) return model;
  if (file.members != model.members())
    throw Error(str("a resumed run keeps its ", model.members(), " ensemble members, not ", file.members));
  if (file.training.ensemble != model.file().training.ensemble)
    throw Error("a resumed run keeps its $.training.ensemble schedule, which sets how its members round");
  if (model.stats().inputs.mean != data.stats.inputs.mean)
    throw Error(str("the catalogue differs from the one the resumed run trained on (", catalog_path.string(), ")"));
  if (file.training.seed != model.file().training.seed)
    throw Error(str("a resumed run keeps its seed (", model.file().training.seed, "), not ", file.training.seed));
  return model;
}

// Each member as of its lowest validation loss: a continued run starts from best.safetensors.
Model start_best(const NetworkFile& file, const PreparedData& data, const fs::path& folder, const Model& model) {
  Model best(file, data.stats);
  if (model.state().epoch == 0) return best;
  Model saved = Model::load(folder / "best.safetensors");
  if (saved.members() != best.members())
    throw Error(
        str((folder / "best.safetensors").string(), " holds ", saved.members(), " members, the run ", best.members()));
  for (Index m = 0; m < best.members(); ++m) best.copy_member(m, saved);
  return best;
}

// $.training.sigma_calibration "validation": per target, the factor that gives the validation
// split's z a sigma_MAD of 1, fitted to the sigma the members give without one.
void calibrate_sigma(Model& best, const Catalog& catalog) {
  best.set_sigma_scale({});
  const EvaluatedValues values = evaluated_values(best, catalog, SplitChoice::validation);
  std::vector<double> scale;
  for (const TargetValues& t : values.targets)
    scale.push_back(sigma_scale_for_unit_z_mad(t.predicted, t.sigma, t.truth, t.label_error));
  best.set_sigma_scale(std::move(scale));
}

}  // namespace

// Members in the order they are built: each needs those above it.
struct TrainingRun::State {
  // Under mpirun every rank trains on its shard of each batch (TrainOptions::shards) and holds
  // the same model; rank 0 alone writes the run's files.
  const Ranks& ranks = Ranks::world();
  NetworkFile file;
  fs::path folder;
  bool resumed;
  ExistingRun existing;
  DeviceSelection device;
  fs::path catalog_path;
  Catalog catalog;
  PreparedData data;
  Model model;
  TrainOptions train_options;
  Index batches;
  std::unique_ptr<Schedule> schedule;
  std::vector<std::unique_ptr<MemberTraining>> members;  // one per net of the model
  Model best;                                            // on the CPU
  std::vector<HistoryRow> history;
  std::optional<RunLock> lock;  // from the first train() on

  State(NetworkFile file_in, fs::path folder_in, std::optional<Model> resume_from, ExistingRun existing_in)
      : file(checked(std::move(file_in))),
        folder(run_folder(std::move(folder_in), resume_from.has_value(), existing_in)),
        resumed(resume_from.has_value()),
        existing(existing_in),
        device(select_device(file.training.device, ranks.local_rank())),
        catalog_path(file.catalog_path()),
        catalog(read_training_catalog(file, catalog_path)),
        data(prepare_training_data(catalog, file)),
        model(start_model(file, data, resume_from, catalog_path, device.device)),
        train_options{file.training.batch_size, file.data.augment, true, file.data.missing_inputs,
                      ranks.size() > 1 ? &ranks : nullptr},
        batches(nn::batches_per_epoch(data.train.rows(), train_options.batch_size)),
        schedule(run_schedule(file, batches, data.train.rows())),
        best(start_best(file, data, folder, model)) {
    // Before anything is written: a batch that would give a rank no row.
    try {
      check_rows_per_shard(data.train.rows(), train_options.batch_size, train_options.shards);
    } catch (const Error& e) {
      throw Error(str(file.source, ": $.training.batch_size: ", e.message()));
    }
    for (Index m = 0; m < model.members(); ++m)
      members.push_back(std::make_unique<MemberTraining>(make_loss(file), model.net(m), file.optimizer.adam, *schedule,
                                                         train_options));
    // The checkpoint's moments are the members', one after another.
    if (model.adam_m().size() > 0) {
      Index offset = 0;
      for (auto& member : members) {
        const Index n = member->adam.first_moment().size();
        transfer<float>(model.adam_m().view().col_range(offset, n), member->adam.first_moment().view());
        transfer<float>(model.adam_v().view().col_range(offset, n), member->adam.second_moment().view());
        member->adam.set_steps(model.state().step);
        offset += n;
      }
    }
    // A continued history keeps the rows of the epochs last.safetensors holds. train() writes an
    // epoch's row before its checkpoint, so a run stopped between the two has a row too many,
    // dropped here; its epoch is trained again.
    if (resumed && model.state().epoch > 0 && fs::exists(folder / "history.csv")) {
      history = read_history(folder / "history.csv");
      if (Index(history.size()) > model.state().epoch) history.resize(std::size_t(model.state().epoch));
    }
  }

  // last.safetensors always holds the state a continued run starts from exactly: parameters,
  // moments, step, epoch.
  void save_last() {
    if (!ranks.root()) return;
    model.adam_m().resize(1, model.parameter_count());
    model.adam_v().resize(1, model.parameter_count());
    Index offset = 0;
    for (auto& member : members) {
      const Index n = member->adam.first_moment().size();
      transfer<float>(member->adam.first_moment().view(), model.adam_m().view().col_range(offset, n));
      transfer<float>(member->adam.second_moment().view(), model.adam_v().view().col_range(offset, n));
      offset += n;
    }
    model.save(folder / "last.safetensors", OptimizerState::include);
  }
};

TrainingRun::TrainingRun(NetworkFile file, fs::path folder, std::optional<Model> resume_from, ExistingRun existing)
    : s_(std::make_unique<State>(std::move(file), std::move(folder), std::move(resume_from), existing)) {}

TrainingRun::~TrainingRun() = default;
TrainingRun::TrainingRun(TrainingRun&&) noexcept = default;
TrainingRun& TrainingRun::operator=(TrainingRun&&) noexcept = default;

TrainingRun start_training_run(NetworkFile file, const fs::path& folder, const RunOptions& options) {
  if (options.overwrite && options.resume) throw Error("overwrite and resume exclude each other");
  std::optional<Model> resumed;
  if (options.resume) {
    resumed.emplace(load_resume_point(*options.resume));
    // The run continues with the network file it started with; epochs may change its length.
    file = resumed->file();
  }
  if (options.catalog) file.data.catalog = fs::absolute(*options.catalog).string();
  if (options.epochs) {
    if (*options.epochs < 1) throw Error(str("epochs ", *options.epochs, ": must be at least 1"));
    file.training.epochs = Index(*options.epochs);
  }
  if (options.seed) {
    if (resumed) throw Error("a resumed run keeps its seed: leave the seed out");
    // The network file holds seeds in [0, 2^63 - 1]; the run must be one its own files describe.
    if (*options.seed < 0) throw Error(str("seed ", *options.seed, ": expected a whole number >= 0"));
    file.training.seed = std::uint64_t(*options.seed);
  }
  if (options.device) file.training.device = *options.device;
  return TrainingRun(std::move(file), folder, std::move(resumed),
                     options.overwrite ? ExistingRun::replace : ExistingRun::refuse);
}

const NetworkFile& TrainingRun::file() const { return s_->file; }
const fs::path& TrainingRun::folder() const { return s_->folder; }
const DeviceSelection& TrainingRun::device() const { return s_->device; }
const fs::path& TrainingRun::catalog_path() const { return s_->catalog_path; }
const PreparedData& TrainingRun::data() const { return s_->data; }
Model& TrainingRun::model() { return s_->model; }
Index TrainingRun::batches_per_epoch() const { return s_->batches; }
const TrainingState& TrainingRun::state() const { return s_->model.state(); }

bool TrainingRun::train(const TrainingRunEvents& events) {
  State& s = *s_;
  // Every rank has checked the folder (run_folder) and read what it resumes from before rank 0
  // writes there.
  s.ranks.barrier();
  if (s.ranks.root()) fs::create_directories(s.folder);
  if (!s.lock && s.ranks.root()) {
    s.lock.emplace(s.folder);
    // A replaced run goes only now, under the lock, when the new one starts writing.
    if (!s.resumed && s.existing == ExistingRun::replace)
      for (const char* name : run_files) fs::remove(s.folder / name);
    if (!s.resumed) s.save_last();
  }
  TrainingState& state = s.model.state();
  const Index n_members = s.model.members();
  for (Index epoch = state.epoch + 1; epoch <= s.file.training.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    // Every member trains on its own shuffle; an epoch's losses are their means, and each member
    // keeps the parameters of its own best epoch.
    EpochHooks hooks{events.stop_requested, {}};
    if (events.batch_done) hooks.batch_done = [&](Index done, Index total) { events.batch_done(epoch, done, total); };
    // Ranks train the members one after another: side by side, their threads' sums over the
    // ranks would have no common order.
    const EnsembleSchedule schedule =
        s.train_options.shards ? EnsembleSchedule::one_after_another : s.file.training.ensemble;
    const std::vector<MemberEpoch> epochs = train_member_epochs(s.members, s.data, s.batches, s.file.training.seed,
                                                                epoch, schedule, s.device.device == Device::cpu, hooks);
    for (const MemberEpoch& e : epochs)
      if (!e.train_loss) return false;
    double train_sum = 0.0, validation_sum = 0.0;
    bool best = false;
    for (Index m = 0; m < n_members; ++m) {
      const std::optional<double>& train_loss = epochs[std::size_t(m)].train_loss;
      const double validation_loss = epochs[std::size_t(m)].validation_loss;
      // A loss that is no longer a number stays one: stop with the last good epoch kept.
      if (!std::isfinite(*train_loss) || !std::isfinite(validation_loss))
        throw Error(str(s.file.source, ": epoch ", epoch, n_members > 1 ? str(" of member ", m) : std::string(),
                        " diverged (training loss ", *train_loss, ", validation loss ", validation_loss, "); ",
                        (s.folder / "last.safetensors").string(), " holds epoch ", state.epoch,
                        ". Lower $.schedule's learning rate (max_lr or lr) and train again"));
      train_sum += *train_loss;
      validation_sum += validation_loss;
      MemberBest& member_best = state.best[std::size_t(m)];
      if (std::isnan(member_best.validation_loss) || validation_loss < member_best.validation_loss) {
        member_best = {validation_loss, epoch};
        s.best.copy_member(m, s.model);
        best = true;
      }
    }
    const std::int64_t steps = s.members.front()->adam.steps();
    const double lr = s.schedule->at(std::max<std::int64_t>(steps - 1, 0)).lr;
    const HistoryRow row{epoch, train_sum / double(n_members), validation_sum / double(n_members), lr,
                         seconds_since(epoch_start)};
    state.epoch = epoch;
    state.step = steps;
    if (best) {
      s.best.state() = state;
      if (s.file.training.sigma_calibration == SigmaCalibration::validation) calibrate_sigma(s.best, s.catalog);
      if (s.ranks.root()) s.best.save(s.folder / "best.safetensors", OptimizerState::leave_out);
    }
    s.history.push_back(row);
    if (s.ranks.root()) write_history(s.folder / "history.csv", s.history);
    s.save_last();
    if (events.epoch_done) events.epoch_done(row, best);
  }
  s.ranks.barrier();  // best.safetensors is whole before any rank reads it
  return true;
}

EvaluationReport TrainingRun::evaluate_best() {
  Model best = Model::load(s_->folder / "best.safetensors");
  const EvaluationReport report = evaluate_model(best, s_->catalog, SplitChoice::test);
  if (s_->ranks.root()) write_text_atomically(s_->folder / "metrics.json", to_json(report) + "\n");
  return report;
}

}  // namespace nn
