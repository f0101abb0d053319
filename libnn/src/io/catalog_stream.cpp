// Streaming catalogues: chunked reading, and the augmented copy that `starnn predict` writes.
#include "catalog_format.h"

namespace nn {
namespace {

using catalog_detail::ChunkSource;

void check_chunk_rows(Index max_rows) {
  if (max_rows <= 0) throw Error(str("chunk size must be positive, not ", max_rows));
}

// Reads the next chunk of `source` into `chunk`; false when none is left.
bool next_chunk(ChunkSource& source, const std::filesystem::path& path, Index max_rows, Catalog& chunk) {
  check_chunk_rows(max_rows);
  std::vector<std::vector<double>> columns(source.names().size());
  const Index rows = source.read(max_rows, columns);
  chunk = Catalog(path.string(), rows);
  for (std::size_t c = 0; c < columns.size(); ++c) chunk.add_column(source.names()[c], std::move(columns[c]));
  return rows > 0;
}

void check_augment_paths(const std::filesystem::path& in, const std::filesystem::path& out) {
  const auto in_format = catalog_detail::file_format(in);
  const auto out_format = catalog_detail::file_format(out);
  catalog_detail::require_file(in);
  catalog_detail::require_writable_format(out);
  if (in_format.format != out_format.format) {
    throw Error(str("cannot add columns to '", in.string(), "' (", to_string(in_format.format), ") in '", out.string(),
                    "' (", to_string(out_format.format),
                    "): input and output must have the same format; convert the input first with `starnn convert`"));
  }
  catalog_detail::refuse_same_file(in, out, str("cannot add columns to '", in.string(), "' in place"));
}

}  // namespace

CatalogReader::CatalogReader(const std::filesystem::path& path, const CatalogOptions& options)
    : path_(path), source_(catalog_detail::open_source(path, options)) {}

CatalogReader::~CatalogReader() = default;
CatalogReader::CatalogReader(CatalogReader&&) noexcept = default;
CatalogReader& CatalogReader::operator=(CatalogReader&&) noexcept = default;

Index CatalogReader::total_rows() const { return source_->total_rows(); }
const std::vector<std::string>& CatalogReader::names() const { return source_->names(); }

bool CatalogReader::next(Index max_rows, Catalog& chunk) { return next_chunk(*source_, path_, max_rows, chunk); }

CatalogAugmenter::CatalogAugmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                                   std::vector<std::string> new_columns, const CatalogOptions& options)
    : path_(in), new_columns_(std::move(new_columns)) {
  check_augment_paths(in, out);
  impl_ = catalog_detail::file_format(in).format == catalog_detail::Format::csv
              ? catalog_detail::open_csv_augmenter(in, out, new_columns_, options)
              : catalog_detail::open_fits_augmenter(in, out, new_columns_, options);
}

CatalogAugmenter::~CatalogAugmenter() = default;
CatalogAugmenter::CatalogAugmenter(CatalogAugmenter&&) noexcept = default;
CatalogAugmenter& CatalogAugmenter::operator=(CatalogAugmenter&&) noexcept = default;

Index CatalogAugmenter::total_rows() const { return impl_->total_rows(); }
const std::vector<std::string>& CatalogAugmenter::names() const { return impl_->names(); }

bool CatalogAugmenter::next(Index max_rows, Catalog& chunk_inputs) {
  if (pending_rows_ >= 0) throw Error("CatalogAugmenter::next() before the previous chunk was written");
  if (finished_) return false;
  finished_ = !next_chunk(*impl_, path_, max_rows, chunk_inputs);
  if (!finished_) pending_rows_ = chunk_inputs.rows();
  return !finished_;
}

void CatalogAugmenter::write(const std::vector<std::vector<double>>& new_values) {
  if (pending_rows_ < 0) throw Error("CatalogAugmenter::write() without a chunk from next()");
  if (new_values.size() != new_columns_.size()) {
    throw Error(
        str("CatalogAugmenter::write() got ", new_values.size(), " columns for ", new_columns_.size(), " new columns"));
  }
  for (std::size_t c = 0; c < new_values.size(); ++c) {
    if (static_cast<Index>(new_values[c].size()) != pending_rows_) {
      throw Error(str("new column '", new_columns_[c], "' has ", new_values[c].size(), " values for a chunk of ",
                      pending_rows_, " rows"));
    }
  }
  impl_->write(new_values);
  pending_rows_ = -1;
}

void CatalogAugmenter::commit() {
  if (pending_rows_ >= 0 || !finished_) {
    throw Error(str("CatalogAugmenter::commit() before every row of '", path_.string(), "' was read and written"));
  }
  impl_->commit();
}

}  // namespace nn
