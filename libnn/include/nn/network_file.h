#pragma once
// The network file (JSON, "format": "starnn-net/1"): what to train on, the net, the loss, the
// optimiser, the schedule and the training run. Sections data, model, loss, optimizer,
// schedule, training; every object has a "type". Parsing is strict: unknown keys, wrong types
// and impossible values are nn::Errors naming the file, the JSON path and what was expected.
// to_json() writes the file back with every default made explicit (a round trip).
//
// Example (data/nets/regression.json):
//   {"format": "starnn-net/1",
//    "data": {"type": "catalog", "catalog": "../sdss_segue_feh.fits", "inputs": ["ug", "gr", "ri", "iz"],
//             "targets": [{"type": "target", "column": "feh"}]},
//    "model": {"type": "regressor",
//              "backbone": {"type": "sandwich", "block": "aresdense", "n_init": 32, "n_max": 256, "depth": 4},
//              "heads": {"type": "linear"}},
//    "loss": {"type": "weighted_l1"}, "optimizer": {"type": "adam"},
//    "schedule": {"type": "one_cycle", "max_lr": 0.01}, "training": {"type": "minibatch", "epochs": 20}}
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "nn/devices.h"
#include "nn/net.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/train.h"

namespace nn {

struct TargetSpec {
  std::string column;  // a column or colour expression
  std::string error;   // the column of its standard errors; empty: s = 1
  double weight = 1.0;
};

struct SplitSpec {
  double validation = 0.1;
  double test = 0.1;
  std::uint64_t seed = 0;
};

struct DataSpec {
  std::string catalog;                    // relative paths are relative to the network file's folder
  std::string hdu;                        // FITS extension; empty: the first table
  std::vector<std::string> inputs;        // columns or colours ("u-g")
  std::vector<std::string> input_errors;  // one per input, or none
  std::vector<TargetSpec> targets;
  std::string label;  // the 0/1 column of the classifier; empty without one
  SplitSpec split;
  double outlier_sigma = 20.0;  // inputs beyond this many robust sigmas are outliers; 0: none
  Augment augment = Augment::none;
  // Set: a row is kept with at least min_present inputs, and the net sees presence indicators
  // (DESIGN.md, "Missing inputs"). Unset: a row missing any input is dropped.
  std::optional<MissingInputs> missing_inputs;
  // The width of the net's input: the inputs, and their indicators when inputs may be missing.
  Index net_inputs() const { return Index(inputs.size()) * (missing_inputs ? 2 : 1); }
};

// weighted_l1: the thesis's loss of a net without uncertainty heads. gaussian_nll, laplace_nll:
// the net gets uncertainty heads (HeadSpec::variance) and this likelihood (DESIGN.md, "Uncertainties").
enum class LossType { weighted_l1, gaussian_nll, laplace_nll };

struct LossFileSpec {
  LossType type = LossType::weighted_l1;
  double s_min = 0.1;  // weighted_l1: floor of the label scale s
  double alpha = 1.0;  // share of the regression loss when a classifier is trained (default 0.5 then)
  bool uncertainty() const { return type != LossType::weighted_l1; }
};

enum class OptimizerType { adam, adamw };

struct OptimizerSpec {
  OptimizerType type = OptimizerType::adam;
  AdamOptions adam;
};

enum class ScheduleType { one_cycle, constant, step };

struct ScheduleSpec {
  ScheduleType type = ScheduleType::one_cycle;
  OneCycleOptions one_cycle;   // total_steps is set from the training run
  double lr = 1e-3;            // constant and step
  double beta1 = 0.9;          // constant and step
  std::int64_t step_size = 1;  // step: epochs between decays
  double gamma = 0.1;          // step
};

// How the members of an ensemble share the machine on the CPU: side by side, one member per core
// on one thread each (the faster on 2 cores for the shipped nets), or one after another on every
// thread. A GPU trains them one after another. The two round differently (thread counts change
// the order of some sums), so a resumed run keeps its choice.
enum class EnsembleSchedule { one_after_another, side_by_side };

enum class SigmaCalibration { none, validation };

struct TrainingSpec {
  Index epochs = 20;
  Index batch_size = 256;
  std::uint64_t seed = 0;
  DeviceChoice device = DeviceChoice::auto_select;
  EnsembleSchedule ensemble = EnsembleSchedule::side_by_side;
  // validation: each time the best model is saved, every target's sigma is scaled by the one
  // factor that makes z_sigma_mad 1 on the validation split (Model::sigma_scale). none: sigma
  // as the heads and members give it.
  SigmaCalibration sigma_calibration = SigmaCalibration::none;
};

// The auto-encoder's decoder (thesis §6): a backbone (sandwich or mlp) that predicts the band the
// encoder does without from the inputs and the predicted labels. The band is the last of
// data.targets (a regression target with its own weight and error, masked where the band is
// missing) and not an input, so stars without it are still predicted.
struct DecoderSpec {
  BackboneSpec backbone;
  std::string band;
};

struct NetworkFile {
  DataSpec data;
  BackboneSpec backbone;
  HeadType head = HeadType::linear;
  Classifier classifier = Classifier::none;
  std::optional<DecoderSpec> decoder;
  // A deep ensemble of this many nets, alike but for their initialisation and shuffling seeds
  // (model.members; 1: a single net).
  Index members = 1;
  LossFileSpec loss;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
  TrainingSpec training;
  std::filesystem::path folder;  // where the file was read from; resolves data.catalog
  std::string source;            // what it was read from, for messages: "net.json", "m.safetensors (network metadata)"

  // The net this file describes, as ensemble member `member`: member 0's seed is
  // training.seed, the others' member_seed.
  NetSpec net_spec(Index member = 0) const;
  // The catalogue path, resolved against the file's folder.
  std::filesystem::path catalog_path() const;
};

// The seed of ensemble member `member` of a run seeded `seed`: its initialisation, dropout and
// shuffling. Member 0 keeps `seed`, so a one-member run is the single net's.
NN_API std::uint64_t member_seed(std::uint64_t seed, Index member);

NN_API NetworkFile read_network_file(const std::filesystem::path& path);
// source names the text in messages.
NN_API NetworkFile parse_network_file(const std::string& json_text, const std::string& source);
// The whole file, defaults included, as indented JSON.
NN_API std::string to_json(const NetworkFile& file);

NN_API const char* to_string(DeviceChoice device);
// "auto", "cpu" or "cuda"; anything else an nn::Error that starts with `what` ("--device").
NN_API DeviceChoice parse_device_choice(const std::string& text, const std::string& what);
NN_API const char* to_string(LossType type);

}  // namespace nn
