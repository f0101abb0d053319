// Nets that take whatever inputs a star has (DESIGN.md, "Missing inputs"): the network file's
// missing_inputs, the net input [m z | m], band dropout, predictions for every row with enough
// inputs (n_inputs, flag bit 1), and the evaluation per missing-input pattern.
#include <cmath>
#include <nlohmann/json.hpp>

#include "catalog_testing.h"
#include "harness.h"
#include "nn/data.h"
#include "nn/evaluation.h"
#include "nn/io.h"
#include "nn/model.h"
#include "nn/train.h"

namespace nn::test {
namespace {

using catalog_testing::contains;
using catalog_testing::message_of;

// 400 stars with bands a, b, c, d and the inputs a, a-b, c, d; target t = a - 2b + c, with
// holes: row r misses b when r % 5 == 1 (so its colour a-b), c when r % 7 == 2, and a, c and d
// when r % 11 == 3 (one input left: it needs 2).
Catalog holey_catalog() {
  const int rows = 400;
  Catalog c("holey", rows);
  std::vector<double> a(rows), b(rows), cc(rows), d(rows), t(rows);
  Rng rng(8);
  for (int r = 0; r < rows; ++r) {
    a[r] = 15 + 3 * rng.uniform();
    b[r] = 14 + 2 * rng.uniform();
    cc[r] = rng.uniform();
    d[r] = rng.normal();
    t[r] = a[r] - 2 * b[r] + cc[r];
    if (r % 5 == 1) b[r] = NAN;  // (the readers turn 99 and -99 into NaN)
    if (r % 7 == 2) cc[r] = NAN;
    if (r % 11 == 3) a[r] = cc[r] = d[r] = NAN;
  }
  c.add_column("a", a);
  c.add_column("b", b);
  c.add_column("c", cc);
  c.add_column("d", d);
  c.add_column("t", t);
  return c;
}

std::string holey_json(const std::string& missing_inputs, const std::string& loss = R"({"type": "gaussian_nll"})",
                       const std::string& model_extra = "") {
  return R"({"format": "starnn-net/1",
    "data": {"type": "catalog", "catalog": "holey", "inputs": ["a", "a-b", "c", "d"],
             "targets": [{"type": "target", "column": "t"}],
             "split": {"type": "random", "validation": 0.2, "test": 0.2, "seed": 4})" +
         missing_inputs + R"(},
    "model": {"type": "regressor", "backbone": {"type": "sandwich", "n_init": 8, "n_max": 16, "depth": 2},
              "heads": {"type": "linear"})" +
         model_extra + R"(},
    "loss": )" +
         loss +
         R"(, "optimizer": {"type": "adam"},
    "schedule": {"type": "constant", "lr": 0.001}, "training": {"type": "minibatch", "epochs": 1}})";
}

NetworkFile holey_file(double p_drop = 0.25) {
  return parse_network_file(
      holey_json(
          str(R"(, "missing_inputs": {"type": "presence_indicators", "min_present": 2, "p_drop": )", p_drop, "}")),
      "holey.json");
}

TEST(MissingInputs, TheNetworkFileAsksForThemAndPrintsThemBack) {
  const NetworkFile f = holey_file(0.25);
  ASSERT_TRUE(f.data.missing_inputs);
  EXPECT_EQ(f.data.missing_inputs->min_present, 2);
  EXPECT_EQ(f.data.missing_inputs->p_drop, 0.25);
  EXPECT_EQ(f.data.net_inputs(), 8);
  EXPECT_EQ(f.net_spec().n_inputs, 8);  // the stem takes the indicators too
  const NetworkFile again = parse_network_file(to_json(f), "again.json");
  EXPECT_EQ(to_json(again), to_json(f));
  ASSERT_TRUE(again.data.missing_inputs);
  EXPECT_EQ(again.data.missing_inputs->p_drop, 0.25);
  // Without the key: every input needed, no indicators.
  const NetworkFile plain = parse_network_file(holey_json(""), "plain.json");
  EXPECT_FALSE(plain.data.missing_inputs);
  EXPECT_EQ(plain.net_spec().n_inputs, 4);
  // The default asks for every input: indicators, but no row with a hole.
  const NetworkFile all =
      parse_network_file(holey_json(R"(, "missing_inputs": {"type": "presence_indicators"})"), "all.json");
  EXPECT_EQ(all.data.missing_inputs->min_present, 4);
  EXPECT_EQ(all.data.missing_inputs->p_drop, 0.0);
}

TEST(MissingInputs, BadValuesNameTheirPath) {
  const auto error = [](const std::string& missing, const std::string& model_extra = "") {
    return message_of([&] {
      parse_network_file(holey_json(", \"missing_inputs\": " + missing, R"({"type": "weighted_l1"})", model_extra),
                         "bad.json");
    });
  };
  EXPECT_TRUE(
      contains(error(R"({"type": "presence_indicators", "min_present": 0})"), "$.data.missing_inputs.min_present"));
  EXPECT_TRUE(
      contains(error(R"({"type": "presence_indicators", "min_present": 5})"), "$.data.missing_inputs.min_present"));
  EXPECT_TRUE(contains(error(R"({"type": "presence_indicators", "p_drop": 1})"), "$.data.missing_inputs.p_drop"));
  EXPECT_TRUE(contains(error(R"({"type": "presence_indicators", "p": 0.1})"), "$.data.missing_inputs.p"));
  EXPECT_TRUE(contains(error(R"({"type": "zero_fill"})"), "$.data.missing_inputs.type"));
  EXPECT_TRUE(contains(error(R"({"type": "presence_indicators"})",
                             R"(, "decoder": {"type": "sandwich", "n_init": 8, "n_max": 16, "depth": 2, "band": "d"})"),
                       "$.model.decoder"));
}

TEST(MissingInputs, RowsWithEnoughInputsTrainOnZScoresAndIndicators) {
  const Catalog catalog = holey_catalog();
  const NetworkFile file = holey_file();
  const PreparedData d = prepare_training_data(catalog, file);
  // Only the rows left with one input (r % 11 == 3) are dropped.
  Index one_input = 0;
  for (Index r = 0; r < catalog.rows(); ++r) one_input += r % 11 == 3;
  EXPECT_EQ(d.rows.missing_input, one_input);
  EXPECT_EQ(Index(d.rows.train.size() + d.rows.validation.size() + d.rows.test.size()), catalog.rows() - one_input);
  ASSERT_EQ(d.train.x.cols(), 8);
  ASSERT_EQ(d.train.x_error.rows(), 0);
  // The statistics are those of the present values of the training split.
  const std::vector<double> c = evaluate_column(catalog, "c");
  double sum = 0.0;
  Index present = 0;
  for (Index r : d.rows.train)
    if (std::isfinite(c[r])) sum += c[r], ++present;
  EXPECT_NEAR(d.stats.inputs.mean[2], sum / double(present), 1e-12);
  // Each row: z-scores where present, 0 where missing, then the indicators.
  const std::vector<double> ab = evaluate_column(catalog, "a-b");
  Index with_hole = 0;
  for (std::size_t i = 0; i < d.rows.train.size(); ++i) {
    const Index r = d.rows.train[i];
    const bool has_ab = r % 5 != 1, has_c = r % 7 != 2;
    with_hole += !has_ab || !has_c;
    EXPECT_EQ(d.train.x(Index(i), 5), has_ab ? 1.0f : 0.0f);
    EXPECT_EQ(d.train.x(Index(i), 6), has_c ? 1.0f : 0.0f);
    EXPECT_EQ(d.train.x(Index(i), 4), 1.0f);
    EXPECT_EQ(d.train.x(Index(i), 1), has_ab ? float(normalise(ab[r], d.stats.inputs, 1)) : 0.0f);
    EXPECT_EQ(d.train.x(Index(i), 2), has_c ? float(normalise(c[r], d.stats.inputs, 2)) : 0.0f);
  }
  EXPECT_GT(with_hole, 50);
  // The same file without missing_inputs drops every row with a hole.
  const PreparedData complete = prepare_training_data(catalog, parse_network_file(holey_json(""), "plain.json"));
  Index holes = 0;
  for (Index r = 0; r < catalog.rows(); ++r) holes += r % 5 == 1 || r % 7 == 2 || r % 11 == 3;
  EXPECT_EQ(complete.rows.missing_input, holes);
  EXPECT_EQ(complete.train.x.cols(), 4);
}

TEST(MissingInputs, BandDropoutHidesAtItsRateAndNeverBelowMinPresent) {
  // n = 4 inputs, all present, p = 0.3, min_present 2: a row keeps its k hidden inputs when
  // k <= 2, and all four otherwise. Expected hidden per row: sum_k<=2 k C(4,k) p^k (1-p)^(4-k).
  const double p = 0.3;
  const MissingInputs rule{2, p};
  const double expected = 4 * p * std::pow(1 - p, 3) + 2 * 6 * p * p * std::pow(1 - p, 2);
  Rng rng(17);
  const Index rows = 40000;
  Index hidden = 0, kept_all = 0;
  for (Index r = 0; r < rows; ++r) {
    double x[8] = {0.5, -1.0, 2.0, 0.25, 1, 1, 1, 1};
    drop_bands(x, 4, rule, rng);
    Index h = 0;
    for (int j = 0; j < 4; ++j) {
      EXPECT_TRUE((x[j] == 0.0 && x[4 + j] == 0.0) || x[4 + j] == 1.0) << "z and m hidden together";
      h += x[4 + j] == 0.0;
    }
    EXPECT_LE(h, 2) << "never below min_present";
    hidden += h;
    kept_all += h == 0;
  }
  const double per_row = double(hidden) / double(rows);
  // The standard error of the mean of h (variance below 1) over 40000 rows is below 0.005.
  EXPECT_NEAR(per_row, expected, 0.02);
  EXPECT_NEAR(double(kept_all) / double(rows), std::pow(1 - p, 4) + 4 * std::pow(p, 3) * (1 - p) + std::pow(p, 4),
              0.01);
  // Missing inputs stay missing and count against min_present: a row with two of its four
  // inputs keeps both.
  Rng again(17);
  for (int r = 0; r < 1000; ++r) {
    double x[8] = {0.5, 0.0, 2.0, 0.0, 1, 0, 1, 0};
    drop_bands(x, 4, rule, again);
    EXPECT_EQ(x[0], 0.5);
    EXPECT_EQ(x[2], 2.0);
    EXPECT_EQ(x[5], 0.0);
  }
  // The same seed hides the same inputs.
  Rng one(5), two(5);
  double x1[8] = {1, 2, 3, 4, 1, 1, 1, 1}, x2[8] = {1, 2, 3, 4, 1, 1, 1, 1};
  for (int r = 0; r < 20; ++r) drop_bands(x1, 4, rule, one), drop_bands(x2, 4, rule, two);
  EXPECT_TRUE(std::equal(x1, x1 + 8, x2));
}

TEST(MissingInputs, EveryRowWithEnoughInputsIsPredictedCountedAndFlagged) {
  const Catalog catalog = holey_catalog();
  const NetworkFile file = holey_file();
  Model model(file, prepare_training_data(catalog, file).stats);
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"t_pred", "t_err", "n_inputs", "starnn_flags"}));
  const Predictions p = model.predict(catalog);
  const std::vector<double>&pred = p.column("t_pred"), &used = p.column("n_inputs"), &flags = p.column("starnn_flags");
  for (Index r = 0; r < catalog.rows(); ++r) {
    SCOPED_TRACE(r);
    const std::size_t k = std::size_t(r);
    if (r % 11 == 3) {
      EXPECT_TRUE(std::isnan(pred[k]));
      EXPECT_TRUE(std::isnan(used[k]));
      EXPECT_EQ(flags[k], 0.0);
      continue;
    }
    const Index missing = (r % 5 == 1) + (r % 7 == 2);
    EXPECT_TRUE(std::isfinite(pred[k]));
    EXPECT_TRUE(std::isfinite(p.column("t_err")[k]));
    EXPECT_EQ(used[k], double(4 - missing));
    EXPECT_EQ(std::int64_t(flags[k]) & kFlagMissingInputs, missing ? kFlagMissingInputs : 0);
  }
  // A sigma scale multiplies every _err, and the model file keeps it.
  model.set_sigma_scale({2.5});
  const auto path = std::filesystem::temp_directory_path() / "starnn_sigma_scale.safetensors";
  model.save(path, OptimizerState::leave_out);
  Model loaded = Model::load(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.sigma_scale(), std::vector<double>{2.5});
  const std::vector<double> scaled = loaded.predict(catalog).column("t_err");
  for (std::size_t k = 0; k < scaled.size(); ++k)
    if (std::isfinite(scaled[k])) EXPECT_NEAR(scaled[k], 2.5 * p.column("t_err")[k], 1e-12 * scaled[k]);
  EXPECT_THROW(model.set_sigma_scale({-1.0}), Error);
  // The net's input of a row with a hole is [m z | m], as training built it.
  const NetInputs in = normalised_inputs(catalog, file.data, model.stats());
  ASSERT_EQ(in.x.cols(), 8);
  const std::size_t i = std::size_t(std::find(in.rows.begin(), in.rows.end(), Index(1)) - in.rows.begin());
  ASSERT_LT(i, in.rows.size());  // row 1 misses b
  EXPECT_EQ(in.x(Index(i), 1), 0.0f);
  EXPECT_EQ(in.x(Index(i), 5), 0.0f);
  EXPECT_EQ(in.x(Index(i), 4), 1.0f);
  EXPECT_EQ(in.present[i], 3);
}

TEST(MissingInputs, EvaluationReportsEveryPatternOfFiftyRows) {
  // 60 complete rows, 55 without input b, 12 without a and b (too few to report).
  EvaluatedValues values;
  values.inputs = {"a", "b", "c"};
  TargetValues t{"t", {}, {}, {}, {}};
  Rng rng(2);
  for (int i = 0; i < 127; ++i) {
    const std::uint64_t missing = i < 60 ? 0 : i < 115 ? 2 : 3;
    values.rows.push_back(i);
    values.missing.push_back(missing);
    const double truth = rng.normal(), spread = missing ? 0.4 : 0.1;
    t.truth.push_back(truth);
    t.predicted.push_back(truth + spread * rng.normal());
    t.sigma.push_back(spread);
    t.label_error.push_back(0.0);
  }
  values.targets.push_back(t);
  const EvaluationReport report = evaluate_values(values);
  ASSERT_EQ(report.patterns.size(), 2u);
  EXPECT_EQ(report.patterns[0].missing, std::vector<std::string>{});
  EXPECT_EQ(report.patterns[0].rows, 60);
  EXPECT_EQ(report.patterns[1].missing, std::vector<std::string>{"b"});
  EXPECT_EQ(report.patterns[1].rows, 55);
  // Each pattern's metrics are those of its rows alone.
  const std::vector<double> p(t.predicted.begin() + 60, t.predicted.begin() + 115),
      y(t.truth.begin() + 60, t.truth.begin() + 115);
  EXPECT_EQ(report.patterns[1].targets[0].metrics.sigma_mad, regression_metrics(p, y).sigma_mad);
  EXPECT_NEAR(report.patterns[1].targets[0].calibration->mean_sigma, 0.4, 1e-15);
  EXPECT_NEAR(report.patterns[0].targets[0].calibration->mean_sigma, 0.1, 1e-15);
  EXPECT_EQ(report.targets[0].metrics.n, 127);
  const nlohmann::json j = nlohmann::json::parse(to_json(report));
  ASSERT_EQ(j.at("missing_inputs").size(), 2u);
  EXPECT_EQ(j["missing_inputs"][1]["missing"], nlohmann::json::array({"b"}));
  EXPECT_EQ(j["missing_inputs"][1]["targets"]["t"]["n"], 55);
  // A net without missing inputs reports no patterns.
  values.inputs.clear();
  values.missing.clear();
  EXPECT_TRUE(evaluate_values(values).patterns.empty());
  EXPECT_FALSE(nlohmann::json::parse(to_json(evaluate_values(values))).contains("missing_inputs"));
}

// f = sin(x0) + 0.5 x1 x2 - 0.3 x3, where the fifth input x4 = x0 + 0.05 eps repeats x0.
// Trained with band dropout, a net predicts without x0 (x4 stands in) nearly as well as with
// it, far better than a net trained on complete rows only; and its sigma grows for rows
// without x2, whose information nothing else holds.
struct HiddenInputRun {
  double complete_mae, without_x0_mae, complete_sigma, without_x2_sigma;
};

HiddenInputRun train_with_band_dropout(double p_drop) {
  constexpr Index n = 5;
  const auto sample = [](Index rows, Rng& rng) {
    Dataset<float> d;
    d.x.assign(rows, 2 * n, 1.0f);
    d.y.resize(rows, 1);
    d.scale.assign(rows, 1, 1.0f);
    d.mask.assign(rows, 1, 1.0f);
    d.error.assign(rows, 1, 0.0f);
    for (Index i = 0; i < rows; ++i) {
      float* x = &d.x(i, 0);
      for (Index j = 0; j < 4; ++j) x[j] = float(rng.uniform(-1.5, 1.5));
      x[4] = x[0] + float(0.05 * rng.normal());
      d.y(i, 0) = float(std::sin(x[0]) + 0.5 * x[1] * x[2] - 0.3 * x[3]);
    }
    return d;
  };
  Rng data_rng(21);
  const Dataset<float> train = sample(6000, data_rng), test = sample(1000, data_rng);
  NetSpec spec;
  spec.n_inputs = 2 * n;
  spec.backbone = {32, 64, 2, BlockType::resdense, Skips::additive, 0.0};
  spec.heads = {HeadType::linear, 1, Classifier::none, true};
  spec.seed = 3;
  Net<float> net(spec);
  NetLoss<float> loss({{1.0}, 1.0, Likelihood::gaussian}, false);
  Adam<float> adam(net.parameters(), {});
  const Index epochs = 12;
  const TrainOptions options{128, Augment::none, true, MissingInputs{3, p_drop}};
  auto schedule = make_one_cycle({3e-3, epochs * (train.rows() / options.batch_size + 1), 0.25, 25.0, 1e4, 0.95, 0.85});
  Trainer<float> trainer(net, loss, adam, *schedule, options);
  Rng shuffle(4);
  for (Index e = 0; e < epochs; ++e) trainer.train_epoch(train, shuffle);

  // The test rows as they are, without x0, and without x2.
  const auto predict_hiding = [&](Index hidden, double& mae, double& sigma) {
    Tensor<float> x(test.rows(), 2 * n), out(test.rows(), 2);
    for (Index i = 0; i < test.rows(); ++i)
      for (Index j = 0; j < 2 * n; ++j) x(i, j) = test.x(i, j);
    if (hidden >= 0)
      for (Index i = 0; i < test.rows(); ++i) x(i, hidden) = x(i, n + hidden) = 0.0f;
    trainer.predict(x.view(), out.view());
    mae = sigma = 0.0;
    for (Index i = 0; i < test.rows(); ++i) {
      mae += std::abs(double(out(i, 0)) - double(test.y(i, 0)));
      sigma += std::sqrt(std::exp(double(out(i, 1))));
    }
    mae /= double(test.rows());
    sigma /= double(test.rows());
  };
  HiddenInputRun run{};
  double unused = 0.0;
  predict_hiding(-1, run.complete_mae, run.complete_sigma);
  predict_hiding(0, run.without_x0_mae, unused);
  predict_hiding(2, unused, run.without_x2_sigma);
  return run;
}

TEST(MissingInputs, BandDropoutTeachesTheNetToPredictWithoutABand) {
  const HiddenInputRun dropped = train_with_band_dropout(0.3), complete = train_with_band_dropout(0.0);
  std::cout << "[band dropout] MAE complete " << dropped.complete_mae << " (complete-only net " << complete.complete_mae
            << "), without x0 " << dropped.without_x0_mae << " (complete-only net " << complete.without_x0_mae
            << "); mean sigma complete " << dropped.complete_sigma << ", without x2 " << dropped.without_x2_sigma
            << "\n";
  EXPECT_LT(dropped.without_x0_mae, 0.5 * complete.without_x0_mae);
  EXPECT_LT(dropped.without_x0_mae, 2.0 * dropped.complete_mae);
  EXPECT_LT(dropped.complete_mae, 2.0 * complete.complete_mae);
  EXPECT_GT(dropped.without_x2_sigma, 2.0 * dropped.complete_sigma);
}

}  // namespace
}  // namespace nn::test
