#pragma once
// A trained model: its net (or the members of a deep ensemble), the network file it came from,
// the data statistics that map catalogue values to net inputs and outputs back to physical units,
// and the training state. Saved as safetensors (see io.h): every parameter and buffer by its
// PyTorch-style name (F32), member m's under "members.<m>." in an ensemble (so "stem.weight" or
// "members.3.stem.weight"), optionally the Adam moments ("optimizer.m", "optimizer.v", member
// after member), and in __metadata__:
//   format "starnn-model/1", network (the network file, JSON), stats (JSON), training (JSON).
// Files are written atomically.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "nn/data.h"
#include "nn/devices.h"
#include "nn/network_file.h"

namespace nn {

// A member's lowest validation loss so far (NaN before the first epoch) and its epoch.
struct MemberBest {
  double validation_loss = std::numeric_limits<double>::quiet_NaN();
  Index epoch = 0;
};

struct TrainingState {
  Index epoch = 0;               // epochs completed
  std::int64_t step = 0;         // optimiser steps each member has taken
  std::vector<MemberBest> best;  // one per member
};

enum class OptimizerState { leave_out, include };

struct PredictOptions {
  Index batch_size = 4096;
  // MC dropout (nets with dropout): K >= 2 passes of every member with its dropout drawn and
  // BatchNorm in evaluation, combined as an ensemble's members are; the masks are the model's
  // own (its dropout seed and the pass), so the same call gives the same numbers. 0 or 1: one
  // pass with dropout off.
  Index mc_samples = 0;
  // bf16 (nn/devices.h) needs the model on the CPU, and a CPU with AVX512_BF16 or AMX: predict
  // throws an nn::Error saying which is missing.
  Precision precision = Precision::fp32;
};

// A model's predictions for every row of a catalogue, in physical units, in the columns
// `starnn predict` writes: per target "<target>_pred" and, where the model predicts an
// uncertainty, "<target>_err" (1 sigma: the members' and passes' variances averaged plus the
// variance of their means, DESIGN.md "Uncertainties"); "<label>_logit" for a classifier (the
// mean logit); "n_inputs", the inputs a prediction used, for nets that take missing inputs;
// "starnn_flags" (data.h). Rows not predicted (too few inputs, or an outlier) are NaN, with
// flags 0.
struct Predictions {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;  // one per name
  // The column of that name; an nn::Error naming the columns there are when it is not one.
  NN_API const std::vector<double>& column(const std::string& name) const;
};

class NN_API Model {
 public:
  Model(NetworkFile file, DataStats stats);
  Index members() const { return Index(members_.size()); }
  Net<float>& net(Index member = 0) { return *members_.at(std::size_t(member)); }
  // Moves every member to `device`.
  void to(Device device);
  // Copies member `member` of `from` (its parameters and buffers) into this model's.
  void copy_member(Index member, Model& from);
  const NetworkFile& file() const { return file_; }
  const DataStats& stats() const { return stats_; }
  TrainingState& state() { return state_; }
  const TrainingState& state() const { return state_; }
  // The parameters of all members together: the length of the Adam moments.
  Index parameter_count() const;
  // The Adam moments of a resumable checkpoint, member after member (empty when the file had none).
  Tensor<float>& adam_m() { return adam_m_; }
  Tensor<float>& adam_v() { return adam_v_; }
  // Per target, the factor "<target>_err" carries ($.training.sigma_calibration); empty: 1.
  const std::vector<double>& sigma_scale() const { return sigma_scale_; }
  void set_sigma_scale(std::vector<double> scale);

  // Whether predictions come with "<target>_err": the net has uncertainty heads, or there are
  // several members or MC-dropout passes to spread.
  bool predicts_uncertainty(const PredictOptions& options = {}) const;
  // Predictions::names of predict(catalog, options), known before any catalogue is read.
  std::vector<std::string> output_names(const PredictOptions& options = {}) const;
  Predictions predict(const Catalog& catalog, const PredictOptions& options = {});
  // starnn_flags for every row of a catalogue (data.h): which predictions to treat with care.
  std::vector<double> flags(const Catalog& catalog) const;

  void save(const std::filesystem::path& path, OptimizerState optimizer) const;
  static Model load(const std::filesystem::path& path);

 private:
  NetworkFile file_;
  DataStats stats_;
  std::vector<std::unique_ptr<Net<float>>> members_;
  TrainingState state_;
  Tensor<float> adam_m_, adam_v_;
  std::vector<double> sigma_scale_;
};

}  // namespace nn
