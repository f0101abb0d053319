// One catalogue through a model into its augmented copy (nn/survey.h): by one process, or by
// every rank together, each predicting its own chunks.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "nn/catalog.h"
#include "nn/data.h"
#include "nn/survey.h"

namespace nn {
namespace {

// Adds one chunk's predictions to the counts.
void count_chunk(const std::vector<double>& first_prediction, const std::vector<double>& flags,
                 FilePrediction& counts) {
  for (std::size_t r = 0; r < flags.size(); ++r) {
    counts.predicted += !std::isnan(first_prediction[r]);
    counts.outside_range += (std::int64_t(flags[r]) & kFlagOutsideTrainingRange) != 0;
    counts.with_missing += (std::int64_t(flags[r]) & kFlagMissingInputs) != 0;
  }
  counts.rows += Index(flags.size());
}

std::string table_of(Model& model, const std::string& hdu) { return hdu.empty() ? model.file().data.hdu : hdu; }

void check_chunk_rows(Index chunk_rows) {
  if (chunk_rows < 1) throw Error(str("chunk of ", chunk_rows, " rows: must be at least 1"));
}

}  // namespace

FilePrediction predict_file(Model& model, const std::filesystem::path& in, const std::filesystem::path& out,
                            const PredictOptions& options, Index chunk_rows, const std::string& hdu,
                            const std::function<void(Index, Index)>& progress) {
  check_chunk_rows(chunk_rows);
  const std::string table = table_of(model, hdu);
  // Read only the columns the inputs need.
  const std::vector<std::string> columns = needed_columns(in, model.file().data.inputs, table);
  CatalogAugmenter augmenter(in, out, model.output_names(options), {table, columns});
  FilePrediction counts;
  const Index total = augmenter.total_rows();
  Catalog chunk;
  while (augmenter.next(chunk_rows, chunk)) {
    const Predictions predictions = model.predict(chunk, options);
    count_chunk(predictions.columns[0], predictions.column(kFlagsColumn), counts);
    augmenter.write(predictions.columns);
    if (progress) progress(counts.rows, total);
  }
  augmenter.commit();
  return counts;
}

FilePrediction predict_file_on_ranks(Model& model, const std::filesystem::path& in, const std::filesystem::path& out,
                                     const PredictOptions& options, Index chunk_rows, const std::string& hdu,
                                     const Ranks& ranks) {
  check_chunk_rows(chunk_rows);
  const std::string table = table_of(model, hdu);
  const std::vector<std::string> columns = needed_columns(in, model.file().data.inputs, table);
  const std::vector<std::string> names = model.output_names(options);
  const Index n_new = Index(names.size());
  // Rank k predicts chunks [k C / R, (k + 1) C / R): the very chunks one process predicts.
  CatalogReader reader(in, {table, columns});
  const Index total = reader.total_rows(), chunks = (total + chunk_rows - 1) / chunk_rows;
  const auto first_chunk = [&](int k) { return BatchShards::first_row(chunks, k, ranks.size()); };
  const auto first_row = [&](int k) { return std::min(total, first_chunk(k) * chunk_rows); };
  const Index mine_first = first_row(ranks.rank()), mine_rows = first_row(ranks.rank() + 1) - mine_first;
  // This rank's predictions, column after column.
  std::vector<double> mine(std::size_t(n_new * mine_rows));
  Catalog chunk;
  for (Index row = 0; row < first_row(ranks.rank() + 1) && reader.next(chunk_rows, chunk);) {
    const Index rows = chunk.rows();
    if (row < mine_first && row + rows > mine_first)
      throw Error(str(in.string(), ": a chunk of ", rows, " rows at row ", row, " crosses rank ", ranks.rank(),
                      "'s first row ", mine_first));
    if (row >= mine_first) {
      const Predictions predictions = model.predict(chunk, options);
      for (Index k = 0; k < n_new; ++k)
        std::copy(predictions.columns[std::size_t(k)].begin(), predictions.columns[std::size_t(k)].end(),
                  mine.begin() + k * mine_rows + (row - mine_first));
    }
    row += rows;
  }
  const std::vector<double> all = ranks.gather(mine);
  FilePrediction counts;
  if (!ranks.root()) return counts;
  // Rank 0 writes the copy: row i of new column k is at rank r's block, rank r the one whose
  // rows hold i.
  std::vector<std::vector<double>> values(static_cast<std::size_t>(n_new), std::vector<double>(std::size_t(total)));
  std::size_t offset = 0;
  for (int r = 0; r < ranks.size(); ++r) {
    const Index first = first_row(r), rows = first_row(r + 1) - first;
    for (Index k = 0; k < n_new; ++k, offset += std::size_t(rows))
      std::copy(all.begin() + std::ptrdiff_t(offset), all.begin() + std::ptrdiff_t(offset) + rows,
                values[std::size_t(k)].begin() + first);
  }
  const auto flags = std::find(names.begin(), names.end(), kFlagsColumn);
  if (flags == names.end()) throw Error(str("predict: the model's outputs have no ", kFlagsColumn, " column"));
  count_chunk(values[0], values[std::size_t(flags - names.begin())], counts);
  CatalogAugmenter augmenter(in, out, names, {table, columns});
  std::vector<std::vector<double>> chunk_values(static_cast<std::size_t>(n_new));
  for (Index row = 0; augmenter.next(chunk_rows, chunk); row += chunk.rows()) {
    for (Index k = 0; k < n_new; ++k)
      chunk_values[std::size_t(k)].assign(values[std::size_t(k)].begin() + row,
                                          values[std::size_t(k)].begin() + row + chunk.rows());
    augmenter.write(chunk_values);
  }
  augmenter.commit();
  return counts;
}

}  // namespace nn
