// starnn predict: a copy of a catalogue with the model's predictions as new columns
// (nn::Predictions: <target>_pred, <target>_err where the model predicts an uncertainty, a
// classifier's logit, n_inputs for nets that take missing inputs, starnn_flags), streamed in chunks so that catalogues
// larger than memory work.
#include <cmath>
#include <cstdint>

#include "cli.h"
#include "nn/data.h"
#include "nn/devices.h"
#include "nn/model.h"
#include "progress.h"

namespace starnn {

int predict_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "catalog", "out", "chunk", "hdu", "device", "mc-samples"}, {});
  args.expect_positionals(0, "starnn predict --model M --catalog IN --out OUT");
  nn::Model model = nn::Model::load(args.require("model"));
  const std::string in = args.require("catalog"), out = args.require("out");
  const nn::Index chunk_rows = args.integer("chunk", 100000);
  if (chunk_rows < 1) throw nn::Error("--chunk must be at least 1");
  const nn::PredictOptions options = args.predict_options();
  const std::string hdu = args.get("hdu").value_or(model.file().data.hdu);
  const nn::DeviceSelection device = nn::select_device(args.device(nn::DeviceChoice::auto_select));
  model.to(device.device);

  // Read only the columns the inputs need.
  const std::vector<std::string> columns = nn::needed_columns(in, model.file().data.inputs, hdu);
  nn::CatalogAugmenter augmenter(in, out, model.output_names(options), {hdu, columns});
  Progress progress(stdout);
  progress.line(nn::str("device: ", device.description));
  const nn::Index total = augmenter.total_rows();
  nn::Index done = 0, predicted = 0, outside_range = 0, with_missing = 0;
  nn::Catalog chunk;
  while (augmenter.next(chunk_rows, chunk)) {
    const nn::Predictions predictions = model.predict(chunk, options);
    const std::vector<double>& flags = predictions.column(nn::kFlagsColumn);
    for (nn::Index r = 0; r < chunk.rows(); ++r) {
      predicted += !std::isnan(predictions.columns[0][std::size_t(r)]);
      outside_range += (std::int64_t(flags[std::size_t(r)]) & nn::kFlagOutsideTrainingRange) != 0;
      with_missing += (std::int64_t(flags[std::size_t(r)]) & nn::kFlagMissingInputs) != 0;
    }
    augmenter.write(predictions.columns);
    done += chunk.rows();
    progress.update(nn::str("predicted ", done, "/", total, " rows"));
  }
  augmenter.commit();
  const std::string missing =
      model.file().data.missing_inputs ? nn::str(", ", with_missing, " with missing inputs") : std::string();
  progress.line(nn::str("wrote ", out, ": ", total, " rows, ", predicted, " predicted (", outside_range,
                        " flagged outside the training range", missing, "), ", total - predicted, " left NaN for ",
                        model.file().data.missing_inputs ? "too few inputs" : "a missing input", " or an outlier"));
  return 0;
}

}  // namespace starnn
