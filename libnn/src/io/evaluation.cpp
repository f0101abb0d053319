#include "nn/evaluation.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

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

EvaluatedValues evaluated_values(Model& model, const Catalog& catalog, SplitChoice split,
                                 const PredictOptions& options) {
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
  const Predictions predictions = model.predict(catalog, options);

  auto gather = [&](const std::vector<double>& column) {
    std::vector<double> out;
    out.reserve(rows.size());
    for (Index r : rows) out.push_back(column[r]);
    return out;
  };
  const auto finite_or_nan = [](std::vector<double> values) {
    for (double& v : values)
      if (!std::isfinite(v)) v = std::numeric_limits<double>::quiet_NaN();
    return values;
  };
  for (const TargetSpec& target : data.targets) {
    const std::string& name = target.column;
    // A label that is not finite (+-inf as much as NaN) is missing, as it is in training.
    TargetValues v{name,
                   gather(predictions.column(name + "_pred")),
                   finite_or_nan(gather(evaluate_column(catalog, name))),
                   {},
                   {}};
    if (model.predicts_uncertainty(options)) {
      v.sigma = gather(predictions.column(name + "_err"));
      // Label errors that are not positive and finite count as none, as in training.
      v.label_error =
          target.error.empty() ? std::vector<double>(rows.size(), 0.0) : gather(evaluate_column(catalog, target.error));
      for (double& e : v.label_error)
        if (!(e > 0.0 && std::isfinite(e))) e = 0.0;
    }
    values.targets.push_back(std::move(v));
  }
  if (model.file().classifier == Classifier::binary)
    values.classifier = ClassifierValues{data.label, gather(predictions.column(data.label + "_logit")),
                                         gather(evaluate_column(catalog, data.label))};
  if (data.missing_inputs) {
    values.inputs = data.inputs;
    const std::vector<std::uint64_t> missing = missing_input_bits(catalog, data.inputs);
    for (Index r : rows) values.missing.push_back(missing[std::size_t(r)]);
  }
  return values;
}

namespace {

// Every target's metrics over the rows `take` selects (positions in values.rows).
std::vector<TargetReport> target_reports(const EvaluatedValues& values, const std::vector<std::size_t>& take) {
  const auto subset = [&](const std::vector<double>& v) {
    std::vector<double> out;
    out.reserve(take.size());
    for (std::size_t i : take) out.push_back(v[i]);
    return out;
  };
  std::vector<TargetReport> reports;
  for (const TargetValues& t : values.targets) {
    const std::vector<double> predicted = subset(t.predicted), truth = subset(t.truth);
    TargetReport target{t.name, regression_metrics(predicted, truth), {}};
    if (!t.sigma.empty())
      target.calibration = calibration_metrics(predicted, subset(t.sigma), truth, subset(t.label_error));
    reports.push_back(std::move(target));
  }
  return reports;
}

// The rows grouped by the inputs they lack, groups of kMinPatternRows or more, largest first
// (ties: fewer missing first, then by the inputs' order).
std::vector<PatternReport> pattern_reports(const EvaluatedValues& values) {
  std::map<std::uint64_t, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < values.missing.size(); ++i) groups[values.missing[i]].push_back(i);
  std::vector<std::pair<std::uint64_t, const std::vector<std::size_t>*>> kept;
  for (const auto& [bits, take] : groups)
    if (Index(take.size()) >= kMinPatternRows) kept.emplace_back(bits, &take);
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    if (a.second->size() != b.second->size()) return a.second->size() > b.second->size();
    return std::popcount(a.first) < std::popcount(b.first);
  });
  std::vector<PatternReport> reports;
  for (const auto& [bits, take] : kept) {
    PatternReport p;
    for (std::size_t j = 0; j < values.inputs.size(); ++j)
      if (bits >> j & 1u) p.missing.push_back(values.inputs[j]);
    p.rows = Index(take->size());
    p.targets = target_reports(values, *take);
    reports.push_back(std::move(p));
  }
  return reports;
}

}  // namespace

EvaluationReport evaluate_values(const EvaluatedValues& values) {
  EvaluationReport report;
  report.split = values.split;
  report.rows = Index(values.rows.size());
  std::vector<std::size_t> all(values.rows.size());
  std::iota(all.begin(), all.end(), std::size_t(0));
  report.targets = target_reports(values, all);
  if (values.classifier) report.classifier = binary_metrics(values.classifier->logits, values.classifier->labels);
  report.patterns = pattern_reports(values);
  return report;
}

EvaluationReport evaluate_model(Model& model, const Catalog& catalog, SplitChoice split,
                                const PredictOptions& options) {
  return evaluate_values(evaluated_values(model, catalog, split, options));
}

namespace {

// {"<name>": {"n", "bias", ...}} for each target (see nn/evaluation.h).
Json targets_json(const std::vector<TargetReport>& reports) {
  Json targets = Json::object();
  for (const TargetReport& t : reports) {
    const RegressionMetrics& m = t.metrics;
    targets[t.name] = {{"n", m.n},
                       {"bias", number(m.bias)},
                       {"sigma_gauss", number(m.sigma_gauss)},
                       {"sigma_mad", number(m.sigma_mad)},
                       {"rmse", number(m.rmse)}};
    if (const auto& c = t.calibration) {
      Json& out = targets[t.name];
      out["mean_sigma"] = number(c->mean_sigma);
      out["z_sigma_mad"] = number(c->z_sigma_mad);
      out["coverage_68"] = number(c->coverage_68);
      out["coverage_95"] = number(c->coverage_95);
      Json bins = Json::array();
      for (const SigmaBin& b : c->bins)
        bins.push_back({{"sigma_low", number(b.sigma_low)},
                        {"sigma_high", number(b.sigma_high)},
                        {"mean_sigma", number(b.mean_sigma)},
                        {"n", b.residuals.n},
                        {"sigma_gauss", number(b.residuals.sigma_gauss)},
                        {"sigma_mad", number(b.residuals.sigma_mad)}});
      out["sigma_bins"] = bins;
      Json reliability = Json::array();
      for (const CoveragePoint& p : c->reliability)
        reliability.push_back({{"expected", p.expected}, {"observed", number(p.observed)}});
      out["reliability"] = reliability;
    }
  }
  return targets;
}

}  // namespace

std::string to_json(const EvaluationReport& report) {
  Json out = {{"split", to_string(report.split)}, {"rows", report.rows}, {"targets", targets_json(report.targets)}};
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
  if (!report.patterns.empty()) {
    Json patterns = Json::array();
    for (const PatternReport& p : report.patterns)
      patterns.push_back({{"missing", p.missing}, {"rows", p.rows}, {"targets", targets_json(p.targets)}});
    out["missing_inputs"] = patterns;
  }
  return out.dump(2);
}

}  // namespace nn
