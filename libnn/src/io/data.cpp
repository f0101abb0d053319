#include "nn/data.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nn/loss.h"

namespace nn {
namespace {

using Columns = std::vector<std::vector<double>>;

// Evaluates every expression on the catalogue: one column of values per expression.
Columns evaluate_all(const Catalog& catalog, const std::vector<std::string>& expressions) {
  Columns out;
  for (const auto& e : expressions) out.push_back(evaluate_column(catalog, e));
  return out;
}

// An input is present when finite: the catalogue's sentinels are NaN by then, and a colour
// is NaN when either band is.
Index present_inputs(const Columns& inputs, Index row) {
  Index n = 0;
  for (const auto& c : inputs) n += std::isfinite(c[row]);
  return n;
}

// Enough inputs for the net: every one, or min_present for a net that takes missing inputs.
bool enough_inputs(const Columns& inputs, Index row, const DataSpec& data) {
  const Index needed = data.missing_inputs ? data.missing_inputs->min_present : Index(inputs.size());
  return present_inputs(inputs, row) >= needed;
}

// Every present input within its outlier bounds (missing ones have none to break).
bool within_bounds(const Columns& inputs, Index row, const DataStats& stats) {
  for (std::size_t j = 0; j < inputs.size(); ++j) {
    const double v = inputs[j][row];
    if (std::isfinite(v) && !(v >= stats.input_low[j] && v <= stats.input_high[j])) return false;
  }
  return true;
}

// Row `row`'s net input: the z-scores, then (with indicators) 1 for each present input; a
// missing input is 0 in both. x has room for n or 2n values.
void write_net_input(const Columns& inputs, Index row, const ColumnStats& stats, bool indicators, float* x) {
  const std::size_t n = inputs.size();
  for (std::size_t j = 0; j < n; ++j) {
    const double v = inputs[j][row];
    const bool present = std::isfinite(v);
    x[j] = present ? float(normalise(v, stats, j)) : 0.0f;
    if (indicators) x[n + j] = present ? 1.0f : 0.0f;
  }
}

// A standard error the weighted loss and augmentation can use. Catalogues mark "no error" with
// sentinels (-9999, 0, NaN): those count as missing.
bool usable_error(double e) { return std::isfinite(e) && e > 0.0; }

// The usable errors of column c at the given catalogue rows.
std::vector<double> usable_errors(const std::vector<double>& c, const std::vector<Index>& rows) {
  std::vector<double> v;
  for (Index r : rows)
    if (usable_error(c[r])) v.push_back(c[r]);
  return v;
}

// A mean and spread that fit the model file: values whose squares overflow leave infinities
// that no file can hold and no net can use.
void require_finite(const std::string& source, const std::string& what, double mean, double spread) {
  if (!std::isfinite(mean) || !std::isfinite(spread))
    throw Error(str(source, ": ", what, " has values too large to normalise (mean ", mean, ", spread ", spread,
                    "); rescale the column or leave such rows out"));
}

// The finite values of column c at the given catalogue rows.
std::vector<double> finite_values(const std::vector<double>& c, const std::vector<Index>& rows) {
  std::vector<double> v;
  v.reserve(rows.size());
  for (Index r : rows)
    if (std::isfinite(c[r])) v.push_back(c[r]);
  return v;
}

double median(std::vector<double> v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const double upper = v[mid];
  if (v.size() % 2) return upper;
  return 0.5 * (upper + *std::max_element(v.begin(), v.begin() + mid));
}

// The q-th percentile with linear interpolation between order statistics (numpy's default);
// values is reordered.
double percentile(std::vector<double>& values, double q) {
  if (values.empty()) return NAN;
  const double at = q / 100.0 * double(values.size() - 1);
  const auto below = std::size_t(std::floor(at));
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(below), values.end());
  const double low = values[below];
  if (below + 1 >= values.size()) return low;
  const double high = *std::min_element(values.begin() + std::ptrdiff_t(below) + 1, values.end());
  return low + (at - double(below)) * (high - low);
}

// Mean and population standard deviation.
std::pair<double, double> moments(const std::vector<double>& v) {
  if (v.empty()) return {0.0, 0.0};
  double sum = 0.0;
  for (double x : v) sum += x;
  const double mean = sum / double(v.size());
  double sq = 0.0;
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sq / double(v.size()))};
}

void remove_outliers(std::vector<Index>& rows, const Columns& inputs, const DataStats& stats, Index& outliers) {
  const auto kept =
      std::stable_partition(rows.begin(), rows.end(), [&](Index r) { return within_bounds(inputs, r, stats); });
  outliers += Index(rows.end() - kept);
  rows.erase(kept, rows.end());
}

}  // namespace

SplitIndices split_indices(Index rows, const SplitSpec& split) {
  std::vector<Index> order(rows);
  std::iota(order.begin(), order.end(), Index(0));
  Rng rng(split.seed);
  for (Index i = rows - 1; i > 0; --i) std::swap(order[i], order[rng.below(std::uint64_t(i + 1))]);
  auto share = [&](double fraction) {
    return std::min(rows, fraction > 0 ? std::max<Index>(1, Index(std::llround(fraction * double(rows)))) : 0);
  };
  const Index n_test = share(split.test), n_validation = std::min(rows - n_test, share(split.validation));
  SplitIndices s;
  s.test.assign(order.begin(), order.begin() + n_test);
  s.validation.assign(order.begin() + n_test, order.begin() + n_test + n_validation);
  s.train.assign(order.begin() + n_test + n_validation, order.end());
  return s;
}

DataRows select_rows(const Catalog& catalog, const DataSpec& data, const DataStats* stats) {
  const Columns inputs = evaluate_all(catalog, data.inputs);
  const std::vector<double> label = data.label.empty() ? std::vector<double>() : evaluate_column(catalog, data.label);
  DataRows out;
  std::vector<Index> usable;
  for (Index r = 0; r < catalog.rows(); ++r) {
    if (!enough_inputs(inputs, r, data)) {
      ++out.missing_input;
      continue;
    }
    if (!label.empty() && !(label[r] == 0.0 || label[r] == 1.0)) {
      if (!std::isnan(label[r]))
        throw Error(str(catalog.source(), ": column ", data.label, " row ", r, ": class label ", label[r],
                        " is neither 0 nor 1"));
      ++out.missing_label;  // kept: its NaN label masks the classifier's loss only
    }
    usable.push_back(r);
  }
  const SplitIndices s = split_indices(Index(usable.size()), data.split);
  for (auto [from, to] : {std::pair{&s.train, &out.train}, {&s.validation, &out.validation}, {&s.test, &out.test}})
    for (Index k : *from) to->push_back(usable[k]);
  if (stats)
    for (auto* rows : {&out.train, &out.validation, &out.test}) remove_outliers(*rows, inputs, *stats, out.outliers);
  return out;
}

std::vector<std::string> data_expressions(const DataSpec& data) {
  std::vector<std::string> expressions = data.inputs;
  expressions.insert(expressions.end(), data.input_errors.begin(), data.input_errors.end());
  for (const TargetSpec& t : data.targets) {
    expressions.push_back(t.column);
    if (!t.error.empty()) expressions.push_back(t.error);
  }
  if (!data.label.empty()) expressions.push_back(data.label);
  return expressions;
}

PreparedData prepare_training_data(const Catalog& catalog, const NetworkFile& file) {
  const DataSpec& spec = file.data;
  PreparedData p;
  p.rows_in_catalog = catalog.rows();
  const Columns inputs = evaluate_all(catalog, spec.inputs);
  const Columns input_errors = evaluate_all(catalog, spec.input_errors);
  std::vector<std::string> target_columns;
  for (const TargetSpec& t : spec.targets) target_columns.push_back(t.column);
  const Columns targets = evaluate_all(catalog, target_columns);
  Columns errors;
  for (const TargetSpec& t : spec.targets)
    errors.push_back(t.error.empty() ? std::vector<double>() : evaluate_column(catalog, t.error));
  const std::vector<double> label = spec.label.empty() ? std::vector<double>() : evaluate_column(catalog, spec.label);

  // Outlier bounds from the training split, then the statistics of what remains.
  p.rows = select_rows(catalog, spec, nullptr);
  DataStats& st = p.stats;
  for (std::size_t j = 0; j < inputs.size(); ++j) {
    const std::vector<double> v = finite_values(inputs[j], p.rows.train);
    const double centre = v.empty() ? 0.0 : median(v);
    std::vector<double> deviation;
    for (double x : v) deviation.push_back(std::abs(x - centre));
    const double robust_sigma = deviation.empty() ? 0.0 : 1.4826 * median(deviation);
    const double reach =
        spec.outlier_sigma > 0 ? spec.outlier_sigma * robust_sigma : std::numeric_limits<double>::infinity();
    st.input_low.push_back(centre - reach);
    st.input_high.push_back(centre + reach);
  }
  for (auto* rows : {&p.rows.train, &p.rows.validation, &p.rows.test})
    remove_outliers(*rows, inputs, st, p.rows.outliers);
  if (p.rows.train.size() < 10)
    throw Error(
        str(catalog.source(), ": only ", p.rows.train.size(), " of ", catalog.rows(), " rows are left to train on (",
            spec.missing_inputs ? str(spec.missing_inputs->min_present, " inputs present") : "every input present",
            ", no outlier); at least 10 are needed"));

  st.inputs.names = spec.inputs;
  for (std::size_t j = 0; j < inputs.size(); ++j) {
    std::vector<double> train_values = finite_values(inputs[j], p.rows.train);
    // The moments first, in the rows' order; the percentiles then reorder the values.
    const auto [mean, sd] = moments(train_values);
    st.range_low.push_back(percentile(train_values, 0.1));
    st.range_high.push_back(percentile(train_values, 99.9));
    require_finite(catalog.source(), str("input ", spec.inputs[j]), mean, sd);
    if (!(sd > 0.0))
      throw Error(str(catalog.source(), ": input ", spec.inputs[j], " is constant in the training split"));
    st.inputs.mean.push_back(mean);
    st.inputs.std.push_back(sd);
  }
  st.targets.names = target_columns;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    const auto [mean, sd] = moments(finite_values(targets[t], p.rows.train));
    require_finite(catalog.source(), str("target ", target_columns[t]), mean, sd);
    if (!(sd > 0.0))
      throw Error(str(catalog.source(), ": target ", target_columns[t],
                      " has no spread in the training split (no labels, or all equal)"));
    st.targets.mean.push_back(mean);
    st.targets.std.push_back(sd);
    if (errors[t].empty()) {
      st.mean_train_sigma.push_back(1.0);
      continue;
    }
    const auto [mean_sigma, sigma_spread] = moments(usable_errors(errors[t], p.rows.train));
    require_finite(catalog.source(), str("error column ", spec.targets[t].error), mean_sigma, sigma_spread);
    if (!(mean_sigma > 0.0))
      throw Error(str(catalog.source(), ": error column ", spec.targets[t].error,
                      " has no positive finite value in the training split"));
    st.mean_train_sigma.push_back(mean_sigma);
    for (const auto* rows : {&p.rows.train, &p.rows.validation, &p.rows.test})
      for (Index r : *rows) p.unusable_errors += std::isfinite(targets[t][r]) && !usable_error(errors[t][r]);
  }

  auto fill = [&](const std::vector<Index>& rows, Dataset<float>& d) {
    const Index n = Index(rows.size()), n_in = Index(inputs.size()), n_t = Index(targets.size());
    d.x.resize(n, spec.net_inputs());
    if (!input_errors.empty()) d.x_error.resize(n, n_in);
    d.y.resize(n, n_t);
    d.scale.resize(n, n_t);
    d.mask.resize(n, n_t);
    d.error.resize(n, n_t);
    if (!label.empty()) d.label.resize(n, 1);
    for (Index i = 0; i < n; ++i) {
      const Index r = rows[i];
      write_net_input(inputs, r, st.inputs, spec.missing_inputs.has_value(), &d.x(i, 0));
      for (Index j = 0; j < n_in && !input_errors.empty(); ++j) {
        // A missing input has no error to add: it stays 0.
        const double e = input_errors[j][r];
        d.x_error(i, j) = usable_error(e) && std::isfinite(inputs[j][r]) ? float(e / st.inputs.std[j]) : 0.0f;
      }
      for (Index t = 0; t < n_t; ++t) {
        const double y = targets[t][r];
        const bool labelled = std::isfinite(y);
        d.y(i, t) = labelled ? float(normalise(y, st.targets, std::size_t(t))) : 0.0f;
        d.mask(i, t) = labelled ? 1.0f : 0.0f;
        const double sigma = errors[t].empty() ? NAN : errors[t][r];
        d.scale(i, t) = usable_error(sigma) ? float(label_scale(sigma, st.mean_train_sigma[t], file.loss.s_min)) : 1.0f;
        d.error(i, t) = usable_error(sigma) ? float(sigma / st.targets.std[std::size_t(t)]) : 0.0f;
      }
      if (!label.empty()) d.label(i, 0) = float(label[r]);
    }
  };
  fill(p.rows.train, p.train);
  fill(p.rows.validation, p.validation);
  fill(p.rows.test, p.test);
  return p;
}

std::vector<double> prediction_flags(const Catalog& catalog, const DataSpec& data, const DataStats& stats) {
  const Columns columns = evaluate_all(catalog, data.inputs);
  std::vector<double> flags(std::size_t(catalog.rows()), 0.0);
  const bool with_range = !stats.range_low.empty();  // models from before the range was kept have none
  for (Index r = 0; r < catalog.rows(); ++r) {
    if (!enough_inputs(columns, r, data) || !within_bounds(columns, r, stats)) continue;  // not predicted
    std::int64_t f = 0;
    for (std::size_t j = 0; j < columns.size(); ++j) {
      const double v = columns[j][r];
      if (!std::isfinite(v))
        f |= kFlagMissingInputs;
      else if (with_range && !(v >= stats.range_low[j] && v <= stats.range_high[j]))
        f |= kFlagOutsideTrainingRange;
    }
    flags[std::size_t(r)] = double(f);
  }
  return flags;
}

std::vector<std::uint64_t> missing_input_bits(const Catalog& catalog, const std::vector<std::string>& inputs) {
  const Columns columns = evaluate_all(catalog, inputs);
  std::vector<std::uint64_t> bits(std::size_t(catalog.rows()), 0);
  for (Index r = 0; r < catalog.rows(); ++r)
    for (std::size_t j = 0; j < columns.size() && j < 64; ++j)
      if (!std::isfinite(columns[j][r])) bits[std::size_t(r)] |= std::uint64_t(1) << j;
  return bits;
}

NetInputs normalised_inputs(const Catalog& catalog, const DataSpec& data, const DataStats& stats) {
  const Columns columns = evaluate_all(catalog, data.inputs);
  NetInputs out;
  for (Index r = 0; r < catalog.rows(); ++r)
    if (enough_inputs(columns, r, data) && within_bounds(columns, r, stats)) {
      out.rows.push_back(r);
      out.present.push_back(present_inputs(columns, r));
    }
  out.x.resize(Index(out.rows.size()), data.net_inputs());
  for (std::size_t i = 0; i < out.rows.size(); ++i)
    write_net_input(columns, out.rows[i], stats.inputs, data.missing_inputs.has_value(), &out.x(Index(i), 0));
  return out;
}

}  // namespace nn
