#include "nn/model.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

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

using Shape = std::vector<std::int64_t>;

// Calls f(name, view, shape) for every parameter and buffer of the net, named under `prefix`,
// with the shape PyTorch gives the same tensor (a Linear(64, 1) weight is [1, 64], a bias or a
// BatchNorm statistic [n]), so that a state_dict loads strictly. The views live on the net's
// device, so readers and writers go through transfer().
template <class F>
void for_each_tensor(Net<float>& net, const std::string& prefix, F&& f) {
  struct Visitor : ModuleVisitor<float> {
    F& f;
    explicit Visitor(F& f_) : f(f_) {}
    void parameter(const std::string& name, Param<float>& p) override {
      f(name, p.value, p.vector ? Shape{p.value.cols} : Shape{p.value.rows, p.value.cols});
    }
    void buffer(const std::string& name, Tensor<float>& b) override { f(name, b.view(), Shape{b.view().cols}); }
  } visitor(f);
  net.visit(visitor, prefix);
}

// A one-member model names its tensors as the single net does (and PyTorch's state_dict of it).
std::string member_prefix(Index members, Index member) {
  return members == 1 ? std::string() : str("members.", member);
}

// Running mean and spread of a value over the passes of predict (Welford): numerically sound
// however many members and MC passes.
struct Spread {
  double n = 0, mean = 0, squares = 0;
  void add(double x) {
    n += 1;
    const double delta = x - mean;
    mean += delta / n;
    squares += delta * (x - mean);
  }
  double variance() const { return n > 0 ? squares / n : 0.0; }  // of the means, population
};

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

// Files written before every weight kept PyTorch's shape squeezed a one-row matrix to 1-D;
// they still load.
Shape squeezed(const Shape& shape) { return shape.size() == 2 && shape[0] == 1 ? Shape{shape[1]} : shape; }

}  // namespace

Model::Model(NetworkFile file, DataStats stats) : file_(std::move(file)), stats_(std::move(stats)) {
  for (Index m = 0; m < file_.members; ++m) members_.push_back(std::make_unique<Net<float>>(file_.net_spec(m)));
  state_.best.resize(members_.size());
}

void Model::to(Device device) {
  for (auto& net : members_) net->to(device);
}

void Model::copy_member(Index member, Model& from) {
  std::vector<View<float>> sources;
  for_each_tensor(from.net(member), "", [&](const std::string&, View<float> v, const Shape&) { sources.push_back(v); });
  std::size_t k = 0;
  for_each_tensor(net(member), "",
                  [&](const std::string&, View<float> v, const Shape&) { transfer<float>(sources.at(k++), v); });
}

const std::vector<double>& Predictions::column(const std::string& name) const {
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return columns[k];
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  throw Error(str("the predictions have no column '", name, "'; they have ", known));
}

bool Model::predicts_uncertainty(const PredictOptions& options) const {
  return file_.loss.uncertainty() || members() > 1 || options.mc_samples >= 2;
}

std::vector<std::string> Model::output_names(const PredictOptions& options) const {
  std::vector<std::string> names;
  for (const TargetSpec& t : file_.data.targets) {
    names.push_back(t.column + "_pred");
    if (predicts_uncertainty(options)) names.push_back(t.column + "_err");
  }
  if (file_.classifier == Classifier::binary) names.push_back(file_.data.label + "_logit");
  if (file_.data.missing_inputs) names.push_back(kInputsUsedColumn);
  names.push_back(kFlagsColumn);
  return names;
}

std::vector<double> Model::flags(const Catalog& catalog) const { return prediction_flags(catalog, file_.data, stats_); }

Predictions Model::predict(const Catalog& catalog, const PredictOptions& options) {
  const bool sampling = options.mc_samples >= 2;
  const bool has_dropout = file_.backbone.dropout > 0.0 || (file_.decoder && file_.decoder->backbone.dropout > 0.0);
  if (sampling && !has_dropout)
    throw Error(str("MC dropout (", options.mc_samples, " samples) needs a net with dropout; ", file_.source,
                    " has none (its $.model.backbone.dropout is 0)"));
  std::optional<Bf16Products> bf16;
  if (options.precision == Precision::bf16) {
    if (net().device() != Device::cpu)
      throw Error(str("bf16 predictions run on the CPU, and this model is on ", to_string(net().device()),
                      " (predict with --device cpu)"));
    bf16.emplace();
  }
  const NetInputs in = normalised_inputs(catalog, file_.data, stats_);
  const Index rows = in.x.rows(), n_targets = Index(file_.data.targets.size()), n_out = net().out_features();
  const bool variance_heads = file_.loss.uncertainty(), classifier = file_.classifier == Classifier::binary;
  // Over every pass (member and MC sample), in z-score units: the means' spread and the mean of
  // the heads' variances per (row, target), and the mean logit.
  std::vector<Spread> means(std::size_t(rows * n_targets)), logits(classifier ? std::size_t(rows) : 0);
  std::vector<double> variances(means.size(), 0.0);
  Tensor<float> y(rows, n_out);
  const Index passes = sampling ? options.mc_samples : 1;
  const Index batches = (rows + options.batch_size - 1) / std::max<Index>(options.batch_size, 1);
  for (Index m = 0; m < members(); ++m)
    for (Index pass = 0; pass < passes; ++pass) {
      // Pass k of every member draws masks k * batches + 1 onwards: none repeats another pass's.
      if (sampling) net(m).set_dropout_draws(std::uint64_t(pass * batches));
      forward_in_batches(net(m), in.x.view(), y.view(), options.batch_size, sampling ? Mode::sample : Mode::eval);
      for (Index i = 0; i < rows; ++i) {
        for (Index t = 0; t < n_targets; ++t) {
          means[std::size_t(i * n_targets + t)].add(y(i, t));
          if (variance_heads) variances[std::size_t(i * n_targets + t)] += std::exp(double(y(i, n_targets + t)));
        }
        if (classifier) logits[std::size_t(i)].add(y(i, n_out - 1));
      }
    }
  const double all_passes = double(members() * passes);
  Predictions out;
  out.names = output_names(options);
  out.columns.assign(out.names.size(), std::vector<double>(std::size_t(catalog.rows()), NAN));
  const bool with_err = predicts_uncertainty(options);
  for (Index i = 0; i < rows; ++i) {
    const std::size_t row = std::size_t(in.rows[std::size_t(i)]);
    std::size_t column = 0;
    for (Index t = 0; t < n_targets; ++t) {
      const std::size_t k = std::size_t(i * n_targets + t);
      out.columns[column++][row] = denormalise(means[k].mean, stats_.targets, std::size_t(t));
      if (with_err)
        out.columns[column++][row] = std::sqrt(variances[k] / all_passes + means[k].variance()) *
                                     stats_.targets.std[std::size_t(t)] *
                                     (sigma_scale_.empty() ? 1.0 : sigma_scale_[std::size_t(t)]);
    }
    if (classifier) out.columns[column++][row] = logits[std::size_t(i)].mean;
    if (file_.data.missing_inputs) out.columns[column][row] = double(in.present[std::size_t(i)]);
  }
  out.columns.back() = flags(catalog);
  return out;
}

void Model::set_sigma_scale(std::vector<double> scale) {
  if (!scale.empty() && scale.size() != file_.data.targets.size())
    throw Error(str("sigma scale: ", scale.size(), " factors for ", file_.data.targets.size(), " targets"));
  for (double k : scale)
    if (!(std::isfinite(k) && k > 0.0)) throw Error(str("sigma scale: ", k, " is not a positive number"));
  sigma_scale_ = std::move(scale);
}

Index Model::parameter_count() const {
  Index count = 0;
  for (const auto& net : members_) count += net->parameters().size();
  return count;
}

void Model::save(const std::filesystem::path& path, OptimizerState optimizer) const {
  SafetensorsFile f;
  for (Index m = 0; m < members(); ++m)
    for_each_tensor(*members_[std::size_t(m)], member_prefix(members(), m),
                    [&](const std::string& name, View<float> v, const Shape& shape) {
                      std::vector<float> host(std::size_t(v.size()));
                      transfer<float>(v, View<float>(host.data(), v.rows, v.cols));
                      f.tensors.push_back(make_tensor(name, shape, std::span<const float>(host)));
                    });
  if (optimizer == OptimizerState::include) {
    if (adam_m_.size() != parameter_count()) throw Error(str("saving ", path.string(), ": no optimiser state to save"));
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
  Json best = Json::array();
  for (const MemberBest& b : state_.best)
    best.push_back({{"validation_loss", std::isnan(b.validation_loss) ? Json(nullptr) : Json(b.validation_loss)},
                    {"epoch", b.epoch}});
  f.metadata["training"] = Json{{"epoch", state_.epoch}, {"step", state_.step}, {"best", best}}.dump();
  if (!sigma_scale_.empty()) f.metadata["calibration"] = Json{{"sigma_scale", sigma_scale_}}.dump();
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
  for (Index m = 0; m < model.members(); ++m)
    for_each_tensor(model.net(m), member_prefix(model.members(), m),
                    [&](const std::string& name, View<float> v, const Shape& shape) {
                      std::vector<float> values;
                      try {
                        const NamedTensor& stored = f.tensor(name);
                        values = stored.values<float>(stored.shape == squeezed(shape) ? stored.shape : shape);
                      } catch (const Error& e) {
                        throw Error(str(path.string(), ": ", e.message(),
                                        "; the file does not hold the net its network metadata describes"));
                      }
                      // A non-finite parameter makes every prediction NaN: the file is damaged.
                      for (std::size_t k = 0; k < values.size(); ++k)
                        if (!std::isfinite(values[k]) || (name.ends_with("running_var") && values[k] < 0.0f))
                          throw Error(str(path.string(), ": tensor '", name, "' holds ", values[k], " at element ", k,
                                          "; the model is damaged"));
                      transfer<float>(ConstView<float>(values.data(), v.rows, v.cols), v);
                    });
  if (const NamedTensor* m = f.find("optimizer.m")) {
    const std::vector<std::int64_t> shape{model.parameter_count()};
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
    const Json& best = t.at("best");
    if (!best.is_array() || best.size() != model.members_.size())
      throw Error(str("\"best\" must hold one entry per member (", model.members(), ")"));
    for (std::size_t m = 0; m < best.size(); ++m)
      model.state_.best[m] = {
          best[m].at("validation_loss").is_null() ? NAN : best[m].at("validation_loss").get<double>(),
          best[m].at("epoch").get<Index>()};
  } catch (const std::exception& e) {
    throw Error(str(path.string(), ": the training state is unreadable (", e.what(), ")"));
  }
  if (f.metadata.count("calibration")) {
    try {
      model.set_sigma_scale(parse_json(f.metadata.at("calibration")).at("sigma_scale").get<std::vector<double>>());
    } catch (const std::exception& e) {
      throw Error(str(path.string(), ": the sigma calibration is unreadable (", e.what(), ")"));
    }
  }
  for (auto& net : model.members_) net->set_dropout_draws(std::uint64_t(model.state_.step));
  return model;
}

}  // namespace nn
