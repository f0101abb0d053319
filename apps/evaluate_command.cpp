// starnn evaluate: the precision of a model on a labelled catalogue (and the calibration of its
// uncertainties, when it predicts them), as one JSON object.
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "nn/evaluation.h"
#include "nn/report.h"

namespace starnn {

int evaluate_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "catalog", "split", "hdu", "report", "mc-samples", "precision"}, {});
  args.expect_positionals(0, "starnn evaluate --model M --catalog FILE");
  const std::filesystem::path model_path = args.require("model");
  nn::Model model = nn::Model::load(model_path);
  const std::string path = args.require("catalog");
  // On the catalogue it trained on, a model is judged by the stars it never saw: its test split.
  std::error_code error;
  const bool training_catalog = std::filesystem::equivalent(path, model.file().catalog_path(), error);
  const nn::SplitChoice split = nn::parse_split_choice(args.get("split").value_or(training_catalog ? "test" : "all"));
  std::fprintf(stderr, "evaluating %s of %s%s\n",
               split == nn::SplitChoice::all ? "every row" : nn::str("the ", nn::to_string(split), " split").c_str(),
               path.c_str(), training_catalog ? " (the model's training catalogue)" : "");
  const nn::PredictOptions options = args.predict_options();
  nn::DataSpec data = model.file().data;
  data.hdu = args.get("hdu").value_or(data.hdu);
  const nn::Catalog catalog =
      nn::read_catalog(path, {data.hdu, nn::needed_columns(path, nn::data_expressions(data), data.hdu)});
  const nn::EvaluatedValues values = nn::evaluated_values(model, catalog, split, options);
  const nn::EvaluationReport report = nn::evaluate_values(values);
  // Training writes history.csv beside its models.
  if (const auto dir = args.get("report")) {
    const std::filesystem::path history = model_path.parent_path() / "history.csv";
    const nn::ReportFiles files = nn::write_report(values, report, history, *dir);
    if (files.history_skipped)
      std::fprintf(stderr, "no %s next to the model: history.png skipped\n", history.string().c_str());
    for (const auto& png : files.written) std::fprintf(stderr, "wrote %s\n", png.string().c_str());
  }
  std::printf("%s\n", nn::to_json(report).c_str());
  return 0;
}

}  // namespace starnn
