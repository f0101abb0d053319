#pragma once
// Evaluating a model on a catalogue with labels: per target n, bias, sigma_gauss, sigma_mad and
// rmse of predicted - true in physical units, and the confusion matrix of the classifier.
#include <optional>
#include <string>
#include <vector>

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
};

struct EvaluationReport {
  SplitChoice split = SplitChoice::all;
  Index rows = 0;  // rows evaluated (inputs present)
  std::vector<TargetReport> targets;
  std::optional<BinaryMetrics> classifier;
};

NN_API EvaluationReport evaluate_model(Model& model, const Catalog& catalog, SplitChoice split);
// {"split": ..., "rows": ..., "targets": {"<name>": {"n", "bias", "sigma_gauss", "sigma_mad", "rmse"}},
//  "classifier": {...}} with NaN written as null.
NN_API std::string to_json(const EvaluationReport& report);

}  // namespace nn
