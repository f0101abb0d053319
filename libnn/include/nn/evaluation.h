#pragma once
// Evaluating a model on a catalogue with labels: per target n, bias, sigma_gauss, sigma_mad and
// rmse of predicted - true in physical units, the calibration of the predicted uncertainties
// (nn/calibration.h) when the model predicts them, and the confusion matrix of the classifier.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nn/calibration.h"
#include "nn/metrics.h"
#include "nn/model.h"

namespace nn {

// Which rows: all of them, or one split of the model's own catalogue (the usable rows
// shuffled with the split seed stored in the model, as in training).
enum class SplitChoice { all, train, validation, test };
NN_API SplitChoice parse_split_choice(const std::string& text);
NN_API const char* to_string(SplitChoice split);

struct TargetReport {
  std::string name;
  RegressionMetrics metrics;
  std::optional<CalibrationMetrics> calibration;  // models that predict an uncertainty
};

// The metrics of the rows that lack the same inputs (nets that take missing inputs).
struct PatternReport {
  std::vector<std::string> missing;  // the inputs these rows lack; empty: complete rows
  Index rows = 0;
  std::vector<TargetReport> targets;
};
// Patterns with fewer rows than this are left out of EvaluationReport::patterns: their
// metrics would be noise.
inline constexpr Index kMinPatternRows = 50;

struct EvaluationReport {
  SplitChoice split = SplitChoice::all;
  Index rows = 0;  // rows evaluated (inputs present)
  std::vector<TargetReport> targets;
  std::optional<BinaryMetrics> classifier;
  // Nets that take missing inputs: every target's metrics per missing-input pattern of at
  // least kMinPatternRows rows, the most common first. Empty for other nets.
  std::vector<PatternReport> patterns;
};

// The evaluated rows' values, for figures and for the metrics alike: one entry per target, then
// the classifier's logits and labels when the model has one. Rows are those of evaluate_model.
struct TargetValues {
  std::string name;
  std::vector<double> predicted, truth;  // physical units, NaN where not predictable or unlabelled
  // Models that predict an uncertainty: its 1 sigma (NaN where not predicted) and the label's own
  // error from the target's error column (0 without one); empty otherwise.
  std::vector<double> sigma, label_error;
};
struct ClassifierValues {
  std::string label;
  std::vector<double> logits, labels;
};
struct EvaluatedValues {
  SplitChoice split = SplitChoice::all;
  std::vector<Index> rows;  // catalogue rows: ascending for all, in split order otherwise
  std::vector<TargetValues> targets;
  std::optional<ClassifierValues> classifier;
  // Nets that take missing inputs: the inputs' names and, per row, the inputs it lacks (bit j:
  // inputs[j], as missing_input_bits). Empty for other nets.
  std::vector<std::string> inputs;
  std::vector<std::uint64_t> missing;
};

NN_API EvaluatedValues evaluated_values(Model& model, const Catalog& catalog, SplitChoice split,
                                        const PredictOptions& options = {});
NN_API EvaluationReport evaluate_values(const EvaluatedValues& values);
// evaluate_values(evaluated_values(model, catalog, split)).
NN_API EvaluationReport evaluate_model(Model& model, const Catalog& catalog, SplitChoice split,
                                       const PredictOptions& options = {});
// {"split": ..., "rows": ..., "targets": {"<name>": {"n", "bias", "sigma_gauss", "sigma_mad", "rmse"
//  [, "mean_sigma", "z_sigma_mad", "coverage_68", "coverage_95", "sigma_bins": [...], "reliability": [...]]}},
//  "classifier": {...}[, "missing_inputs": [{"missing": [...], "rows": ..., "targets": {...}}, ...]]}
// with NaN written as null.
NN_API std::string to_json(const EvaluationReport& report);

}  // namespace nn
