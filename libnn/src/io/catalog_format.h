#pragma once
// Catalogue internals shared by the format files: the format of a path, the missing-value
// rule, column selection and its messages, and the chunked source, sink and augmenter
// interfaces that each format implements.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nn/catalog.h"

namespace nn::catalog_detail {

enum class Format { csv, fits };

struct FileFormat {
  Format format;
  bool gzip;
};

// Throws for an extension that names no supported format.
FileFormat file_format(const std::filesystem::path& path);
const char* to_string(Format format);
// Throws when a catalogue to read does not exist, so every format words it the same way.
void require_file(const std::filesystem::path& path);
// Throws for compressed outputs, which are read-only.
void require_writable_format(const std::filesystem::path& path);
// Throws when out is in (by another spelling, a symbolic or a hard link): writing it would
// destroy the input. `action` starts the message: "cannot convert 'in'".
void refuse_same_file(const std::filesystem::path& in, const std::filesystem::path& out, const std::string& action);

inline std::string to_lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

inline std::string trim_spaces(const std::string& text) {
  const auto first = text.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// A column as a header describes it; `unreadable` says why it cannot be read as numbers
// ("holds text", ...) and is empty when it can.
struct HeaderColumn {
  std::string name;
  std::string unreadable;
  bool wide_integers = false;  // 64-bit integers: read as doubles, exact only up to 2^53
  bool integer = false;        // an integer type, unscaled (B, I, J, K)
};

// Why `convert` could not carry a column exactly, or "" when it can: the catalogue's columns
// with the reason for each (text, bits, vectors, 64-bit integers such as object ids).
std::vector<HeaderColumn> fits_copy_exactness(const std::filesystem::path& path, const CatalogOptions& options);

// The header positions of the requested columns, or of every readable column when none are
// requested; throws for absent, repeated or unreadable ones.
std::vector<std::size_t> select_columns(const std::string& source, const std::vector<HeaderColumn>& header,
                                        const std::vector<std::string>& requested);

// Throws when a column to add is unnamed, repeated, or already among `existing`.
void check_new_columns(const std::string& source, const std::vector<std::string>& existing,
                       const std::vector<std::string>& new_columns);

// Reads the selected columns of a table a chunk at a time.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  virtual Index total_rows() const = 0;
  virtual const std::vector<std::string>& names() const = 0;
  // Appends up to max_rows further rows to `columns` (one vector per name) and returns how
  // many; 0 at the end.
  virtual Index read(Index max_rows, std::vector<std::vector<double>>& columns) = 0;
};

// Writes a new catalogue chunk by chunk into a temporary; the destructor without commit()
// leaves the target untouched.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // One span per column of the sink, all of the same length.
  virtual void write(const std::vector<std::span<const double>>& columns) = 0;
  virtual void commit() = 0;
};

class ChunkAugmenter : public ChunkSource {
 public:
  // One vector per new column, for the rows of the last read().
  virtual void write(const std::vector<std::vector<double>>& new_values) = 0;
  virtual void commit() = 0;
};

std::unique_ptr<ChunkSource> open_csv_source(const std::filesystem::path& path, const CatalogOptions& options);
std::unique_ptr<ChunkSource> open_fits_source(const std::filesystem::path& path, const CatalogOptions& options);
std::unique_ptr<ChunkSource> open_source(const std::filesystem::path& path, const CatalogOptions& options);

// rows_hint lets a FITS table be sized once; it may be 0. infos: one per name (units and
// integer kinds, FITS only), or empty for D columns without units.
std::unique_ptr<ChunkSink> create_csv_sink(const std::filesystem::path& path, const std::vector<std::string>& names);
std::unique_ptr<ChunkSink> create_fits_sink(const std::filesystem::path& path, const std::vector<std::string>& names,
                                            Index rows_hint, const std::vector<ColumnInfo>& infos = {},
                                            const std::vector<FitsKeyword>& keywords = {});
std::unique_ptr<ChunkSink> create_sink(const std::filesystem::path& path, const std::vector<std::string>& names,
                                       Index rows_hint, const std::vector<ColumnInfo>& infos = {},
                                       const std::vector<FitsKeyword>& keywords = {});

std::unique_ptr<ChunkAugmenter> open_csv_augmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                                                   const std::vector<std::string>& new_columns,
                                                   const CatalogOptions& options);
std::unique_ptr<ChunkAugmenter> open_fits_augmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                                                    const std::vector<std::string>& new_columns,
                                                    const CatalogOptions& options);

std::vector<std::string> csv_column_names(const std::filesystem::path& path, const CatalogOptions& options);
std::vector<std::string> fits_column_names(const std::filesystem::path& path, const CatalogOptions& options);

}  // namespace nn::catalog_detail
