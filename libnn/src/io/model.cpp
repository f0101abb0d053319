#include "nn/model.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "json_reader.h"
#include "nn/io.h"

namespace nn {
namespace {

using Json = nlohmann::json;

Json stats_json(const ColumnStats& s) { return {{"names", s.names}, {"mean", s.mean}, {"std", s.std}}; }

ColumnStats stats_from_json(const Json& j) {
  return {j.at("names").get<std::vector<std::string>>(), j.at("mean").get<std::vector<double>>(),
          j.at("std").get<std::vector<double>>()};
}

// Outlier bounds; without outlier cuts (outlier_sigma 0) they are infinite, which JSON cannot
// hold: null stands for no bound.
Json bounds_json(const std::vector<double>& bounds) {
  Json out = Json::array();
  for (const double b : bounds) out.push_back(std::isinf(b) ? Json(nullptr) : Json(b));
  return out;
}
std::vector<double> bounds_from_json(const Json& j, double unbounded) {
  if (!j.is_array()) throw Error("bounds must be an array");
  std::vector<double> out;
  for (const Json& b : j) out.push_back(b.is_null() ? unbounded : b.get<double>());
  return out;
}

// Calls f(name, view) for every parameter and buffer of the net; the views live on the net's
// device, so readers and writers go through transfer().
template <class F>
void for_each_tensor(Net<float>& net, F&& f) {
  struct Visitor : ModuleVisitor<float> {
    F& f;
    explicit Visitor(F& f_) : f(f_) {}
    void parameter(const std::string& name, Param<float>& p) override { f(name, p.value); }
    void buffer(const std::string& name, Tensor<float>& b) override { f(name, b.view()); }
  } visitor(f);
  net.visit(visitor, "");
}

std::vector<std::int64_t> shape_of(const View<float>& v) { return {v.rows, v.cols}; }

// Statistics that normalise to finite values and bounds that admit some input; anything else
// would turn every prediction into NaN and blame the stars.
void check_stats(const std::filesystem::path& path, const DataStats& stats) {
  auto check_columns = [&](const ColumnStats& c, const char* what) {
    for (std::size_t j = 0; j < c.mean.size(); ++j)
      if (!std::isfinite(c.mean[j]) || !(std::isfinite(c.std[j]) && c.std[j] > 0.0))
        throw Error(str(path.string(), ": ", what, " ", c.names.at(j), " has mean ", c.mean[j], " and std ", c.std[j],
                        " in the normalisation statistics; the model is damaged"));
  };
  check_columns(stats.inputs, "input");
  check_columns(stats.targets, "target");
  for (std::size_t j = 0; j < stats.input_low.size(); ++j)
    if (!(stats.input_low[j] <= stats.input_high[j]))
      throw Error(str(path.string(), ": input ", stats.inputs.names.at(j), " has bounds [", stats.input_low[j], ", ",
                      stats.input_high[j], "], which admit no value; the model is damaged"));
  for (std::size_t j = 0; j < stats.range_low.size(); ++j)
    if (!(std::isfinite(stats.range_low[j]) && std::isfinite(stats.range_high[j]) &&
          stats.range_low[j] <= stats.range_high[j]))
      throw Error(str(path.string(), ": input ", stats.inputs.names.at(j), " has the training range [",
                      stats.range_low[j], ", ", stats.range_high[j], "]; the model is damaged"));
}

// PyTorch stores vectors (biases, BatchNorm) as 1-D tensors; so do we, so that a
// state_dict loads either way.
std::vector<std::int64_t> torch_shape(const std::vector<std::int64_t>& shape) {
  return shape[0] == 1 ? std::vector<std::int64_t>{shape[1]} : shape;
}

}  // namespace

Model::Model(NetworkFile file, DataStats stats)
    : file_(std::move(file)), stats_(std::move(stats)), net_(std::make_unique<Net<float>>(file_.net_spec())) {
  state_.best_validation_loss = NAN;
}

std::vector<std::string> Model::output_names() const {
  std::vector<std::string> names;
  for (const TargetSpec& t : file_.data.targets) names.push_back(t.column + "_pred");
  if (file_.classifier == Classifier::binary) names.push_back(file_.data.label + "_logit");
  return names;
}

std::vector<double> Model::flags(const Catalog& catalog) const {
  return prediction_flags(catalog, file_.data.inputs, stats_);
}

std::vector<std::vector<double>> Model::predict(const Catalog& catalog, Index batch_size) {
  const NetInputs in = normalised_inputs(catalog, file_.data.inputs, stats_);
  const Index n_out = net_->out_features(), n_targets = Index(file_.data.targets.size());
  std::vector<std::vector<double>> out(n_out, std::vector<double>(catalog.rows(), NAN));
  Tensor<float> y(in.x.rows(), n_out);
  forward_in_batches(*net_, in.x.view(), y.view(), batch_size);
  for (Index i = 0; i < y.rows(); ++i)
    for (Index k = 0; k < n_out; ++k) {
      const double v = y(i, k);
      out[k][in.rows[i]] = k < n_targets ? denormalise(v, stats_.targets, std::size_t(k)) : v;
    }
  return out;
}

void Model::save(const std::filesystem::path& path, OptimizerState optimizer) const {
  SafetensorsFile f;
  for_each_tensor(*net_, [&](const std::string& name, View<float> v) {
    std::vector<float> host(std::size_t(v.size()));
    transfer<float>(v, View<float>(host.data(), v.rows, v.cols));
    f.tensors.push_back(make_tensor(name, torch_shape(shape_of(v)), std::span<const float>(host)));
  });
  if (optimizer == OptimizerState::include) {
    if (adam_m_.size() != net_->parameters().size())
      throw Error(str("saving ", path.string(), ": no optimiser state to save"));
    f.tensors.push_back(
        make_tensor("optimizer.m", {adam_m_.size()}, std::span<const float>(adam_m_.data(), adam_m_.size())));
    f.tensors.push_back(
        make_tensor("optimizer.v", {adam_v_.size()}, std::span<const float>(adam_v_.data(), adam_v_.size())));
  }
  f.metadata["format"] = "starnn-model/1";
  f.metadata["network"] = to_json(file_);
  f.metadata["stats"] = Json{
      {"inputs", stats_json(stats_.inputs)},
      {"input_low", bounds_json(stats_.input_low)},
      {"input_high", bounds_json(stats_.input_high)},
      {"targets", stats_json(stats_.targets)},
      {"mean_train_sigma", stats_.mean_train_sigma},
      {"range_low", stats_.range_low},
      {"range_high",
       stats_.range_high}}.dump();
  f.metadata["training"] = Json{
      {"epoch", state_.epoch},
      {"step", state_.step},
      {"best_validation_loss",
       std::isnan(state_.best_validation_loss) ? Json(nullptr) : Json(state_.best_validation_loss)},
      {"best_epoch",
       state_.best_epoch}}.dump();
  f.metadata["folder"] = file_.folder.string();
  write_safetensors(path, f);
}

Model Model::load(const std::filesystem::path& path) {
  const SafetensorsFile f = read_safetensors(path);
  if (f.metadata.count("format") == 0 || f.metadata.at("format") != "starnn-model/1")
    throw Error(str(path.string(), ": not a starnn model file (no format \"starnn-model/1\" in its metadata)"));
  NetworkFile file = parse_network_file(f.metadata_value("network"), path.string() + " (network metadata)");
  file.folder = f.metadata_value("folder");
  DataStats stats;
  try {
    const Json s = parse_json(f.metadata_value("stats"));
    stats = {stats_from_json(s.at("inputs")), bounds_from_json(s.at("input_low"), -HUGE_VAL),
             bounds_from_json(s.at("input_high"), HUGE_VAL), stats_from_json(s.at("targets")),
             s.at("mean_train_sigma").get<std::vector<double>>()};
    // Models written before the training range was kept have none: their stars go unflagged.
    if (s.contains("range_low")) {
      stats.range_low = s.at("range_low").get<std::vector<double>>();
      stats.range_high = s.at("range_high").get<std::vector<double>>();
    }
    const std::size_t n_in = file.data.inputs.size();
    if (stats.inputs.mean.size() != n_in || stats.input_low.size() != n_in || stats.input_high.size() != n_in ||
        stats.targets.mean.size() != file.data.targets.size() ||
        (!stats.range_low.empty() && (stats.range_low.size() != n_in || stats.range_high.size() != n_in)))
      throw Error("sizes differ from the network");
  } catch (const std::exception& e) {
    throw Error(str(path.string(), ": the normalisation statistics are unreadable (", e.what(), ")"));
  }
  check_stats(path, stats);
  Model model(std::move(file), std::move(stats));
  for_each_tensor(*model.net_, [&](const std::string& name, View<float> v) {
    std::vector<float> values;
    try {
      values = f.tensor(name).values<float>(torch_shape(shape_of(v)));
    } catch (const Error& e) {
      throw Error(
          str(path.string(), ": ", e.message(), "; the file does not hold the net its network metadata describes"));
    }
    // A non-finite parameter makes every prediction NaN: the file is damaged.
    for (std::size_t k = 0; k < values.size(); ++k)
      if (!std::isfinite(values[k]) || (name.ends_with("running_var") && values[k] < 0.0f))
        throw Error(
            str(path.string(), ": tensor '", name, "' holds ", values[k], " at element ", k, "; the model is damaged"));
    transfer<float>(ConstView<float>(values.data(), v.rows, v.cols), v);
  });
  if (const NamedTensor* m = f.find("optimizer.m")) {
    const std::vector<std::int64_t> shape{model.net_->parameters().size()};
    const std::vector<float> mv = m->values<float>(shape), vv = f.tensor("optimizer.v").values<float>(shape);
    model.adam_m_.resize(1, shape[0]);
    model.adam_v_.resize(1, shape[0]);
    std::copy(mv.begin(), mv.end(), model.adam_m_.data());
    std::copy(vv.begin(), vv.end(), model.adam_v_.data());
  }
  try {
    const Json t = parse_json(f.metadata_value("training"));
    model.state_.epoch = t.at("epoch").get<Index>();
    model.state_.step = t.at("step").get<std::int64_t>();
    model.state_.best_validation_loss =
        t.at("best_validation_loss").is_null() ? NAN : t.at("best_validation_loss").get<double>();
    model.state_.best_epoch = t.at("best_epoch").get<Index>();
  } catch (const std::exception& e) {
    throw Error(str(path.string(), ": the training state is unreadable (", e.what(), ")"));
  }
  model.net_->set_dropout_draws(std::uint64_t(model.state_.step));
  return model;
}

}  // namespace nn
