#include "nn/evaluation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace nn {
namespace {

using Json = nlohmann::json;

const char* const kSplitNames[] = {"all", "train", "validation", "test"};

Json number(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

}  // namespace

SplitChoice parse_split_choice(const std::string& text) {
  for (int k = 0; k < 4; ++k)
    if (text == kSplitNames[k]) return SplitChoice(k);
  throw Error(str("split '", text, "': expected all, train, validation or test"));
}

const char* to_string(SplitChoice split) { return kSplitNames[int(split)]; }

EvaluatedValues evaluated_values(Model& model, const Catalog& catalog, SplitChoice split) {
  const DataSpec& data = model.file().data;
  // The rows to evaluate, as catalogue rows, selected as training selected them.
  const DataRows selected = select_rows(catalog, data, &model.stats());
  EvaluatedValues values;
  values.split = split;
  std::vector<Index>& rows = values.rows;
  if (split == SplitChoice::all) {
    for (const auto* part : {&selected.train, &selected.validation, &selected.test})
      rows.insert(rows.end(), part->begin(), part->end());
    std::sort(rows.begin(), rows.end());
  } else {
    rows = split == SplitChoice::train        ? selected.train
           : split == SplitChoice::validation ? selected.validation
                                              : selected.test;
  }
  const auto predictions = model.predict(catalog);

  auto gather = [&](const std::vector<double>& column) {
    std::vector<double> out;
    out.reserve(rows.size());
    for (Index r : rows) out.push_back(column[r]);
    return out;
  };
  for (std::size_t t = 0; t < data.targets.size(); ++t) {
    const std::string& name = data.targets[t].column;
    // A label that is not finite (+-inf as much as NaN) is missing, as it is in training.
    std::vector<double> truth = gather(evaluate_column(catalog, name));
    for (double& v : truth)
      if (!std::isfinite(v)) v = std::numeric_limits<double>::quiet_NaN();
    values.targets.push_back({name, gather(predictions[t]), std::move(truth)});
  }
  if (model.file().classifier == Classifier::binary)
    values.classifier =
        ClassifierValues{data.label, gather(predictions.back()), gather(evaluate_column(catalog, data.label))};
  return values;
}

EvaluationReport evaluate_values(const EvaluatedValues& values) {
  EvaluationReport report;
  report.split = values.split;
  report.rows = Index(values.rows.size());
  for (const TargetValues& t : values.targets)
    report.targets.push_back({t.name, regression_metrics(t.predicted, t.truth)});
  if (values.classifier) report.classifier = binary_metrics(values.classifier->logits, values.classifier->labels);
  return report;
}

EvaluationReport evaluate_model(Model& model, const Catalog& catalog, SplitChoice split) {
  return evaluate_values(evaluated_values(model, catalog, split));
}

std::string to_json(const EvaluationReport& report) {
  Json targets = Json::object();
  for (const TargetReport& t : report.targets) {
    const RegressionMetrics& m = t.metrics;
    targets[t.name] = {{"n", m.n},
                       {"bias", number(m.bias)},
                       {"sigma_gauss", number(m.sigma_gauss)},
                       {"sigma_mad", number(m.sigma_mad)},
                       {"rmse", number(m.rmse)}};
  }
  Json out = {{"split", to_string(report.split)}, {"rows", report.rows}, {"targets", targets}};
  if (report.classifier) {
    const BinaryMetrics& c = *report.classifier;
    out["classifier"] = {{"n", c.n},
                         {"accuracy", number(c.accuracy)},
                         {"confusion",
                          {{"true_positive", c.true_positive},
                           {"false_positive", c.false_positive},
                           {"true_negative", c.true_negative},
                           {"false_negative", c.false_negative}}}};
  }
  return out.dump(2);
}

}  // namespace nn
