#include "nn/network_file.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "json_reader.h"

namespace nn {
namespace {

using Json = nlohmann::json;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

const std::vector<std::string> kBlocks = {"resdense", "aresdense"};
const std::vector<std::string> kSkips = {"none", "additive"};
const std::vector<std::string> kHeads = {"linear", "causal"};
const std::vector<std::string> kAugment = {"none", "input_errors"};
const std::vector<std::string> kLossTypes = {"weighted_l1", "gaussian_nll", "laplace_nll"};  // as LossType
const std::vector<std::string> kDevices = {"auto", "cpu", "cuda"};
const std::vector<std::string> kEnsembleSchedules = {"one_after_another", "side_by_side"};  // as EnsembleSchedule
const std::vector<std::string> kSigmaCalibrations = {"none", "validation"};                 // as SigmaCalibration

DataSpec read_data(JsonReader r) {
  r.type({"catalog"});
  DataSpec d;
  d.catalog = r.string("catalog");
  d.hdu = r.string_or("hdu", "");
  d.inputs = r.strings_or("inputs", {});
  if (d.inputs.empty()) r.fail("inputs", "a non-empty array of columns or colours");
  d.input_errors = r.strings_or("input_errors", {});
  if (!d.input_errors.empty() && d.input_errors.size() != d.inputs.size())
    r.fail("input_errors", str("one error column per input (", d.inputs.size(), ")"));
  for (JsonReader t : r.objects("targets")) {
    t.type({"target"});
    TargetSpec target;
    target.column = t.string("column");
    target.error = t.string_or("error", "");
    target.weight = t.number_or("weight", 1.0, 0.0, kInf);
    t.finish();
    d.targets.push_back(target);
  }
  d.label = r.string_or("label", "");
  // A column twice among the inputs or twice among the targets (on both sides: see
  // check_labels_are_not_inputs).
  for (std::size_t j = 0; j < d.inputs.size(); ++j)
    for (std::size_t i = 0; i < j; ++i)
      if (d.inputs[i] == d.inputs[j]) r.fail_element("inputs", j, str("an input not given before (inputs[", i, "])"));
  for (std::size_t t = 0; t < d.targets.size(); ++t) {
    const std::string& column = d.targets[t].column;
    for (std::size_t i = 0; i < t; ++i)
      if (d.targets[i].column == column)
        r.fail_element("targets", t, str("a target not given before (targets[", i, "])"), ".column");
  }
  if (r.has("split")) {
    JsonReader s = r.object("split");
    s.type({"random"});
    d.split.validation = s.number_or("validation", d.split.validation, 0.0, 0.9);
    d.split.test = s.number_or("test", d.split.test, 0.0, 0.9);
    if (d.split.validation + d.split.test >= 1.0) s.fail("test", "validation + test < 1 (rows must remain to train)");
    d.split.seed = std::uint64_t(s.integer_or("seed", 0, 0, kMaxInt));
    s.finish();
  }
  d.outlier_sigma = r.number_or("outlier_sigma", d.outlier_sigma, 0.0, kInf);
  d.augment = Augment(r.choice_or("augment", kAugment, 0));
  if (d.augment == Augment::from_input_errors && d.input_errors.empty())
    r.fail("augment", "\"none\" unless input_errors are given");
  if (r.has("missing_inputs")) {
    JsonReader m = r.object("missing_inputs");
    m.type({"presence_indicators"});
    constexpr std::size_t kMaxInputs = 64;  // band dropout keeps a row's choices on the stack
    if (d.inputs.size() > kMaxInputs) r.fail("inputs", str("at most ", kMaxInputs, " inputs with missing_inputs"));
    MissingInputs rule;
    rule.min_present = m.integer_or("min_present", Index(d.inputs.size()), 1, Index(d.inputs.size()));
    rule.p_drop = m.number_or("p_drop", 0.0, 0.0, 0.95);
    m.finish();
    d.missing_inputs = rule;
  }
  r.finish();
  return d;
}

// A target or class label that is also an input: the net would learn it from itself. After
// read_model, whose decoder check says more of the one target that may not be an input, the band.
void check_labels_are_not_inputs(JsonReader r, const DataSpec& d) {
  for (std::size_t t = 0; t < d.targets.size(); ++t)
    for (std::size_t j = 0; j < d.inputs.size(); ++j)
      if (d.inputs[j] == d.targets[t].column)
        r.fail_element("targets", t, str("a column that is not an input (it is inputs[", j, "])"), ".column");
  for (std::size_t j = 0; j < d.inputs.size(); ++j)
    if (!d.label.empty() && d.inputs[j] == d.label)
      r.fail("label", str("a column that is not an input (it is inputs[", j, "])"));
}

// The keys of a backbone (the model's, the decoder's) of either type; the caller finishes the
// reader, so a key of the other type is an unknown key.
BackboneSpec read_backbone(JsonReader& b) {
  BackboneSpec s;
  s.type = b.type({"sandwich", "mlp"}) == "mlp" ? BackboneType::mlp : BackboneType::sandwich;
  if (s.type == BackboneType::mlp) {
    s.hidden_widths = b.integers("widths", 1, 1 << 16);
  } else {
    s.block = BlockType(b.choice_or("block", kBlocks, 0));
    s.n_init = b.integer_or("n_init", s.n_init, 8, 1 << 16);
    s.n_max = b.integer_or("n_max", s.n_max, s.n_init, 1 << 16);
    s.depth = b.integer_or("depth", s.depth, 1, 64);
    s.skips = Skips(b.choice_or("skips", kSkips, 1));
    features_scale(s.n_init, s.n_max, s.depth);
  }
  s.dropout = b.number_or("dropout", 0.0, 0.0, 0.99);
  return s;
}

// The band is the last target, so that the net's outputs keep the order of data.targets; the
// encoder must not see it.
DecoderSpec read_decoder(JsonReader d, const DataSpec& data) {
  DecoderSpec spec{read_backbone(d), d.string("band")};
  if (data.targets.size() < 2 || data.targets.back().column != spec.band)
    d.fail("band", data.targets.size() < 2
                       ? std::string("the last of two or more $.data.targets (the labels, then the band)")
                       : str("the last of $.data.targets (\"", data.targets.back().column, "\")"));
  for (const std::string& input : data.inputs)
    if (input == spec.band) d.fail("band", "a band that is not one of $.data.inputs (the encoder must do without it)");
  d.finish();
  return spec;
}

void read_model(JsonReader r, NetworkFile& f) {
  r.type({"regressor"});
  f.members = Index(r.integer_or("members", 1, 1, 64));
  JsonReader b = r.object("backbone");
  f.backbone = read_backbone(b);
  b.finish();
  JsonReader h = r.object("heads");
  f.head = HeadType(h.choice_or("type", kHeads, 0));
  f.classifier = h.choice_or("classifier", {"none", "binary"}, 0) == 1 ? Classifier::binary : Classifier::none;
  h.finish();
  if (r.has("decoder")) {
    if (f.data.missing_inputs)
      r.fail("decoder", "no decoder with $.data.missing_inputs (that net predicts without the band itself)");
    f.decoder = read_decoder(r.object("decoder"), f.data);
  }
  r.finish();
}

void read_loss(JsonReader r, NetworkFile& f) {
  const std::string type = r.type(kLossTypes);
  f.loss.type = LossType(std::find(kLossTypes.begin(), kLossTypes.end(), type) - kLossTypes.begin());
  if (f.loss.type == LossType::weighted_l1) f.loss.s_min = r.number_or("s_min", f.loss.s_min, 0.0, kInf);
  if (f.loss.uncertainty() && f.decoder)
    r.fail("type", "\"weighted_l1\": the band decoder ($.model.decoder) has no uncertainty head");
  // With a classifier, an unset alpha shares the loss equally: the default of 1 would leave the
  // classifier untrained.
  f.loss.alpha = r.number_or("alpha", f.classifier == Classifier::binary ? 0.5 : 1.0, 0.0, 1.0);
  r.finish();
}

void read_optimizer(JsonReader r, NetworkFile& f) {
  f.optimizer.type = r.type({"adam", "adamw"}) == "adam" ? OptimizerType::adam : OptimizerType::adamw;
  AdamOptions& a = f.optimizer.adam;
  a.beta2 = r.number_or("beta2", a.beta2, 0.0, 0.999999);
  a.eps = r.number_or("eps", a.eps, 1e-30, 1.0);
  a.weight_decay = r.number_or("weight_decay", f.optimizer.type == OptimizerType::adamw ? 0.01 : 0.0, 0.0, 1.0);
  if (f.optimizer.type == OptimizerType::adam && a.weight_decay != 0.0)
    r.fail("weight_decay", "0 for \"adam\" (use \"adamw\" for decoupled weight decay)");
  r.finish();
}

void read_schedule(JsonReader r, NetworkFile& f) {
  ScheduleSpec& s = f.schedule;
  const std::string type = r.type({"one_cycle", "constant", "step"});
  if (type == "one_cycle") {
    s.type = ScheduleType::one_cycle;
    OneCycleOptions& o = s.one_cycle;
    o.max_lr = r.number_or("max_lr", o.max_lr, 1e-12, 10.0);
    o.pct_start = r.number_or("pct_start", o.pct_start, 0.01, 0.99);
    o.div = r.number_or("div", o.div, 1.0, 1e6);
    o.div_final = r.number_or("div_final", o.div_final, 1.0, 1e12);
    o.beta1_max = r.number_or("beta1_max", o.beta1_max, 0.0, 0.9999);
    o.beta1_min = r.number_or("beta1_min", o.beta1_min, 0.0, o.beta1_max);
  } else {
    s.type = type == "constant" ? ScheduleType::constant : ScheduleType::step;
    s.lr = r.number_or("lr", s.lr, 1e-12, 10.0);
    s.beta1 = r.number_or("beta1", s.beta1, 0.0, 0.9999);
    if (s.type == ScheduleType::step) {
      s.step_size = r.integer_or("step_size", s.step_size, 1, kMaxInt);
      s.gamma = r.number_or("gamma", s.gamma, 0.0, 1.0);
    }
  }
  r.finish();
}

void read_training(JsonReader r, NetworkFile& f) {
  r.type({"minibatch"});
  TrainingSpec& t = f.training;
  t.epochs = r.integer_or("epochs", t.epochs, 1, 1000000);
  t.batch_size = r.integer_or("batch_size", t.batch_size, 2, 1 << 24);
  t.seed = std::uint64_t(r.integer_or("seed", 0, 0, kMaxInt));
  t.device = DeviceChoice(r.choice_or("device", kDevices, 0));
  t.ensemble = EnsembleSchedule(r.choice_or("ensemble", kEnsembleSchedules, 1));
  t.sigma_calibration = SigmaCalibration(r.choice_or("sigma_calibration", kSigmaCalibrations, 0));
  if (t.sigma_calibration != SigmaCalibration::none && !f.loss.uncertainty() && f.members < 2)
    r.fail("sigma_calibration", "\"none\" for a net without an uncertainty (no likelihood loss, one member)");
  if (t.sigma_calibration != SigmaCalibration::none && f.data.split.validation <= 0.0)
    r.fail("sigma_calibration", "\"none\" without a validation split to calibrate on");
  r.finish();
}

Json backbone_json(const BackboneSpec& b) {
  if (b.type == BackboneType::mlp) return {{"type", "mlp"}, {"widths", b.hidden_widths}, {"dropout", b.dropout}};
  return {{"type", "sandwich"}, {"block", kBlocks[std::size_t(b.block)]}, {"n_init", b.n_init},  {"n_max", b.n_max},
          {"depth", b.depth},   {"skips", kSkips[std::size_t(b.skips)]},  {"dropout", b.dropout}};
}

}  // namespace

const char* to_string(DeviceChoice device) { return kDevices[std::size_t(device)].c_str(); }

DeviceChoice parse_device_choice(const std::string& text, const std::string& what) {
  for (std::size_t k = 0; k < kDevices.size(); ++k)
    if (text == kDevices[k]) return DeviceChoice(k);
  throw Error(str(what, " ", text, ": expected auto, cpu or cuda"));
}
const char* to_string(LossType type) { return kLossTypes[std::size_t(type)].c_str(); }

std::uint64_t member_seed(std::uint64_t seed, Index member) {
  return member == 0 ? seed : Rng::derive(seed, 0x6d656d626572ull + std::uint64_t(member)).next_u64();
}

NetSpec NetworkFile::net_spec(Index member) const {
  NetSpec spec;
  spec.n_inputs = data.net_inputs();
  spec.backbone = backbone;
  spec.heads = {head, Index(data.targets.size()) - (decoder ? 1 : 0), classifier, loss.uncertainty()};
  spec.seed = member_seed(training.seed, member);
  if (decoder) spec.decoder = decoder->backbone;
  return spec;
}

std::filesystem::path NetworkFile::catalog_path() const {
  const std::filesystem::path p(data.catalog);
  return p.is_absolute() ? p : folder / p;
}

NetworkFile parse_network_file(const std::string& json_text, const std::string& source) {
  Json j;
  try {
    j = parse_json(json_text);
  } catch (const JsonSyntaxError& e) {
    throw Error(str(source, ": not valid JSON (", e.what(), ")"));
  }
  JsonReader root(j, "$", source);
  const std::string format = root.string("format");
  if (format != "starnn-net/1") root.fail("format", "\"starnn-net/1\"");
  NetworkFile f;
  f.source = source;
  f.data = read_data(root.object("data"));
  read_model(root.object("model"), f);
  check_labels_are_not_inputs(root.object("data"), f.data);
  read_loss(root.object("loss"), f);
  read_optimizer(root.object("optimizer"), f);
  read_schedule(root.object("schedule"), f);
  read_training(root.object("training"), f);
  root.finish();
  if (f.classifier == Classifier::binary && f.data.label.empty())
    throw Error(str(source,
                    ": $.data.label: expected the 0/1 label column, since $.model.heads.classifier is "
                    "\"binary\""));
  if (f.classifier == Classifier::none && !f.data.label.empty())
    throw Error(str(source, ": $.data.label: given, but $.model.heads.classifier is \"none\""));
  return f;
}

NetworkFile read_network_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(str(path.string(), ": cannot open the network file"));
  std::stringstream text;
  text << in.rdbuf();
  NetworkFile f = parse_network_file(text.str(), path.string());
  f.folder = path.parent_path();
  return f;
}

std::string to_json(const NetworkFile& f) {
  Json targets = Json::array();
  for (const TargetSpec& t : f.data.targets) {
    Json target = {{"type", "target"}, {"column", t.column}, {"weight", t.weight}};
    if (!t.error.empty()) target["error"] = t.error;
    targets.push_back(target);
  }
  Json data = {{"type", "catalog"},
               {"catalog", f.data.catalog},
               {"inputs", f.data.inputs},
               {"targets", targets},
               {"split",
                {{"type", "random"},
                 {"validation", f.data.split.validation},
                 {"test", f.data.split.test},
                 {"seed", f.data.split.seed}}},
               {"outlier_sigma", f.data.outlier_sigma},
               {"augment", kAugment[std::size_t(f.data.augment)]}};
  if (!f.data.hdu.empty()) data["hdu"] = f.data.hdu;
  if (!f.data.input_errors.empty()) data["input_errors"] = f.data.input_errors;
  if (!f.data.label.empty()) data["label"] = f.data.label;
  if (const auto& m = f.data.missing_inputs)
    data["missing_inputs"] = {{"type", "presence_indicators"}, {"min_present", m->min_present}, {"p_drop", m->p_drop}};

  Json model = {{"type", "regressor"},
                {"members", f.members},
                {"backbone", backbone_json(f.backbone)},
                {"heads",
                 {{"type", kHeads[std::size_t(f.head)]},
                  {"classifier", f.classifier == Classifier::binary ? "binary" : "none"}}}};
  if (f.decoder) {
    model["decoder"] = backbone_json(f.decoder->backbone);
    model["decoder"]["band"] = f.decoder->band;
  }

  const AdamOptions& a = f.optimizer.adam;
  Json optimizer = {{"type", f.optimizer.type == OptimizerType::adam ? "adam" : "adamw"},
                    {"beta2", a.beta2},
                    {"eps", a.eps},
                    {"weight_decay", a.weight_decay}};

  const ScheduleSpec& s = f.schedule;
  Json schedule;
  if (s.type == ScheduleType::one_cycle) {
    const OneCycleOptions& o = s.one_cycle;
    schedule = {{"type", "one_cycle"},      {"max_lr", o.max_lr},       {"pct_start", o.pct_start}, {"div", o.div},
                {"div_final", o.div_final}, {"beta1_max", o.beta1_max}, {"beta1_min", o.beta1_min}};
  } else if (s.type == ScheduleType::constant) {
    schedule = {{"type", "constant"}, {"lr", s.lr}, {"beta1", s.beta1}};
  } else {
    schedule = {{"type", "step"}, {"lr", s.lr}, {"beta1", s.beta1}, {"step_size", s.step_size}, {"gamma", s.gamma}};
  }

  Json loss = {{"type", to_string(f.loss.type)}, {"alpha", f.loss.alpha}};
  if (f.loss.type == LossType::weighted_l1) loss["s_min"] = f.loss.s_min;

  const TrainingSpec& t = f.training;
  Json root = {{"format", "starnn-net/1"},
               {"data", data},
               {"model", model},
               {"loss", loss},
               {"optimizer", optimizer},
               {"schedule", schedule},
               {"training",
                {{"type", "minibatch"},
                 {"epochs", t.epochs},
                 {"batch_size", t.batch_size},
                 {"seed", t.seed},
                 {"device", to_string(t.device)},
                 {"ensemble", kEnsembleSchedules[std::size_t(t.ensemble)]},
                 {"sigma_calibration", kSigmaCalibrations[std::size_t(t.sigma_calibration)]}}}};
  return root.dump(2);
}

}  // namespace nn
