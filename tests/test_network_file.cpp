// The network file: strict parsing with JSON paths in every error, and the round trip.
#include "harness.h"
#include "nn/network_file.h"

namespace nn::test {
namespace {

const std::string kMinimal = R"({
  "format": "starnn-net/1",
  "data": {"type": "catalog", "catalog": "stars.fits", "inputs": ["u-g", "g-r"],
           "targets": [{"type": "target", "column": "feh", "error": "feh_err", "weight": 10}]},
  "model": {"type": "regressor", "backbone": {"type": "sandwich", "n_init": 16, "n_max": 64, "depth": 3},
            "heads": {"type": "causal"}},
  "loss": {"type": "weighted_l1"},
  "optimizer": {"type": "adamw", "weight_decay": 0.05},
  "schedule": {"type": "one_cycle", "max_lr": 0.003},
  "training": {"type": "minibatch", "epochs": 7}
})";

std::string error_of(const std::string& text) {
  try {
    parse_network_file(text, "net.json");
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

// kMinimal with one substring replaced.
std::string with(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(NetworkFile, ReadsValuesAndDefaults) {
  const NetworkFile f = parse_network_file(kMinimal, "net.json");
  EXPECT_EQ(f.data.inputs, (std::vector<std::string>{"u-g", "g-r"}));
  ASSERT_EQ(f.data.targets.size(), 1u);
  EXPECT_EQ(f.data.targets[0].error, "feh_err");
  EXPECT_EQ(f.data.targets[0].weight, 10.0);
  EXPECT_EQ(f.backbone.depth, 3);
  EXPECT_EQ(f.backbone.block, BlockType::resdense);  // default
  EXPECT_EQ(f.backbone.skips, Skips::additive);      // default
  EXPECT_EQ(f.head, HeadType::causal);
  EXPECT_EQ(f.optimizer.type, OptimizerType::adamw);
  EXPECT_EQ(f.optimizer.adam.weight_decay, 0.05);
  EXPECT_EQ(f.schedule.one_cycle.max_lr, 0.003);
  EXPECT_EQ(f.schedule.one_cycle.div, 25.0);  // default
  EXPECT_EQ(f.training.epochs, 7);
  EXPECT_EQ(f.training.batch_size, 256);  // default
  EXPECT_EQ(f.net_spec().n_inputs, 2);
}

TEST(NetworkFile, ClassifierSharesTheLossByDefault) {
  const std::string with_classifier = with(R"("type": "causal")", R"("type": "causal", "classifier": "binary")");
  std::string text = with_classifier;
  text.replace(text.find(R"("inputs")"), 0, R"("label": "giant", )");
  EXPECT_EQ(parse_network_file(text, "net.json").loss.alpha, 0.5);
  EXPECT_EQ(parse_network_file(kMinimal, "net.json").loss.alpha, 1.0);
}

TEST(NetworkFile, RoundTripPrintsItselfBack) {
  const std::string once = to_json(parse_network_file(kMinimal, "net.json"));
  const std::string twice = to_json(parse_network_file(once, "printed"));
  EXPECT_EQ(once, twice);
  // and the printed file says every default out loud
  EXPECT_NE(once.find("\"pct_start\": 0.25"), std::string::npos) << once;
  EXPECT_NE(once.find("\"block\": \"resdense\""), std::string::npos) << once;
}

TEST(NetworkFile, ShippedNetsParseAndPrintBack) {
  const NetworkFile f = read_network_file(std::string(STARNN_SOURCE_DIR) + "/data/nets/regression.json");
  EXPECT_TRUE(std::filesystem::exists(f.catalog_path())) << f.catalog_path();  // shipped with it
  EXPECT_EQ(to_json(parse_network_file(to_json(f), "printed")), to_json(f));
  const NetworkFile mlp = read_network_file(std::string(STARNN_SOURCE_DIR) + "/data/nets/mlp.json");
  EXPECT_EQ(mlp.backbone.type, BackboneType::mlp);
  EXPECT_EQ(mlp.backbone.hidden_widths, (std::vector<Index>{1024, 512}));
  EXPECT_EQ(to_json(parse_network_file(to_json(mlp), "printed")), to_json(mlp));
  // The multitask net's catalogue is not shipped; the file itself must be valid.
  const NetworkFile m = read_network_file(std::string(STARNN_SOURCE_DIR) + "/data/nets/multitask.json");
  EXPECT_EQ(m.head, HeadType::causal);
  EXPECT_EQ(m.classifier, Classifier::binary);
  EXPECT_EQ(m.data.label, "LOGG_ADOP < 3.5");
  ASSERT_EQ(m.data.targets.size(), 3u);
  EXPECT_EQ(m.data.targets[0].column, "TEFFA");  // the causal order: Teff -> [Fe/H] -> log g
  EXPECT_EQ(to_json(parse_network_file(to_json(m), "printed")), to_json(m));
  // The auto-encoder fills in the bluest band of that catalogue, F395.
  const NetworkFile a = read_network_file(std::string(STARNN_SOURCE_DIR) + "/data/nets/autoencoder.json");
  ASSERT_TRUE(a.decoder);
  EXPECT_EQ(a.decoder->band, "F395_cor-r_cor");
  EXPECT_EQ(to_json(parse_network_file(to_json(a), "printed")), to_json(a));
}

TEST(NetworkFile, ErrorsNameThePathAndWhatWasExpected) {
  EXPECT_EQ(error_of(with(R"("depth": 3)", R"("depth": 3, "widht": 5)")),
            "net.json: $.model.backbone.widht: unknown key");
  EXPECT_EQ(error_of(with(R"("epochs": 7)", R"("epochs": "7")")),
            "net.json: $.training.epochs: expected an integer, got \"7\"");
  EXPECT_EQ(error_of(with(R"("depth": 3)", R"("depth": 0)")),
            "net.json: $.model.backbone.depth: expected an integer in [1, 64], got 0");
  EXPECT_EQ(error_of(with(R"("n_max": 64)", R"("n_max": 8)")),
            "net.json: $.model.backbone.n_max: expected an integer in [16, 65536], got 8");
  EXPECT_EQ(error_of(with(R"("type": "causal")", R"("type": "tree")")),
            "net.json: $.model.heads.type: expected one of \"linear\", \"causal\", got \"tree\"");
  EXPECT_EQ(error_of(with(R"("weight": 10)", R"("weight": -1)")),
            "net.json: $.data.targets[0].weight: expected a number in [0, inf], got -1");
  EXPECT_EQ(error_of(with(R"("inputs": ["u-g", "g-r"])", R"("inputs": [])")),
            "net.json: $.data.inputs: expected a non-empty array of columns or colours, got []");
  EXPECT_EQ(error_of(with("starnn-net/1", "starnn-net/2")),
            "net.json: $.format: expected \"starnn-net/1\", got \"starnn-net/2\"");
  EXPECT_EQ(error_of(with(R"("loss": {"type": "weighted_l1"},)", "")),
            "net.json: $.loss: expected a value (the key is required), got nothing");
  EXPECT_EQ(error_of(with(R"("weight_decay": 0.05)", R"("weight_decay": 0.05, "lr": 1)")),
            "net.json: $.optimizer.lr: unknown key");
  EXPECT_EQ(error_of(with(R"("type": "causal")", R"("type": "causal", "classifier": "binary")")),
            "net.json: $.data.label: expected the 0/1 label column, since $.model.heads.classifier is \"binary\"");
  EXPECT_NE(error_of("{\"format\": ").find("net.json: not valid JSON"), std::string::npos);
}

// The likelihood losses give the heads a log variance per target; an ensemble names its members.
TEST(NetworkFile, UncertaintyLossesAndEnsembles) {
  std::string text = with(R"("loss": {"type": "weighted_l1"})", R"("loss": {"type": "laplace_nll"})");
  const std::string regressor = R"("type": "regressor")";
  text.replace(text.find(regressor), regressor.size(), R"("type": "regressor", "members": 5)");
  const NetworkFile f = parse_network_file(text, "net.json");
  EXPECT_EQ(f.loss.type, LossType::laplace_nll);
  EXPECT_TRUE(f.loss.uncertainty());
  EXPECT_EQ(f.members, 5);
  EXPECT_TRUE(f.net_spec().heads.variance);
  EXPECT_EQ(f.net_spec(0).seed, f.training.seed);
  EXPECT_NE(f.net_spec(1).seed, f.net_spec(2).seed);
  const std::string printed = to_json(f);
  EXPECT_EQ(to_json(parse_network_file(printed, "printed")), printed);
  EXPECT_NE(printed.find(R"("members": 5)"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("s_min"), std::string::npos) << "s_min is the weighted L1's alone";
  EXPECT_FALSE(parse_network_file(kMinimal, "net.json").net_spec().heads.variance);

  EXPECT_EQ(error_of(with(R"("loss": {"type": "weighted_l1"})", R"("loss": {"type": "gaussian_nll", "s_min": 0.2})")),
            "net.json: $.loss.s_min: unknown key");
  EXPECT_EQ(error_of(with(R"("loss": {"type": "weighted_l1"})", R"("loss": {"type": "nll"})")),
            "net.json: $.loss.type: expected one of \"weighted_l1\", \"gaussian_nll\", \"laplace_nll\", got \"nll\"");
  EXPECT_EQ(error_of(with(R"("type": "regressor")", R"("type": "regressor", "members": 0)")),
            "net.json: $.model.members: expected an integer in [1, 64], got 0");
}

// The auto-encoder: labels from g-r and r-i, and the u-g colour they do without.
const std::string kAutoEncoder = R"({
  "format": "starnn-net/1",
  "data": {"type": "catalog", "catalog": "stars.fits", "inputs": ["g-r", "r-i"],
           "targets": [{"type": "target", "column": "feh"},
                       {"type": "target", "column": "u-g", "error": "u_err", "weight": 2}]},
  "model": {"type": "regressor", "backbone": {"type": "sandwich", "n_init": 16, "n_max": 64, "depth": 3},
            "heads": {"type": "linear"},
            "decoder": {"type": "sandwich", "block": "aresdense", "n_init": 8, "n_max": 32, "depth": 2, "band": "u-g"}},
  "loss": {"type": "weighted_l1"},
  "optimizer": {"type": "adam"},
  "schedule": {"type": "one_cycle", "max_lr": 0.003},
  "training": {"type": "minibatch", "epochs": 7}
})";

std::string auto_encoder_with(const std::string& from, const std::string& to) {
  std::string s = kAutoEncoder;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(NetworkFile, TheBandDecoderHasNoUncertaintyHead) {
  EXPECT_EQ(error_of(auto_encoder_with(R"("loss": {"type": "weighted_l1"})", R"("loss": {"type": "gaussian_nll"})")),
            "net.json: $.loss.type: expected \"weighted_l1\": the band decoder ($.model.decoder) has no uncertainty "
            "head, got \"gaussian_nll\"");
}

TEST(NetworkFile, DecoderPredictsTheLastTarget) {
  const NetworkFile f = parse_network_file(kAutoEncoder, "net.json");
  ASSERT_TRUE(f.decoder);
  EXPECT_EQ(f.decoder->band, "u-g");
  EXPECT_EQ(f.decoder->backbone.block, BlockType::aresdense);
  EXPECT_EQ(f.decoder->backbone.depth, 2);
  EXPECT_EQ(f.decoder->backbone.skips, Skips::additive);  // default
  // The encoder's heads predict the labels only; the decoder the band.
  const NetSpec spec = f.net_spec();
  EXPECT_EQ(spec.heads.n_targets, 1);
  ASSERT_TRUE(spec.decoder);
  EXPECT_EQ(spec.decoder->n_max, 32);
  EXPECT_FALSE(parse_network_file(kMinimal, "net.json").net_spec().decoder);
  const std::string once = to_json(f);
  EXPECT_EQ(to_json(parse_network_file(once, "printed")), once);
  EXPECT_NE(once.find("\"band\": \"u-g\""), std::string::npos) << once;
}

TEST(NetworkFile, DecoderErrorsNameThePath) {
  EXPECT_EQ(error_of(auto_encoder_with(R"("band": "u-g")", R"("band": "feh")")),
            "net.json: $.model.decoder.band: expected the last of $.data.targets (\"u-g\"), got \"feh\"");
  EXPECT_EQ(error_of(auto_encoder_with(R"(["g-r", "r-i"])", R"(["g-r", "r-i", "u-g"])")),
            "net.json: $.model.decoder.band: expected a band that is not one of $.data.inputs (the encoder must do "
            "without it), got \"u-g\"");
  EXPECT_EQ(error_of(auto_encoder_with(R"({"type": "target", "column": "feh"},)", "")),
            "net.json: $.model.decoder.band: expected the last of two or more $.data.targets (the labels, then the "
            "band), got \"u-g\"");
  EXPECT_EQ(error_of(auto_encoder_with(R"(, "band": "u-g")", "")),
            "net.json: $.model.decoder.band: expected a value (the key is required), got nothing");
  EXPECT_EQ(error_of(auto_encoder_with(R"("depth": 2)", R"("depth": 0)")),
            "net.json: $.model.decoder.depth: expected an integer in [1, 64], got 0");
  EXPECT_EQ(error_of(auto_encoder_with(R"("n_max": 32)", R"("n_max": 4)")),
            "net.json: $.model.decoder.n_max: expected an integer in [8, 65536], got 4");
  EXPECT_EQ(error_of(auto_encoder_with(R"("band": "u-g")", R"("band": "u-g", "weight": 10)")),
            "net.json: $.model.decoder.weight: unknown key");
  EXPECT_EQ(error_of(auto_encoder_with(R"({"type": "sandwich", "block")", R"({"type": "tree", "block")")),
            "net.json: $.model.decoder.type: expected one of \"sandwich\", \"mlp\", got \"tree\"");
  EXPECT_EQ(error_of(auto_encoder_with(R"("band": "u-g")", R"("band": 3)")),
            "net.json: $.model.decoder.band: expected a string, got 3");
}

// kMinimal with another backbone, by default the MLP of the thesis's first nets (§3), here
// 2 x 1024, 1024 x 512 and the causal head on its 512 outputs.
std::string mlp_file(const std::string& backbone = R"({"type": "mlp", "widths": [1024, 512]})") {
  return with(R"({"type": "sandwich", "n_init": 16, "n_max": 64, "depth": 3})", backbone);
}

TEST(NetworkFile, ReadsAnMlpBackbone) {
  const NetworkFile f = parse_network_file(mlp_file(), "net.json");
  EXPECT_EQ(f.backbone.type, BackboneType::mlp);
  EXPECT_EQ(f.backbone.hidden_widths, (std::vector<Index>{1024, 512}));
  EXPECT_EQ(f.backbone.dropout, 0.0);  // default
  EXPECT_EQ(f.head, HeadType::causal);
  const NetSpec spec = f.net_spec();
  EXPECT_EQ(spec.backbone.type, BackboneType::mlp);
  EXPECT_EQ(spec.backbone.hidden_widths, f.backbone.hidden_widths);
  EXPECT_EQ(
      parse_network_file(mlp_file(R"({"type": "mlp", "widths": [64, 128, 128, 128], "dropout": 0.001})"), "net.json")
          .backbone.dropout,
      0.001);
}

TEST(NetworkFile, MlpRoundTripWritesOnlyItsOwnKeys) {
  const NetworkFile f =
      parse_network_file(mlp_file(R"({"type": "mlp", "widths": [7, 3], "dropout": 0.25})"), "net.json");
  const std::string once = to_json(f);
  const NetworkFile again = parse_network_file(once, "printed");
  EXPECT_EQ(again.backbone.type, BackboneType::mlp);
  EXPECT_EQ(again.backbone.hidden_widths, (std::vector<Index>{7, 3}));
  EXPECT_EQ(again.backbone.dropout, 0.25);
  EXPECT_EQ(to_json(again), once);
  EXPECT_NE(once.find(R"("type": "mlp")"), std::string::npos) << once;
  EXPECT_EQ(once.find("n_init"), std::string::npos) << once;  // the sandwich's keys would be errors
  EXPECT_EQ(once.find("block"), std::string::npos) << once;
}

TEST(NetworkFile, MlpErrorsNameThePath) {
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp", "widths": [1024, 0]})")),
            "net.json: $.model.backbone.widths[1]: expected an integer in [1, 65536], got 0");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp", "widths": [1.5]})")),
            "net.json: $.model.backbone.widths[0]: expected an integer in [1, 65536], got 1.5");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp", "widths": []})")),
            "net.json: $.model.backbone.widths: expected a non-empty array of integers in [1, 65536], got []");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp", "widths": 512})")),
            "net.json: $.model.backbone.widths: expected a non-empty array of integers in [1, 65536], got 512");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp"})")),
            "net.json: $.model.backbone.widths: expected a value (the key is required), got nothing");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp", "widths": [64], "dropout": 1})")),
            "net.json: $.model.backbone.dropout: expected a number in [0, 0.99], got 1");
  // A key of the other backbone type is an unknown key, each way.
  EXPECT_EQ(error_of(mlp_file(R"({"type": "mlp", "widths": [64], "depth": 3})")),
            "net.json: $.model.backbone.depth: unknown key");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "sandwich", "widths": [64]})")),
            "net.json: $.model.backbone.widths: unknown key");
  EXPECT_EQ(error_of(mlp_file(R"({"type": "perceptron", "widths": [64]})")),
            "net.json: $.model.backbone.type: expected one of \"sandwich\", \"mlp\", got \"perceptron\"");
}

TEST(NetworkFile, DecoderMayBeAnMlp) {
  const NetworkFile f = parse_network_file(
      auto_encoder_with(R"({"type": "sandwich", "block": "aresdense", "n_init": 8, "n_max": 32, "depth": 2, "band")",
                        R"({"type": "mlp", "widths": [32, 16], "band")"),
      "net.json");
  ASSERT_TRUE(f.decoder);
  EXPECT_EQ(f.decoder->backbone.type, BackboneType::mlp);
  EXPECT_EQ(f.decoder->backbone.hidden_widths, (std::vector<Index>{32, 16}));
  EXPECT_EQ(f.decoder->band, "u-g");
  EXPECT_EQ(to_json(parse_network_file(to_json(f), "printed")), to_json(f));
}

TEST(NetworkFile, MissingFileIsNamed) {
  try {
    read_network_file("/nonexistent/net.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "/nonexistent/net.json: cannot open the network file");
  }
}

// A column the net would learn from itself, or twice, is refused at its JSON path.
TEST(NetworkFile, LabelsThatAreInputsAndRepeatedColumnsAreRefused) {
  EXPECT_EQ(error_of(with(R"(["u-g", "g-r"])", R"(["u-g", "g-r", "u-g"])")),
            "net.json: $.data.inputs[2]: expected an input not given before (inputs[0]), got \"u-g\"");
  EXPECT_EQ(error_of(with(R"(["u-g", "g-r"])", R"(["u-g", "feh"])")),
            "net.json: $.data.targets[0].column: expected a column that is not an input (it is inputs[1]), got "
            "\"feh\"");
  EXPECT_EQ(error_of(with(R"("weight": 10})", R"("weight": 10}, {"type": "target", "column": "feh"})")),
            "net.json: $.data.targets[1].column: expected a target not given before (targets[0]), got \"feh\"");
  std::string classifier = with(R"("type": "causal")", R"("type": "causal", "classifier": "binary")");
  classifier.replace(classifier.find(R"("inputs")"), 0, R"("label": "g-r", )");
  EXPECT_EQ(error_of(classifier),
            "net.json: $.data.label: expected a column that is not an input (it is inputs[1]), got \"g-r\"");
}

// What nlohmann's parser throws (a number out of range) and what it could not survive (deep
// nesting) are errors that name the file.
TEST(NetworkFile, HugeNumbersAndDeepNestingAreCleanErrors) {
  EXPECT_EQ(error_of(with(R"("epochs": 7)", R"("epochs": 1e400)")),
            "net.json: not valid JSON (number overflow parsing '1e400')");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of(deep), "net.json: not valid JSON (nested deeper than 64 levels)");
  std::string object_in_objects;
  for (int k = 0; k < 70; ++k) object_in_objects += R"({"a": )";
  object_in_objects += "1" + std::string(70, '}');
  EXPECT_EQ(error_of(object_in_objects), "net.json: not valid JSON (nested deeper than 64 levels)");
}

}  // namespace
}  // namespace nn::test
