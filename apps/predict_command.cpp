// starnn predict: a copy of a catalogue with the model's predictions as new columns
// (nn::Predictions: <target>_pred, <target>_err where the model predicts an uncertainty, a
// classifier's logit, n_inputs for nets that take missing inputs, starnn_flags), streamed in
// chunks so that catalogues larger than memory work; or, for a glob or @LIST of catalogues, one
// copy of each in the --out folder with a manifest of the finished ones (nn/survey.h). Under
// mpirun the files are shared among the ranks, and a file too large for one rank's share (or the
// one catalogue given) is split among them by chunks.
#include "cli.h"
#include "nn/devices.h"
#include "nn/survey.h"
#include "progress.h"

namespace starnn {
namespace {

// The line that says what predicting one catalogue gave.
void report_file(nn::Model& model, const std::string& out, const nn::FilePrediction& counts, Progress& progress) {
  const bool missing_inputs = model.file().data.missing_inputs.has_value();
  const std::string missing =
      missing_inputs ? nn::str(", ", counts.with_missing, " with missing inputs") : std::string();
  progress.line(nn::str("wrote ", out, ": ", counts.rows, " rows, ", counts.predicted, " predicted (",
                        counts.outside_range, " flagged outside the training range", missing, "), ",
                        counts.rows - counts.predicted, " left NaN for ",
                        missing_inputs ? "too few inputs" : "a missing input", " or an outlier"));
}

}  // namespace

int predict_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "catalog", "out", "chunk", "hdu", "device", "mc-samples", "precision"},
                       {});
  args.expect_positionals(0, "starnn predict --model M --catalog IN --out OUT");
  const std::string model_path = args.require("model");
  nn::Model model = nn::Model::load(model_path);
  const std::string in = args.require("catalog"), out = args.require("out");
  nn::SurveyOptions options;
  options.chunk_rows = args.integer("chunk", 100000);
  if (options.chunk_rows < 1) throw nn::Error("--chunk must be at least 1");
  options.predict = args.predict_options();
  options.hdu = args.get("hdu").value_or("");
  const nn::Ranks& ranks = nn::Ranks::world();
  const nn::DeviceSelection device = nn::select_device(args.device(nn::DeviceChoice::auto_select), ranks.local_rank());
  model.to(device.device);
  Progress progress(stdout);

  if (!nn::names_many_files(in)) {
    // One catalogue: under mpirun every rank predicts its own chunks and rank 0 writes the copy.
    if (ranks.root())
      progress.line(nn::str("device: ", device.description,
                            ranks.size() > 1 ? nn::str("; ", ranks.size(), " ranks, each its own chunks") : ""));
    const nn::FilePrediction counts =
        ranks.size() > 1
            ? nn::predict_file_on_ranks(model, in, out, options.predict, options.chunk_rows, options.hdu, ranks)
            : nn::predict_file(model, in, out, options.predict, options.chunk_rows, options.hdu,
                               [&](nn::Index done, nn::Index total) {
                                 progress.update(nn::str("predicted ", done, "/", total, " rows"));
                               });
    if (ranks.root()) report_file(model, out, counts, progress);
    return 0;
  }
  const std::vector<std::filesystem::path> inputs = nn::survey_files(in);
  if (ranks.root())
    progress.line(nn::str(inputs.size(), " catalogues into ", out, "/ on ", ranks.size(),
                          ranks.size() == 1 ? " rank" : " ranks", "; device: ", device.description));
  const nn::SurveySummary summary =
      nn::predict_survey(model, model_path, inputs, out, options, ranks, [&](const std::string& line) {
        progress.line(ranks.size() > 1 ? nn::str("rank ", ranks.rank(), ": ", line) : line);
      });
  if (ranks.root())
    progress.line(nn::str("manifest ", (std::filesystem::path(out) / "manifest.json").string(), ": ", summary.files,
                          " catalogues, ", summary.done_before, " done before this run"));
  return 0;
}

}  // namespace starnn
