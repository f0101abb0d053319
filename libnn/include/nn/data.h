#pragma once
// From a catalogue to training data, and from photometry to net inputs.
//   - Inputs are columns or colours ("u-g"); a row missing any input is dropped (and counted),
//     unless the net takes missing inputs ($.data.missing_inputs): then a row needs min_present
//     of them, and the net sees z-scores (0 where missing) and presence indicators.
//   - Input outliers: catalogues carry sentinels that the missing-value rule cannot know (an
//     i magnitude of -9999 makes r-i = 10013). An input farther than outlier_sigma robust
//     sigmas (1.4826 MAD) from the training split's median marks its row as an outlier: left
//     out of training and evaluation, and not predicted (NaN), since the net never saw such
//     inputs. The bounds are stored with the model.
//   - Targets are columns with optional error columns; a missing label is masked per target,
//     and so is a missing class label (NaN in Dataset::label) for the classifier.
//   - Splits are seeded: the same catalogue and seed give the same train/validation/test rows.
//   - Inputs and targets are z-scored with the TRAINING split's statistics, which are stored
//     with the model and applied to every split and to every catalogue predicted later.
//   - The weighted L1's scale of label t is s = max(sigma / mean_train(sigma_t), s_min); s = 1
//     without an error column or where the error is missing. The likelihoods take the error
//     itself in z-score units, e = sigma / std_train(t) (Dataset::error), 0 where it is missing.
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
  std::vector<double> input_low, input_high;  // inputs outside [low, high] are outliers
  ColumnStats targets;
  std::vector<double> mean_train_sigma;  // per target; 1 without an error column
  // The training range of each input: its 0.1 and 99.9 percentiles over the training split
  // (after outliers). A star outside it is predicted, and flagged (starnn_flags). Empty in
  // models from before it was kept.
  std::vector<double> range_low, range_high;
};

// The flags column `starnn predict` adds (DESIGN.md, README): bit 0 (1) a predicted star with
// an input outside its training range; bit 1 (2) a star predicted with missing inputs. 0 for
// rows that are not predicted. Written as a 64-bit integer column.
inline constexpr const char* kFlagsColumn = "starnn_flags";
inline constexpr std::int64_t kFlagOutsideTrainingRange = 1;
inline constexpr std::int64_t kFlagMissingInputs = 2;
// The column that counts the inputs a prediction used (nets that take missing inputs).
inline constexpr const char* kInputsUsedColumn = "n_inputs";

// The rows of each split, as catalogue rows, and how many rows were left out and why.
struct DataRows {
  std::vector<Index> train, validation, test;
  Index missing_input = 0;
  Index missing_label = 0;  // classifier nets: rows without a 0/1 label (kept, the classifier masked)
  Index outliers = 0;
};

// The usable rows (enough inputs present; a classifier's label 0, 1 or missing, NaN, which masks
// the classifier's loss on that row and nothing else) shuffled with the split's seed and cut into test, validation and
// train; then, when stats are given, cleared of input outliers. Training and evaluation both select rows this way.
NN_API DataRows select_rows(const Catalog& catalog, const DataSpec& data, const DataStats* stats);

// Indices 0..rows-1 shuffled with the seed and cut into test, validation and train (in that
// order); every split asked for gets at least one row.
struct SplitIndices {
  std::vector<Index> train, validation, test;
};
NN_API SplitIndices split_indices(Index rows, const SplitSpec& split);

struct PreparedData {
  Dataset<float> train, validation, test;
  DataStats stats;
  DataRows rows;
  Index rows_in_catalog = 0;
  // Labels whose standard error is not a positive finite number (a catalogue's -9999 or 0 for
  // "no error"): weighted as if they had none (s = 1).
  Index unusable_errors = 0;
};

// Every expression the data section evaluates: inputs, their errors, targets, their errors, label.
NN_API std::vector<std::string> data_expressions(const DataSpec& data);

NN_API PreparedData prepare_training_data(const Catalog& catalog, const NetworkFile& file);

// The rows of a catalogue the net predicts (enough inputs present, no outlier), as net inputs:
// x (rows.size(), data.net_inputs()), rows[i] the catalogue row of x's row i, present[i] how
// many of its inputs it has.
struct NetInputs {
  Tensor<float> x;
  std::vector<Index> rows;
  std::vector<Index> present;
};
NN_API NetInputs normalised_inputs(const Catalog& catalog, const DataSpec& data, const DataStats& stats);

// starnn_flags for every row of a catalogue (see kFlagsColumn), as whole numbers.
NN_API std::vector<double> prediction_flags(const Catalog& catalog, const DataSpec& data, const DataStats& stats);

// Which inputs each row of a catalogue lacks: bit j set when input j (of the first 64) is missing.
NN_API std::vector<std::uint64_t> missing_input_bits(const Catalog& catalog, const std::vector<std::string>& inputs);

// z-scores of column j and back.
inline double normalise(double value, const ColumnStats& stats, std::size_t j) {
  return (value - stats.mean[j]) / stats.std[j];
}
inline double denormalise(double value, const ColumnStats& stats, std::size_t j) {
  return value * stats.std[j] + stats.mean[j];
}

}  // namespace nn
