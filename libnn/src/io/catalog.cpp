#include "nn/catalog.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "catalog_format.h"

namespace nn {

using catalog_detail::Format;

Catalog::Catalog(std::string source) : source_(std::move(source)) {}

Catalog::Catalog(std::string source, Index rows) : source_(std::move(source)), rows_(rows), rows_fixed_(true) {
  if (rows < 0) throw Error(str("catalogue '", source_, "': negative row count ", rows));
}

bool Catalog::has(const std::string& name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

const std::vector<double>& Catalog::column(const std::string& name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) throw Error(missing_column_message(source_, name, names_));
  return columns_[static_cast<std::size_t>(it - names_.begin())];
}

void Catalog::add_column(std::string name, std::vector<double> values, ColumnInfo info) {
  if (has(name)) throw Error(str("catalogue '", source_, "' already has a column '", name, "'"));
  const auto size = static_cast<Index>(values.size());
  if (names_.empty() && !rows_fixed_) rows_ = size;
  if (size != rows_) {
    throw Error(str("column '", name, "' has ", size, " values but catalogue '", source_, "' has ", rows_, " rows"));
  }
  names_.push_back(std::move(name));
  columns_.push_back(std::move(values));
  infos_.push_back(std::move(info));
}

namespace catalog_detail {

FileFormat file_format(const std::filesystem::path& path) {
  std::string extension = to_lower(path.extension().string());
  const bool gzip = extension == ".gz";
  if (gzip) extension = to_lower(path.stem().extension().string());
  if (extension == ".fits" || extension == ".fit" || extension == ".fts") return {Format::fits, gzip};
  if (extension == ".csv" && !gzip) return {Format::csv, false};
  if (extension == ".csv") {
    throw Error(str("'", path.string(), "': compressed CSV is not supported; decompress it first"));
  }
  throw Error(str("'", path.string(), "': unknown catalogue format; use .fits, .fit, .fts (optionally .gz) or .csv"));
}

const char* to_string(Format format) { return format == Format::csv ? "CSV" : "FITS"; }

void require_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw Error(str("catalogue file '", path.string(), "' does not exist or is not a regular file"));
  }
}

void refuse_same_file(const std::filesystem::path& in, const std::filesystem::path& out, const std::string& action) {
  std::error_code error;
  if (std::filesystem::equivalent(in, out, error))
    throw Error(str(action, ": '", out.string(), "' is that very file; give another output file"));
}

void require_writable_format(const std::filesystem::path& path) {
  if (file_format(path).gzip) {
    throw Error(str("cannot write '", path.string(), "': compressed catalogues are read-only; write '",
                    path.stem().string(), "' and compress it afterwards"));
  }
}

std::unique_ptr<ChunkSource> open_source(const std::filesystem::path& path, const CatalogOptions& options) {
  const FileFormat format = file_format(path);
  require_file(path);
  return format.format == Format::csv ? open_csv_source(path, options) : open_fits_source(path, options);
}

std::unique_ptr<ChunkSink> create_sink(const std::filesystem::path& path, const std::vector<std::string>& names,
                                       Index rows_hint, const std::vector<ColumnInfo>& infos,
                                       const std::vector<FitsKeyword>& keywords) {
  require_writable_format(path);
  if (file_format(path).format == Format::csv) return create_csv_sink(path, names);
  return create_fits_sink(path, names, rows_hint, infos, keywords);
}

}  // namespace catalog_detail

namespace {

// Rows per chunk when whole files are read or converted: large enough to amortise the
// per-chunk work, small enough to stay far below memory.
constexpr Index chunk_rows = 65536;

}  // namespace

Catalog read_catalog(const std::filesystem::path& path, const CatalogOptions& options) {
  const auto source = catalog_detail::open_source(path, options);
  std::vector<std::vector<double>> columns(source->names().size());
  Index rows = 0;
  while (const Index read = source->read(chunk_rows, columns)) rows += read;
  Catalog catalog(path.string(), rows);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    catalog.add_column(source->names()[c], std::move(columns[c]));
  }
  return catalog;
}

void write_catalog(const std::filesystem::path& path, const Catalog& catalog) { write_catalog(path, catalog, {}); }

void write_catalog(const std::filesystem::path& path, const Catalog& catalog,
                   const std::vector<FitsKeyword>& keywords) {
  if (!keywords.empty() && catalog_detail::file_format(path).format != Format::fits)
    throw Error(str("cannot write '", path.string(), "': its header keywords (", keywords.front().name,
                    ", ...) need a FITS file"));
  std::vector<ColumnInfo> infos;
  for (std::size_t k = 0; k < catalog.names().size(); ++k) infos.push_back(catalog.info(k));
  const auto sink = catalog_detail::create_sink(path, catalog.names(), catalog.rows(), infos, keywords);
  std::vector<std::span<const double>> columns;
  for (const std::string& name : catalog.names()) columns.emplace_back(catalog.column(name));
  sink->write(columns);
  sink->commit();
}

std::vector<std::string> integer_columns(const std::filesystem::path& path, const CatalogOptions& options) {
  std::vector<std::string> names;
  if (catalog_detail::file_format(path).format == Format::csv) {
    const Catalog table = read_catalog(path, options);
    for (const std::string& name : table.names()) {
      const std::vector<double>& v = table.column(name);
      if (std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x) && x == std::trunc(x); }))
        names.push_back(name);
    }
    return names;
  }
  for (const catalog_detail::HeaderColumn& c : catalog_detail::fits_copy_exactness(path, options))
    if (c.integer && c.unreadable.empty()) names.push_back(c.name);
  return names;
}

namespace {

// convert carries numbers as doubles: a column it would drop (text, bits, vectors) or round
// (64-bit integers such as object ids) is refused by name, never lost without a word.
void refuse_inexact_columns(const std::filesystem::path& in, const CatalogOptions& options,
                            const std::vector<std::string>& carried) {
  std::vector<catalog_detail::HeaderColumn> columns;
  if (catalog_detail::file_format(in).format == Format::csv) {
    for (const std::string& name : catalog_detail::csv_column_names(in, options))
      columns.push_back({name, std::find(carried.begin(), carried.end(), name) == carried.end() ? "holds text" : ""});
  } else {
    columns = catalog_detail::fits_copy_exactness(in, options);
  }
  for (const catalog_detail::HeaderColumn& c : columns) {
    const bool wanted = options.columns.empty() ||
                        std::find(options.columns.begin(), options.columns.end(), c.name) != options.columns.end();
    if (wanted && !c.unreadable.empty())
      throw Error(str("cannot convert '", in.string(), "' exactly: column '", c.name, "' ", c.unreadable,
                      ", and convert carries numbers as doubles; leave it out with --columns (the others)"));
  }
}

}  // namespace

void convert_catalog(const std::filesystem::path& in, const std::filesystem::path& out, const CatalogOptions& options) {
  catalog_detail::refuse_same_file(in, out, str("cannot convert '", in.string(), "' into itself"));
  const auto source = catalog_detail::open_source(in, options);
  refuse_inexact_columns(in, options, source->names());
  const auto sink = catalog_detail::create_sink(out, source->names(), 0);
  std::vector<std::vector<double>> columns(source->names().size());
  while (source->read(chunk_rows, columns) > 0) {
    sink->write(std::vector<std::span<const double>>(columns.begin(), columns.end()));
    for (auto& column : columns) column.clear();
  }
  sink->commit();
}

std::vector<std::string> catalog_columns(const std::filesystem::path& path, const CatalogOptions& options) {
  const catalog_detail::FileFormat format = catalog_detail::file_format(path);
  catalog_detail::require_file(path);
  return format.format == Format::csv ? catalog_detail::csv_column_names(path, options)
                                      : catalog_detail::fits_column_names(path, options);
}

}  // namespace nn
