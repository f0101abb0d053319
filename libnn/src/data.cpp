#include "nn/data.h"

#include <cmath>
#include <numeric>

#include "nn/loss.h"

namespace nn {
namespace {

// Evaluates every expression on the catalogue: one column of values per expression.
std::vector<std::vector<double>> evaluate_all(const Catalog& catalog, const std::vector<std::string>& expressions) {
  std::vector<std::vector<double>> out;
  for (const auto& e : expressions) out.push_back(evaluate_column(catalog, e));
  return out;
}

bool all_finite(const std::vector<std::vector<double>>& columns, Index row) {
  for (const auto& c : columns)
    if (!std::isfinite(c[row])) return false;
  return true;
}

// Mean and population standard deviation of column c over the given rows, finite values only.
std::pair<double, double> moments(const std::vector<double>& c, const std::vector<Index>& rows,
                                  const std::vector<Index>& usable) {
  double sum = 0.0, count = 0.0;
  for (Index r : rows)
    if (std::isfinite(c[usable[r]])) sum += c[usable[r]], count += 1.0;
  const double mean = count > 0 ? sum / count : 0.0;
  double sq = 0.0;
  for (Index r : rows)
    if (std::isfinite(c[usable[r]])) sq += (c[usable[r]] - mean) * (c[usable[r]] - mean);
  return {mean, count > 0 ? std::sqrt(sq / count) : 0.0};
}

}  // namespace

SplitRows split_rows(Index rows, const SplitSpec& split) {
  std::vector<Index> order(rows);
  std::iota(order.begin(), order.end(), Index(0));
  Rng rng(split.seed);
  for (Index i = rows - 1; i > 0; --i) std::swap(order[i], order[rng.below(std::uint64_t(i + 1))]);
  auto share = [&](double fraction) { return fraction > 0 ? std::max<Index>(1, Index(std::llround(fraction * rows))) : 0; };
  const Index n_test = share(split.test), n_validation = share(split.validation);
  SplitRows s;
  s.test.assign(order.begin(), order.begin() + std::min(rows, n_test));
  s.validation.assign(order.begin() + std::min(rows, n_test), order.begin() + std::min(rows, n_test + n_validation));
  s.train.assign(order.begin() + std::min(rows, n_test + n_validation), order.end());
  return s;
}

std::vector<std::string> data_columns(const DataSpec& data, const std::vector<std::string>& available) {
  std::vector<std::string> expressions = data.inputs;
  expressions.insert(expressions.end(), data.input_errors.begin(), data.input_errors.end());
  for (const TargetSpec& t : data.targets) {
    expressions.push_back(t.column);
    if (!t.error.empty()) expressions.push_back(t.error);
  }
  if (!data.label.empty()) expressions.push_back(data.label);
  return expression_columns(expressions, available);
}

UsableRows usable_rows(const Catalog& catalog, const DataSpec& data) {
  const auto inputs = evaluate_all(catalog, data.inputs);
  const std::vector<double> label = data.label.empty() ? std::vector<double>() : evaluate_column(catalog, data.label);
  UsableRows u;
  for (Index r = 0; r < catalog.rows(); ++r) {
    if (!all_finite(inputs, r)) {
      ++u.missing_input;
    } else if (!label.empty() && !(label[r] == 0.0 || label[r] == 1.0)) {
      if (!std::isnan(label[r]))
        throw Error(str(catalog.source(), ": column ", data.label, " row ", r, ": class label ", label[r],
                        " is neither 0 nor 1"));
      ++u.missing_label;
    } else {
      u.rows.push_back(r);
    }
  }
  return u;
}

PreparedData prepare_training_data(const Catalog& catalog, const NetworkFile& file) {
  const DataSpec& spec = file.data;
  PreparedData p;
  const auto inputs = evaluate_all(catalog, spec.inputs);
  const auto input_errors = evaluate_all(catalog, spec.input_errors);
  std::vector<std::string> target_columns, error_columns;
  for (const TargetSpec& t : spec.targets) target_columns.push_back(t.column);
  const auto targets = evaluate_all(catalog, target_columns);
  std::vector<std::vector<double>> errors;
  for (const TargetSpec& t : spec.targets)
    errors.push_back(t.error.empty() ? std::vector<double>() : evaluate_column(catalog, t.error));
  const std::vector<double> label = spec.label.empty() ? std::vector<double>() : evaluate_column(catalog, spec.label);
  p.rows_in_catalog = catalog.rows();

  p.usable = usable_rows(catalog, spec);
  const Index usable = Index(p.usable.rows.size());
  if (usable < 10)
    throw Error(str(catalog.source(), ": only ", usable, " of ", catalog.rows(),
                    " rows have every input; at least 10 are needed to train"));
  p.splits = split_rows(usable, spec.split);
  if (p.splits.train.size() < 2) throw Error(str(catalog.source(), ": the training split has fewer than 2 rows"));

  DataStats& st = p.stats;
  st.inputs.names = spec.inputs;
  for (std::size_t j = 0; j < inputs.size(); ++j) {
    const auto [mean, sd] = moments(inputs[j], p.splits.train, p.usable.rows);
    if (!(sd > 0.0))
      throw Error(str(catalog.source(), ": input ", spec.inputs[j], " is constant in the training split"));
    st.inputs.mean.push_back(mean);
    st.inputs.std.push_back(sd);
  }
  st.targets.names = target_columns;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    const auto [mean, sd] = moments(targets[t], p.splits.train, p.usable.rows);
    if (!(sd > 0.0))
      throw Error(str(catalog.source(), ": target ", target_columns[t],
                      " has no spread in the training split (no labels, or all equal)"));
    st.targets.mean.push_back(mean);
    st.targets.std.push_back(sd);
    st.mean_train_sigma.push_back(errors[t].empty() ? 1.0 : moments(errors[t], p.splits.train, p.usable.rows).first);
    if (!(st.mean_train_sigma.back() > 0.0))
      throw Error(str(catalog.source(), ": error column ", spec.targets[t].error, " has no positive values"));
  }

  auto fill = [&](const std::vector<Index>& rows, Dataset<float>& d) {
    const Index n = Index(rows.size()), n_in = Index(inputs.size()), n_t = Index(targets.size());
    d.x.resize(n, n_in);
    if (!input_errors.empty()) d.x_error.resize(n, n_in);
    d.y.resize(n, n_t);
    d.scale.resize(n, n_t);
    d.mask.resize(n, n_t);
    if (!label.empty()) d.label.resize(n, 1);
    for (Index i = 0; i < n; ++i) {
      const Index r = p.usable.rows[rows[i]];
      for (Index j = 0; j < n_in; ++j) {
        d.x(i, j) = float(normalise(inputs[j][r], st.inputs, std::size_t(j)));
        if (!input_errors.empty()) {
          const double e = input_errors[j][r];
          d.x_error(i, j) = std::isfinite(e) ? float(e / st.inputs.std[j]) : 0.0f;
        }
      }
      for (Index t = 0; t < n_t; ++t) {
        const double y = targets[t][r];
        const bool labelled = std::isfinite(y);
        d.y(i, t) = labelled ? float(normalise(y, st.targets, std::size_t(t))) : 0.0f;
        d.mask(i, t) = labelled ? 1.0f : 0.0f;
        const double sigma = errors[t].empty() ? NAN : errors[t][r];
        d.scale(i, t) =
            std::isfinite(sigma) ? float(label_scale(sigma, st.mean_train_sigma[t], file.loss.s_min)) : 1.0f;
      }
      if (!label.empty()) d.label(i, 0) = float(label[r]);
    }
  };
  fill(p.splits.train, p.train);
  fill(p.splits.validation, p.validation);
  fill(p.splits.test, p.test);
  return p;
}

NetInputs normalised_inputs(const Catalog& catalog, const std::vector<std::string>& inputs, const ColumnStats& stats) {
  const auto columns = evaluate_all(catalog, inputs);
  NetInputs out;
  for (Index r = 0; r < catalog.rows(); ++r)
    if (all_finite(columns, r)) out.rows.push_back(r);
  out.x.resize(Index(out.rows.size()), Index(inputs.size()));
  for (std::size_t i = 0; i < out.rows.size(); ++i)
    for (std::size_t j = 0; j < columns.size(); ++j)
      out.x(Index(i), Index(j)) = float(normalise(columns[j][out.rows[i]], stats, j));
  return out;
}

}  // namespace nn
