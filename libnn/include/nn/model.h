#pragma once
// A trained model: the net, the network file it came from, the data statistics that map
// catalogue values to net inputs and outputs back to physical units, and the training state.
// Saved as safetensors (see io.h): every parameter and buffer by its PyTorch-style name (F32),
// optionally the Adam moments ("optimizer.m", "optimizer.v"), and in __metadata__:
//   format "starnn-model/1", network (the network file, JSON), stats (JSON), training (JSON).
// Files are written atomically.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "nn/data.h"
#include "nn/network_file.h"

namespace nn {

struct TrainingState {
  Index epoch = 0;                    // epochs completed
  std::int64_t step = 0;              // optimiser steps taken
  double best_validation_loss = 0.0;  // lowest so far (NaN before the first epoch)
  Index best_epoch = 0;
};

enum class OptimizerState { leave_out, include };

class NN_API Model {
 public:
  Model(NetworkFile file, DataStats stats);
  Net<float>& net() { return *net_; }
  const NetworkFile& file() const { return file_; }
  const DataStats& stats() const { return stats_; }
  TrainingState& state() { return state_; }
  const TrainingState& state() const { return state_; }
  // The Adam moments of a resumable checkpoint (empty when the file had none).
  Tensor<float>& adam_m() { return adam_m_; }
  Tensor<float>& adam_v() { return adam_v_; }

  // The output column names: one per target ("<target>_pred"), then "<label>_logit".
  std::vector<std::string> output_names() const;
  // Predictions for every row of a catalogue, in physical units: one column per output, NaN
  // for rows missing an input or with an outlier input (see data.h).
  std::vector<std::vector<double>> predict(const Catalog& catalog, Index batch_size = 4096);
  // starnn_flags for every row of a catalogue (data.h): which predictions to treat with care.
  std::vector<double> flags(const Catalog& catalog) const;

  void save(const std::filesystem::path& path, OptimizerState optimizer) const;
  static Model load(const std::filesystem::path& path);

 private:
  NetworkFile file_;
  DataStats stats_;
  std::unique_ptr<Net<float>> net_;
  TrainingState state_;
  Tensor<float> adam_m_, adam_v_;
};

}  // namespace nn
