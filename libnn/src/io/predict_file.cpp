// One catalogue through a model into its augmented copy (nn/survey.h).
#include <cmath>
#include <cstdint>

#include "nn/catalog.h"
#include "nn/data.h"
#include "nn/survey.h"

namespace nn {

FilePrediction predict_file(Model& model, const std::filesystem::path& in, const std::filesystem::path& out,
                            const PredictOptions& options, Index chunk_rows, const std::string& hdu,
                            const std::function<void(Index, Index)>& progress) {
  if (chunk_rows < 1) throw Error(str("chunk of ", chunk_rows, " rows: must be at least 1"));
  const std::string table = hdu.empty() ? model.file().data.hdu : hdu;
  // Read only the columns the inputs need.
  const std::vector<std::string> columns = needed_columns(in, model.file().data.inputs, table);
  CatalogAugmenter augmenter(in, out, model.output_names(options), {table, columns});
  FilePrediction counts;
  const Index total = augmenter.total_rows();
  Catalog chunk;
  while (augmenter.next(chunk_rows, chunk)) {
    const Predictions predictions = model.predict(chunk, options);
    const std::vector<double>& flags = predictions.column(kFlagsColumn);
    for (Index r = 0; r < chunk.rows(); ++r) {
      counts.predicted += !std::isnan(predictions.columns[0][std::size_t(r)]);
      counts.outside_range += (std::int64_t(flags[std::size_t(r)]) & kFlagOutsideTrainingRange) != 0;
      counts.with_missing += (std::int64_t(flags[std::size_t(r)]) & kFlagMissingInputs) != 0;
    }
    augmenter.write(predictions.columns);
    counts.rows += chunk.rows();
    if (progress) progress(counts.rows, total);
  }
  augmenter.commit();
  return counts;
}

}  // namespace nn
