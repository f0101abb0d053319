// starnn predict: a copy of a catalogue with one new column per model output, streamed in
// chunks so that catalogues larger than memory work.
#include <cmath>
#include <cstdint>

#include "cli.h"
#include "nn/data.h"
#include "nn/devices.h"
#include "nn/model.h"
#include "progress.h"

namespace starnn {

int predict_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "catalog", "out", "chunk", "hdu", "device"}, {});
  args.expect_positionals(0, "starnn predict --model M --catalog IN --out OUT");
  nn::Model model = nn::Model::load(args.require("model"));
  const std::string in = args.require("catalog"), out = args.require("out");
  const nn::Index chunk_rows = args.integer("chunk", 100000);
  if (chunk_rows < 1) throw nn::Error("--chunk must be at least 1");
  const std::string hdu = args.get("hdu").value_or(model.file().data.hdu);
  const nn::DeviceSelection device = nn::select_device(args.device(nn::DeviceChoice::auto_select));
  model.net().to(device.device);

  // Read only the columns the inputs need.
  const std::vector<std::string> columns = nn::needed_columns(in, model.file().data.inputs, hdu);
  std::vector<std::string> new_columns = model.output_names();
  new_columns.push_back(nn::kFlagsColumn);
  nn::CatalogAugmenter augmenter(in, out, new_columns, {hdu, columns});
  Progress progress(stdout);
  progress.line(nn::str("device: ", device.description));
  const nn::Index total = augmenter.total_rows();
  nn::Index done = 0, predicted = 0, outside_range = 0;
  nn::Catalog chunk;
  while (augmenter.next(chunk_rows, chunk)) {
    auto values = model.predict(chunk);
    values.push_back(model.flags(chunk));
    for (nn::Index r = 0; r < chunk.rows(); ++r) {
      predicted += !std::isnan(values[0][r]);
      outside_range += (std::int64_t(values.back()[r]) & nn::kFlagOutsideTrainingRange) != 0;
    }
    augmenter.write(values);
    done += chunk.rows();
    progress.update(nn::str("predicted ", done, "/", total, " rows"));
  }
  augmenter.commit();
  progress.line(nn::str("wrote ", out, ": ", total, " rows, ", predicted, " predicted (", outside_range,
                        " flagged outside the training range), ", total - predicted,
                        " left NaN for a missing input or an outlier"));
  return 0;
}

}  // namespace starnn
