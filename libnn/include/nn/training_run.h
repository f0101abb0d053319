#pragma once
// A training run: a network file and its catalogue in, a run folder out. It is what `starnn train`
// does, for any code that embeds the library. The members of an ensemble (model.members) train
// one after another within each epoch, each with its own seed (member_seed) for initialisation,
// dropout and shuffling. The folder holds
//   best.safetensors   every member as of its epoch with the lowest validation loss (no optimiser
//                      state)
//   last.safetensors   the state after the latest epoch: parameters, Adam moments, step, epoch
//   history.csv        epoch,train_loss,validation_loss,lr,seconds, one row per epoch (losses are
//                      the members' means)
//   metrics.json       the best model on the test split (written by evaluate_best)
// and every file in it is replaced atomically, so that a run stopped at any moment (a stop
// request, a crash, a killed job) leaves a folder that TrainingRun continues from last.safetensors:
// the continued run ends exactly as an uninterrupted one.
//
//   nn::TrainingRun run(nn::read_network_file("net.json"), "runs/net");
//   run.train();                                       // every epoch of the file
//   nn::EvaluationReport test = run.evaluate_best();   // and metrics.json
//
//   nn::Model last = nn::load_resume_point("runs/net");
//   nn::NetworkFile file = last.file();                // may change epochs, device, catalogue path
//   nn::TrainingRun resumed(file, "runs/net", std::move(last));
//   resumed.train();
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nn/data.h"
#include "nn/devices.h"
#include "nn/evaluation.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/network_file.h"
#include "nn/schedule.h"

namespace nn {

// The learning-rate schedule of a network file's `schedule` section over `epochs` epochs of
// `batches_per_epoch` optimiser steps (one_cycle spans them all; step_size counts epochs).
NN_API std::unique_ptr<Schedule> make_schedule(const ScheduleSpec& spec, Index epochs, Index batches_per_epoch);

// The training loss of a network file: its targets' weights, loss.alpha, and the classifier's
// term when it has one.
NN_API NetLoss<float> make_loss(const NetworkFile& file);

// One row of history.csv.
struct HistoryRow {
  Index epoch = 0;
  double train_loss = 0.0;
  double validation_loss = 0.0;
  double lr = 0.0;  // the rate of the epoch's last step
  double seconds = 0.0;
};

// Reads history.csv; throws nn::Error naming the file, and the line of a row that is not five
// numbers in the header's columns.
NN_API std::vector<HistoryRow> read_history(const std::filesystem::path& csv);
// Writes history.csv atomically; numbers with 9 significant digits (so rows read back and
// written again are unchanged).
NN_API void write_history(const std::filesystem::path& csv, const std::vector<HistoryRow>& rows);

// The checkpoint a run continues from: folder/last.safetensors with its optimiser state. Throws
// nn::Error when it is missing or holds no optimiser state.
NN_API Model load_resume_point(const std::filesystem::path& folder);

// What a run tells and asks while it trains; every member is optional.
struct TrainingRunEvents {
  // Polled before every batch: true ends the run at once, leaving last.safetensors at the last
  // complete epoch.
  std::function<bool()> stop_requested;
  std::function<void(Index epoch, Index batches_done, Index batches)> batch_done;
  // After each epoch's checkpoints; `best` when it lowered a member's validation loss.
  std::function<void(const HistoryRow& row, bool best)> epoch_done;
};

// What a new run does with a folder that already holds one (a best, last or history file).
enum class ExistingRun {
  refuse,   // an nn::Error: resume it, or say that it may go
  replace,  // its files are removed when the new run starts training
};

class NN_API TrainingRun {
 public:
  // Reads and prepares file's catalogue and builds the net, its loss, Adam and schedule on the
  // device file.training.device selects. With resume_from (load_resume_point), the run
  // continues that model from its optimiser state and epoch, and its history.csv; file may
  // then lengthen the run (the schedule is laid out anew over the new total), move it to
  // another device or point at the catalogue elsewhere, but the catalogue must be the one it
  // trained on and the seed the same. A new run into a folder that holds one refuses it or
  // replaces it, as `existing` says (checked before anything is read). Nothing is written until
  // train().
  TrainingRun(NetworkFile file, std::filesystem::path folder, std::optional<Model> resume_from = {},
              ExistingRun existing = ExistingRun::refuse);
  ~TrainingRun();
  TrainingRun(TrainingRun&&) noexcept;
  TrainingRun& operator=(TrainingRun&&) noexcept;

  const NetworkFile& file() const;
  const std::filesystem::path& folder() const;
  const DeviceSelection& device() const;
  const std::filesystem::path& catalog_path() const;
  // The prepared splits with the counts of rows left out.
  const PreparedData& data() const;
  Model& model();
  Index batches_per_epoch() const;
  const TrainingState& state() const;

  // Makes the folder, locks it (a second run into it, here or in another process, throws
  // until this one is destroyed) and trains the epochs left, writing the files above after
  // each. Returns true when every epoch of file.training.epochs is done, false when
  // stop_requested ended it.
  bool train(const TrainingRunEvents& events = {});

  // best.safetensors on the catalogue's test split; writes metrics.json (evaluation.h's to_json).
  EvaluationReport evaluate_best();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// What a caller may change of a network file as it starts a run: the options of `starnn train`
// and the arguments of starnn.train(), one rule for both. Unset members keep the file's.
struct RunOptions {
  std::optional<std::filesystem::path> catalog;  // instead of data.catalog
  std::optional<long long> epochs;               // at least 1; a resumed run may lengthen itself
  std::optional<long long> seed;                 // >= 0; a resumed run keeps its own
  std::optional<DeviceChoice> device;
  std::optional<std::filesystem::path> resume;  // a run folder to continue from its last.safetensors
  bool overwrite = false;                       // replace a run the folder already holds
};

// The run `options` describe, into `folder`: `file` with the options' changes or, with resume,
// the resumed run's own network file with them. Throws nn::Error for options that contradict
// each other or the resumed run.
NN_API TrainingRun start_training_run(NetworkFile file, const std::filesystem::path& folder, const RunOptions& options);

}  // namespace nn
