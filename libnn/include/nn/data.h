#pragma once
// From a catalogue to training data, and from photometry to net inputs.
//   - Inputs are columns or colours ("u-g"); a row missing any input is dropped (and counted).
//   - Targets are columns with optional error columns; a missing label is masked per target.
//   - Splits are seeded: the same catalogue and seed give the same train/validation/test rows.
//   - Inputs and targets are z-scored with the TRAINING split's statistics, which are stored
//     with the model and applied to every split and to every catalogue predicted later.
//   - The weighted L1's scale of label t is s = max(sigma / mean_train(sigma_t), s_min); s = 1
//     without an error column or where the error is missing.
#include <cstdint>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "nn/network_file.h"
#include "nn/train.h"

namespace nn {

// Per-column mean and standard deviation (population), in the order of `names`.
struct ColumnStats {
  std::vector<std::string> names;
  std::vector<double> mean;
  std::vector<double> std;
};

// Everything a model needs to turn raw catalogue values into net inputs and net outputs back
// into physical units.
struct DataStats {
  ColumnStats inputs;
  ColumnStats targets;
  std::vector<double> mean_train_sigma;  // per target; 1 without an error column
};

struct SplitRows {
  std::vector<Index> train, validation, test;  // indices into the usable rows
};

// The usable rows 0..rows-1 shuffled with the split's seed and cut into test, validation and
// train (in that order); every split of a non-trivial catalogue gets at least one row.
NN_API SplitRows split_rows(Index rows, const SplitSpec& split);

// The rows a net can use: every input present and, for classifier nets, a 0/1 label. The
// catalogue rows of the usable ones, and how many were left out for which reason.
struct UsableRows {
  std::vector<Index> rows;
  Index missing_input = 0;
  Index missing_label = 0;
};
NN_API UsableRows usable_rows(const Catalog& catalog, const DataSpec& data);

struct PreparedData {
  Dataset<float> train, validation, test;
  DataStats stats;
  SplitRows splits;  // indices into usable.rows
  UsableRows usable;
  Index rows_in_catalog = 0;
};

// The plain columns the data section reads, given the columns the file has.
NN_API std::vector<std::string> data_columns(const DataSpec& data, const std::vector<std::string>& available);

NN_API PreparedData prepare_training_data(const Catalog& catalog, const NetworkFile& file);

// The rows of a catalogue with every input present, normalised: x (rows.size(), n_inputs),
// rows[i] the catalogue row of x's row i.
struct NetInputs {
  Tensor<float> x;
  std::vector<Index> rows;
};
NN_API NetInputs normalised_inputs(const Catalog& catalog, const std::vector<std::string>& inputs,
                                   const ColumnStats& stats);

// z-scores of column j and back.
inline double normalise(double value, const ColumnStats& stats, std::size_t j) {
  return (value - stats.mean[j]) / stats.std[j];
}
inline double denormalise(double value, const ColumnStats& stats, std::size_t j) {
  return value * stats.std[j] + stats.mean[j];
}

}  // namespace nn
