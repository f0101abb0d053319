// Training data from a catalogue, and the model file: what goes in comes back out.
#include <algorithm>
#include <cmath>
#include <functional>
#include <span>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "nn/data.h"
#include "nn/evaluation.h"
#include "nn/io.h"
#include "nn/model.h"

namespace nn::test {
namespace {

// 200 stars: inputs a, b and colour a-b; target t = a - 2b with an error column, missing for
// every 10th row; row 7 misses input b; row 11 has the sentinel magnitude a = -9999.
Catalog synthetic_catalog() {
  Catalog c("synthetic", 200);
  std::vector<double> a(200), b(200), t(200), e(200);
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    a[i] = 15 + 3 * rng.uniform();
    b[i] = 14 + 2 * rng.uniform();
    t[i] = i % 10 == 0 ? NAN : a[i] - 2 * b[i];
    e[i] = 0.1 + 0.1 * rng.uniform();
  }
  b[7] = NAN;
  a[11] = -9999;
  c.add_column("a", a);
  c.add_column("b", b);
  c.add_column("t", t);
  c.add_column("t_err", e);
  return c;
}

// The network file over the synthetic catalogue, with the given data and model sections'
// varying parts.
NetworkFile synthetic_file(const std::string& data = R"("inputs": ["a", "a-b"],
             "targets": [{"type": "target", "column": "t", "error": "t_err"}])",
                           const std::string& model = R"("heads": {"type": "linear"})",
                           const std::string& backbone = R"({"type": "sandwich", "block": "aresdense", "n_init": 8,
              "n_max": 16, "depth": 2, "dropout": 0.1})") {
  return parse_network_file(R"({"format": "starnn-net/1",
    "data": {"type": "catalog", "catalog": "synthetic", )" +
                                data + R"(,
             "split": {"type": "random", "validation": 0.2, "test": 0.1, "seed": 5}},
    "model": {"type": "regressor", "backbone": )" +
                                backbone + ", " + model + R"(},
    "loss": {"type": "weighted_l1", "s_min": 0.5}, "optimizer": {"type": "adam"},
    "schedule": {"type": "constant", "lr": 0.001}, "training": {"type": "minibatch", "epochs": 1}})",
                            "synthetic.json");
}

// An auto-encoder over the synthetic catalogue: t from a alone, and the band b it does without.
NetworkFile synthetic_auto_encoder() {
  return synthetic_file(R"("inputs": ["a"],
             "targets": [{"type": "target", "column": "t"}, {"type": "target", "column": "b", "weight": 2}])",
                        R"("heads": {"type": "linear"},
              "decoder": {"type": "sandwich", "n_init": 8, "n_max": 16, "depth": 2, "band": "b"})");
}

TEST(TrainingData, DropsMasksSplitsAndNormalisesWithTheTrainingSplit) {
  const Catalog catalog = synthetic_catalog();
  const PreparedData d = prepare_training_data(catalog, synthetic_file());
  EXPECT_EQ(d.rows.missing_input, 1);
  EXPECT_EQ(d.rows.outliers, 1);
  EXPECT_EQ(d.train.rows() + d.validation.rows() + d.test.rows(), 198);
  // The split cuts the 199 rows with inputs: round(0.1 * 199) = 20 test, round(0.2 * 199) = 40
  // validation, the rest train; the one outlier then leaves whichever split it fell in.
  EXPECT_EQ(Index(d.rows.test.size() + d.rows.validation.size() + d.rows.train.size()), 198);
  EXPECT_GE(d.test.rows(), 19);
  EXPECT_LE(d.test.rows(), 20);
  EXPECT_GE(d.validation.rows(), 39);
  EXPECT_LE(d.validation.rows(), 40);
  // The bounds hold the real magnitudes (15..18) and not the sentinel.
  EXPECT_LT(d.stats.input_low[0], 15.0);
  EXPECT_GT(d.stats.input_high[0], 18.0);
  EXPECT_GT(d.stats.input_low[0], -9999.0);
  // The training split's inputs are z-scores: mean 0, population sd 1.
  for (Index j = 0; j < 2; ++j) {
    double sum = 0, sq = 0;
    for (Index i = 0; i < d.train.rows(); ++i) sum += d.train.x(i, j), sq += double(d.train.x(i, j)) * d.train.x(i, j);
    EXPECT_NEAR(sum / double(d.train.rows()), 0.0, 1e-5);
    EXPECT_NEAR(sq / double(d.train.rows()), 1.0, 1e-4);
  }
  // Missing labels are masked, and the loss scale follows the errors with its floor.
  const std::vector<double>& t = catalog.column("t");
  const std::vector<double>& e = catalog.column("t_err");
  for (std::size_t k = 0; k < d.rows.train.size(); ++k) {
    const Index row = d.rows.train[k];
    EXPECT_EQ(d.train.mask(Index(k), 0), std::isnan(t[row]) ? 0.0f : 1.0f);
    EXPECT_NEAR(d.train.scale(Index(k), 0), std::max(e[row] / d.stats.mean_train_sigma[0], 0.5), 1e-6);
    if (!std::isnan(t[row])) EXPECT_NEAR(denormalise(d.train.y(Index(k), 0), d.stats.targets, 0), t[row], 1e-4);
  }
  // Selecting rows again with the stored statistics gives the very same splits.
  const DataRows again = select_rows(catalog, synthetic_file().data, &d.stats);
  EXPECT_EQ(again.train, d.rows.train);
  EXPECT_EQ(again.test, d.rows.test);
}

TEST(TrainingData, RowsWithoutTheClassLabelTrainTheRegression) {
  // Every 7th star has no class label: it stays in the splits, its regression labels train as
  // any other's, and its label is NaN, which masks the classifier's loss there.
  Catalog catalog = synthetic_catalog();
  std::vector<double> c(200);
  for (int i = 0; i < 200; ++i) c[i] = i % 7 == 3 ? NAN : double(catalog.column("a")[i] > 16.5);
  catalog.add_column("c", c);
  const PreparedData d =
      prepare_training_data(catalog, synthetic_file(R"("inputs": ["a", "a-b"], "label": "c",
             "targets": [{"type": "target", "column": "t", "error": "t_err"}])",
                                                    R"("heads": {"type": "linear", "classifier": "binary"})"));
  EXPECT_EQ(d.rows.missing_label, 29);  // rows 3, 10, ..., 199
  EXPECT_EQ(d.train.rows() + d.validation.rows() + d.test.rows(), 198);
  Index unlabelled = 0;
  for (std::size_t k = 0; k < d.rows.train.size(); ++k) {
    const Index row = d.rows.train[k];
    EXPECT_EQ(std::isnan(d.train.label(Index(k), 0)), std::isnan(c[row])) << row;
    if (std::isnan(c[row])) {
      ++unlabelled;
      EXPECT_EQ(d.train.mask(Index(k), 0), std::isnan(catalog.column("t")[row]) ? 0.0f : 1.0f);
    } else {
      EXPECT_EQ(d.train.label(Index(k), 0), float(c[row]));
    }
  }
  EXPECT_GT(unlabelled, 10);
}

TEST(TrainingData, AutoEncoderKeepsRowsWithoutTheBand) {
  // Row 7 misses b, the band: not an input of the auto-encoder, so the row trains t and is
  // masked for b.
  const PreparedData d = prepare_training_data(synthetic_catalog(), synthetic_auto_encoder());
  EXPECT_EQ(d.rows.missing_input, 0);
  EXPECT_EQ(d.train.y.cols(), 2);
  bool found = false;
  for (const auto& [rows, data] :
       {std::pair{&d.rows.train, &d.train}, {&d.rows.validation, &d.validation}, {&d.rows.test, &d.test}})
    for (std::size_t k = 0; k < rows->size(); ++k)
      if ((*rows)[k] == 7) {
        found = true;
        EXPECT_EQ(data->mask(Index(k), 0), 1.0f);
        EXPECT_EQ(data->mask(Index(k), 1), 0.0f);
      }
  EXPECT_TRUE(found);
}

TEST(TrainingData, NamesTheCatalogueAndColumnOfBadValues) {
  Catalog c = synthetic_catalog();
  NetworkFile f = synthetic_file();
  f.data.inputs = {"a", "nope"};
  try {
    prepare_training_data(c, f);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("synthetic"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("nope"), std::string::npos) << e.message();
  }
}

TEST(ModelFile, RoundTripGivesIdenticalPredictionsAndState) {
  const Catalog catalog = synthetic_catalog();
  const NetworkFile file = synthetic_file();
  const PreparedData d = prepare_training_data(catalog, file);
  Model model(file, d.stats);
  model.state() = {3, 42, {{0.25, 2}}};
  model.adam_m().assign(1, model.net().parameters().size(), 0.5f);
  model.adam_v().assign(1, model.net().parameters().size(), 0.25f);
  const auto path = std::filesystem::temp_directory_path() / "starnn_model_roundtrip.safetensors";
  model.save(path, OptimizerState::include);

  Model loaded = Model::load(path);
  EXPECT_EQ(to_json(loaded.file()), to_json(model.file()));
  EXPECT_EQ(loaded.stats().inputs.mean, d.stats.inputs.mean);
  EXPECT_EQ(loaded.stats().targets.std, d.stats.targets.std);
  EXPECT_EQ(loaded.state().epoch, 3);
  EXPECT_EQ(loaded.state().step, 42);
  EXPECT_EQ(loaded.state().best[0].validation_loss, 0.25);
  EXPECT_EQ(loaded.state().best[0].epoch, 2);
  EXPECT_EQ(loaded.adam_v()(0, 7), 0.25f);
  const auto before = model.predict(catalog), after = loaded.predict(catalog);
  ASSERT_EQ(before.columns.size(), 2u);           // the prediction and starnn_flags
  EXPECT_TRUE(std::isnan(after.columns[0][7]));   // a missing input gives NaN, not a number
  EXPECT_TRUE(std::isnan(after.columns[0][11]));  // and so does an outlier
  for (Index r = 0; r < catalog.rows(); ++r)
    if (r != 7 && r != 11) EXPECT_EQ(before.columns[0][r], after.columns[0][r]) << r;

  // The file holds the parameters under PyTorch's names and shapes, and the metadata.
  const SafetensorsFile raw = read_safetensors(path);
  EXPECT_EQ(raw.tensor("stem.weight").shape, (std::vector<std::int64_t>{8, 2}));
  EXPECT_EQ(raw.tensor("enc.0.bn1.running_var").shape, (std::vector<std::int64_t>{8}));
  EXPECT_EQ(raw.tensor("dec.0.att.lin.bias").shape, (std::vector<std::int64_t>{8}));
  EXPECT_EQ(raw.metadata_value("format"), "starnn-model/1");
  std::filesystem::remove(path);
}

TEST(ModelFile, AutoEncoderFillsInTheBandAndRoundTrips) {
  const Catalog catalog = synthetic_catalog();
  const NetworkFile file = synthetic_auto_encoder();
  Model model(file, prepare_training_data(catalog, file).stats);
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"t_pred", "b_pred", "starnn_flags"}));
  const auto path = std::filesystem::temp_directory_path() / "starnn_auto_encoder.safetensors";
  model.save(path, OptimizerState::leave_out);
  Model loaded = Model::load(path);
  EXPECT_EQ(to_json(loaded.file()), to_json(file));
  const auto before = model.predict(catalog), after = loaded.predict(catalog);
  ASSERT_EQ(after.columns.size(), 3u);  // the label, the band and starnn_flags
  // Row 7 lacks the band and still gets both the label and the band; row 11 is an outlier.
  EXPECT_TRUE(std::isfinite(after.columns[0][7]) && std::isfinite(after.columns[1][7]));
  EXPECT_TRUE(std::isnan(after.columns[0][11]) && std::isnan(after.columns[1][11]));
  for (std::size_t k = 0; k < 2; ++k)
    for (Index r = 0; r < catalog.rows(); ++r)
      if (r != 11) EXPECT_EQ(before.columns[k][r], after.columns[k][r]) << k << " " << r;
  // The decoder's parameters sit under decoder., its sandwich reading a and the label t.
  const SafetensorsFile raw = read_safetensors(path);
  EXPECT_EQ(raw.tensor("stem.weight").shape, (std::vector<std::int64_t>{8, 1}));
  EXPECT_EQ(raw.tensor("decoder.stem.weight").shape, (std::vector<std::int64_t>{8, 2}));
  EXPECT_EQ(raw.tensor("decoder.dec.0.bn2.running_mean").shape, (std::vector<std::int64_t>{8}));
  EXPECT_EQ(raw.tensor("decoder.head.weight").shape, (std::vector<std::int64_t>{1, 8}));
  std::filesystem::remove(path);
}

TEST(ModelFile, MlpRoundTrips) {
  const Catalog catalog = synthetic_catalog();
  const NetworkFile file =
      synthetic_file(R"("inputs": ["a", "a-b"], "targets": [{"type": "target", "column": "t"}])",
                     R"("heads": {"type": "linear"})", R"({"type": "mlp", "widths": [16, 8], "dropout": 0.1})");
  ASSERT_EQ(file.backbone.type, BackboneType::mlp);
  Model model(file, prepare_training_data(catalog, file).stats);
  const auto path = std::filesystem::temp_directory_path() / "starnn_mlp_roundtrip.safetensors";
  model.save(path, OptimizerState::leave_out);
  Model loaded = Model::load(path);
  EXPECT_EQ(to_json(loaded.file()), to_json(file));
  const auto before = model.predict(catalog), after = loaded.predict(catalog);
  ASSERT_EQ(after.columns.size(), 2u);
  for (Index r = 0; r < catalog.rows(); ++r)
    if (r != 7 && r != 11) EXPECT_EQ(before.columns[0][r], after.columns[0][r]) << r;
  // nn.Sequential(Linear, ReLU, Dropout, Linear, ReLU, Dropout): the Linears are modules 0 and 3.
  const SafetensorsFile raw = read_safetensors(path);
  EXPECT_EQ(raw.tensor("mlp.0.weight").shape, (std::vector<std::int64_t>{16, 2}));
  EXPECT_EQ(raw.tensor("mlp.3.weight").shape, (std::vector<std::int64_t>{8, 16}));
  EXPECT_EQ(raw.tensor("mlp.3.bias").shape, (std::vector<std::int64_t>{8}));
  // Linear(8, 1): PyTorch's [out, in] even for one output, so load_state_dict(strict=True) takes it.
  EXPECT_EQ(raw.tensor("head.weight").shape, (std::vector<std::int64_t>{1, 8}));
  std::filesystem::remove(path);
}

TEST(ModelFile, FilesThatSqueezedOneRowWeightsStillLoad) {
  const Catalog catalog = synthetic_catalog();
  const NetworkFile file =
      synthetic_file(R"("inputs": ["a", "a-b"], "targets": [{"type": "target", "column": "t"}])",
                     R"("heads": {"type": "linear"})", R"({"type": "mlp", "widths": [16, 8]})");
  Model model(file, prepare_training_data(catalog, file).stats);
  const auto path = std::filesystem::temp_directory_path() / "starnn_squeezed_head.safetensors";
  model.save(path, OptimizerState::leave_out);
  // Rewrite the file as earlier versions wrote it: the [1, 8] head weight as [8].
  SafetensorsFile old = read_safetensors(path);
  for (NamedTensor& t : old.tensors)
    if (t.name == "head.weight") t.shape = {8};
  write_safetensors(path, old);
  const auto before = model.predict(catalog), after = Model::load(path).predict(catalog);
  for (Index r = 0; r < catalog.rows(); ++r)
    if (r != 7 && r != 11) EXPECT_EQ(before.columns[0][r], after.columns[0][r]) << r;
  std::filesystem::remove(path);
}

TEST(ModelFile, RejectsFilesThatAreNotModels) {
  const auto path = std::filesystem::temp_directory_path() / "starnn_not_a_model.safetensors";
  write_safetensors(path, SafetensorsFile{{{"format", "something-else"}}, {}, {}});
  try {
    Model::load(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("not a starnn model file"), std::string::npos) << e.message();
  }
  std::filesystem::remove(path);
}

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

// Values a file cannot hold (a spread that overflows) are refused before the run, naming the
// column; so are labels of +-inf, which count as missing as NaN does.
TEST(TrainingData, OverflowingColumnsAreRefusedAndInfiniteLabelsAreMissing) {
  Catalog c = synthetic_catalog();
  std::vector<double> t = c.column("t");
  t[3] = 1e200;
  Catalog huge("synthetic", 200);
  for (const char* name : {"a", "b", "t_err"}) huge.add_column(name, c.column(name));
  huge.add_column("t", t);
  EXPECT_NE(message_of([&] { prepare_training_data(huge, synthetic_file()); }).find("target t has values too large"),
            std::string::npos);
  t[3] = HUGE_VAL;
  t[4] = -HUGE_VAL;
  Catalog infinite("synthetic", 200);
  for (const char* name : {"a", "b", "t_err"}) infinite.add_column(name, c.column(name));
  infinite.add_column("t", t);
  const PreparedData with_inf = prepare_training_data(infinite, synthetic_file());
  const PreparedData plain = prepare_training_data(c, synthetic_file());
  EXPECT_TRUE(std::isfinite(with_inf.stats.targets.std[0]));
  // Rows 3 and 4 are unlabelled now: their masks are 0 wherever they fell.
  Model model(synthetic_file(), with_inf.stats);
  const EvaluationReport report = evaluate_model(model, infinite, SplitChoice::all);
  const EvaluationReport before = evaluate_model(model, c, SplitChoice::all);
  EXPECT_EQ(report.targets[0].metrics.n, before.targets[0].metrics.n - 2);
  EXPECT_TRUE(std::isfinite(report.targets[0].metrics.bias));
  EXPECT_TRUE(std::isfinite(report.targets[0].metrics.rmse));
  EXPECT_EQ(with_inf.rows.train.size(), plain.rows.train.size()) << "unlabelled rows still train other targets";
}

// A catalogue's "no error" sentinels (-9999, 0) are missing errors: such labels weigh as if
// they had none (s = 1), the mean error is that of the real ones, and they are counted.
TEST(TrainingData, NonPositiveErrorsCountAsMissing) {
  Catalog c = synthetic_catalog();
  std::vector<double> e = c.column("t_err");
  std::vector<double> positive;
  for (int i = 0; i < 200; ++i) {
    if (i % 7 == 3) e[i] = -9999;
    if (i % 13 == 5) e[i] = 0;
  }
  Catalog sentinels("synthetic", 200);
  for (const char* name : {"a", "b", "t"}) sentinels.add_column(name, c.column(name));
  sentinels.add_column("t_err", e);
  const PreparedData d = prepare_training_data(sentinels, synthetic_file());
  double sum = 0;
  Index n = 0, unusable = 0;
  for (Index r : d.rows.train)
    if (e[r] > 0) sum += e[r], ++n;
  for (const auto* rows : {&d.rows.train, &d.rows.validation, &d.rows.test})
    for (Index r : *rows) unusable += std::isfinite(c.column("t")[r]) && !(e[r] > 0);
  EXPECT_NEAR(d.stats.mean_train_sigma[0], sum / double(n), 1e-12);
  EXPECT_GT(unusable, 20);
  EXPECT_EQ(d.unusable_errors, unusable);
  for (Index i = 0; i < d.train.rows(); ++i)
    if (!(e[d.rows.train[i]] > 0)) EXPECT_EQ(d.train.scale(i, 0), 1.0f) << i;
}

// The training range is the 0.1 and 99.9 percentiles of each input over the training split
// (numpy's linear interpolation, by hand here); a star outside it is predicted and flagged.
TEST(ModelFile, TrainingRangeIsKeptAndFlagsStarsOutsideIt) {
  const Catalog catalog = synthetic_catalog();
  const NetworkFile file = synthetic_file();
  const PreparedData d = prepare_training_data(catalog, file);
  std::vector<double> a;
  for (Index r : d.rows.train) a.push_back(catalog.column("a")[r]);
  std::sort(a.begin(), a.end());
  const double at = 0.999 * double(a.size() - 1);
  const auto k = std::size_t(at);
  EXPECT_DOUBLE_EQ(d.stats.range_high[0], a[k] + (at - double(k)) * (a[k + 1] - a[k]));
  EXPECT_DOUBLE_EQ(d.stats.range_low[0], a[0] + 0.001 * double(a.size() - 1) * (a[1] - a[0]));

  Model model(file, d.stats);
  const auto path = std::filesystem::temp_directory_path() / "starnn_model_range.safetensors";
  model.save(path, OptimizerState::leave_out);
  Model loaded = Model::load(path);
  EXPECT_EQ(loaded.stats().range_low, d.stats.range_low);
  EXPECT_EQ(loaded.stats().range_high, d.stats.range_high);
  std::filesystem::remove(path);

  // Inside the range, just above it (within the outlier bounds), and missing an input.
  Catalog stars("stars", 3);
  const double middle = 0.5 * (d.stats.range_low[0] + d.stats.range_high[0]);
  stars.add_column("a", {middle, d.stats.range_high[0] + 0.01, middle});
  stars.add_column("b", {middle - 0.5, middle - 0.5, NAN});
  const std::vector<double> flags = loaded.flags(stars);
  EXPECT_EQ(flags, (std::vector<double>{0, double(kFlagOutsideTrainingRange), 0}));
  const auto predicted = loaded.predict(stars);
  EXPECT_TRUE(std::isfinite(predicted.columns[0][1])) << "a flagged star is still predicted";
}

// A model whose parameters or statistics would make every prediction NaN is refused on load,
// naming the file and what is wrong; so is one whose tensors do not fit its network.
TEST(ModelFile, DamagedModelsAreRefusedOnLoad) {
  const Catalog catalog = synthetic_catalog();
  const NetworkFile file = synthetic_file();
  Model model(file, prepare_training_data(catalog, file).stats);
  const auto path = std::filesystem::temp_directory_path() / "starnn_model_damaged.safetensors";
  model.save(path, OptimizerState::leave_out);
  const SafetensorsFile good = read_safetensors(path);

  SafetensorsFile nan_weight = good;
  for (NamedTensor& t : nan_weight.tensors)
    if (t.name == "stem.weight") {
      std::vector<float> v = t.values<float>();
      v[3] = NAN;
      t = make_tensor(t.name, t.shape, std::span<const float>(v));
    }
  write_safetensors(path, nan_weight);
  EXPECT_NE(message_of([&] { Model::load(path); }).find("tensor 'stem.weight' holds nan at element 3"),
            std::string::npos)
      << message_of([&] { Model::load(path); });

  SafetensorsFile crossed = good;
  nlohmann::json stats = nlohmann::json::parse(crossed.metadata["stats"]);
  stats["input_low"][0] = 1e9;  // above its high bound: no star could be predicted
  crossed.metadata["stats"] = stats.dump();
  write_safetensors(path, crossed);
  EXPECT_NE(message_of([&] { Model::load(path); }).find("input a has bounds [1e+09"), std::string::npos)
      << message_of([&] { Model::load(path); });

  SafetensorsFile wrong_shape = good;
  for (NamedTensor& t : wrong_shape.tensors)
    if (t.name == "stem.weight") t = make_tensor(t.name, {2, 8}, std::span<const float>(t.values<float>()));
  write_safetensors(path, wrong_shape);
  const std::string shape_message = message_of([&] { Model::load(path); });
  EXPECT_EQ(shape_message.find(path.string()), 0u) << shape_message;
  EXPECT_NE(shape_message.find("stem.weight"), std::string::npos) << shape_message;
  std::filesystem::remove(path);
}

// Each (member, pass)'s output p, in z-score units, combined as DESIGN.md says: mu = mean_p mu_p,
// sigma^2 = mean_p exp(s_p) + mean_p (mu_p - mu)^2 (no s without uncertainty heads), back in the
// target's unit. Recomputed here from the members' own forward passes.
void expect_combined(Model& model, const Catalog& catalog, const PredictOptions& options) {
  const Predictions predictions = model.predict(catalog, options);
  const NetInputs in = normalised_inputs(catalog, model.file().data, model.stats());
  const Index rows = in.x.rows(), passes = std::max<Index>(options.mc_samples, 1);
  const bool variance_heads = model.file().loss.uncertainty();
  std::vector<std::vector<double>> mu, var;  // [pass][row]
  for (Index m = 0; m < model.members(); ++m)
    for (Index pass = 0; pass < passes; ++pass) {
      Tensor<float> y(rows, model.net(m).out_features());
      if (options.mc_samples >= 2) model.net(m).set_dropout_draws(std::uint64_t(pass));  // one batch per pass
      forward_in_batches(model.net(m), in.x.view(), y.view(), options.batch_size,
                         options.mc_samples >= 2 ? Mode::sample : Mode::eval);
      mu.emplace_back();
      var.emplace_back();
      for (Index i = 0; i < rows; ++i) {
        mu.back().push_back(y(i, 0));
        var.back().push_back(variance_heads ? std::exp(double(y(i, 1))) : 0.0);
      }
    }
  const double std_t = model.stats().targets.std[0];
  const std::vector<double>& pred = predictions.column("t_pred");
  const std::vector<double>& err = predictions.column("t_err");
  for (Index i = 0; i < rows; ++i) {
    double mean = 0.0, mean_var = 0.0, spread = 0.0;
    for (std::size_t p = 0; p < mu.size(); ++p) mean += mu[p][i] / double(mu.size());
    for (std::size_t p = 0; p < mu.size(); ++p) {
      mean_var += var[p][i] / double(mu.size());
      spread += (mu[p][i] - mean) * (mu[p][i] - mean) / double(mu.size());
    }
    const std::size_t row = std::size_t(in.rows[std::size_t(i)]);
    EXPECT_NEAR(pred[row], denormalise(mean, model.stats().targets, 0), 1e-9 * std_t) << row;
    EXPECT_NEAR(err[row], std::sqrt(mean_var + spread) * std_t, 1e-9 * std_t) << row;
  }
  EXPECT_TRUE(std::isnan(pred[7]) && std::isnan(err[7]));  // a missing input: not predicted
}

TEST(ModelFile, EnsembleOfUncertaintyHeadsCombinesItsMembersAndRoundTrips) {
  const Catalog catalog = synthetic_catalog();
  NetworkFile file = synthetic_file();
  file.members = 3;
  file.loss.type = LossType::gaussian_nll;
  Model model(file, prepare_training_data(catalog, file).stats);
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"t_pred", "t_err", "starnn_flags"}));
  EXPECT_EQ(model.net(0).out_features(), 2);  // mean and log variance
  expect_combined(model, catalog, {});
  // Members differ in their initialisation.
  EXPECT_NE(model.net(0).parameters().values().data[0], model.net(1).parameters().values().data[0]);

  const auto path = std::filesystem::temp_directory_path() / "starnn_ensemble.safetensors";
  model.save(path, OptimizerState::leave_out);
  const SafetensorsFile raw = read_safetensors(path);
  EXPECT_EQ(raw.tensor("members.2.stem.weight").shape, (std::vector<std::int64_t>{8, 2}));
  EXPECT_EQ(raw.tensor("members.0.head.weight").shape, (std::vector<std::int64_t>{2, 8}));
  EXPECT_EQ(raw.find("stem.weight"), nullptr);
  Model loaded = Model::load(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.members(), 3);
  const Predictions before = model.predict(catalog), after = loaded.predict(catalog);
  for (std::size_t k = 0; k < 2; ++k)
    for (Index r = 0; r < catalog.rows(); ++r)
      if (r != 7 && r != 11) EXPECT_EQ(before.columns[k][std::size_t(r)], after.columns[k][std::size_t(r)]);
}

TEST(ModelFile, McDropoutPassesAreSeededAndCombinedAsMembers) {
  const Catalog catalog = synthetic_catalog();
  NetworkFile file = synthetic_file();  // dropout 0.1 after every block
  file.members = 2;
  Model model(file, prepare_training_data(catalog, file).stats);
  const PredictOptions mc{4096, 6};
  EXPECT_TRUE(model.predicts_uncertainty(mc));
  expect_combined(model, catalog, mc);
  const Predictions first = model.predict(catalog, mc), second = model.predict(catalog, mc);
  for (std::size_t k = 0; k < first.columns.size(); ++k)  // the same call gives the same numbers
    for (std::size_t r = 0; r < first.columns[k].size(); ++r)
      EXPECT_TRUE(first.columns[k][r] == second.columns[k][r] ||
                  (std::isnan(first.columns[k][r]) && std::isnan(second.columns[k][r])));

  file.backbone.dropout = 0.0;
  Model without_dropout(file, prepare_training_data(catalog, file).stats);
  EXPECT_TRUE(message_of([&] { without_dropout.predict(catalog, mc); }).find("needs a net with dropout") !=
              std::string::npos);
}

}  // namespace
}  // namespace nn::test
