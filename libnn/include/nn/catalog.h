#pragma once
// Catalogues: the astronomical tables that nets train on and predict for, as in-memory
// tables of numeric columns, read whole or streamed in chunks from FITS or CSV files.
//
// Formats go by extension: .fits .fit .fts (each optionally .gz, read-only) are FITS
// binary or ASCII tables read through CFITSIO; .csv is comma-separated text with a header
// row and optionally quoted fields.
//
// Missing values, one rule for every format: a value is missing when it is NaN, a FITS
// null (TNULL of an integer column, an undefined logical), the CSV text `nan` (any letter
// case) or an empty field, or exactly 99 or -99 in any spelling (99, 99.0, -99.000), the
// surveys' placeholder magnitudes. The rule applies to every column, not only magnitudes.
// Missing values are NaN in a Catalog.
//
// Every numeric FITS type (B, I, J, K, E, D, scaled or not, and L as 0/1) reads as double,
// E and D bit for bit (-0, subnormals and infinities included); int64 values beyond 2^53
// are rounded by that, which is why the augmented copy copies the original columns instead
// of rewriting them.
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nn/tensor.h"

namespace nn {

// The missing-value rule above for one value, for tables that come from elsewhere (numpy
// arrays, another code's columns) as for the readers. Every missing value becomes the same NaN,
// so that copies of a catalogue compare equal bit for bit.
inline double missing_to_nan(double value) {
  return std::isnan(value) || value == 99.0 || value == -99.0 ? std::nan("") : value;
}

// The readers' nn::Error for a column that `source` lacks: it names both, offers the names a
// typo most likely meant and lists the columns there are. For tables held in memory elsewhere.
NN_API std::string missing_column_message(const std::string& source, const std::string& name,
                                          const std::vector<std::string>& available);

// What a writer records of a column besides its values: its unit (FITS TUNITn; an empty unit
// is a dimensionless number, no unit written at all is "not stated"), and whether its values are
// whole numbers to be written as such (FITS K, 64-bit, with NaN as the TNULLn value; an error
// names a value that is not whole or beyond 2^53, where a double no longer holds every integer).
// CSV keeps neither: its numbers print the same either way.
struct ColumnInfo {
  std::optional<std::string> unit;
  bool integer = false;
};

// A table of named numeric columns of equal length. Names are case-sensitive and unique.
class NN_API Catalog {
 public:
  // source names the catalogue in messages (usually its file). A catalogue built without
  // a row count takes it from its first column.
  explicit Catalog(std::string source = {});
  Catalog(std::string source, Index rows);

  Index rows() const { return rows_; }
  const std::vector<std::string>& names() const { return names_; }
  const std::string& source() const { return source_; }
  bool has(const std::string& name) const;
  // Throws an nn::Error naming the source and the column, with close and available names.
  const std::vector<double>& column(const std::string& name) const;
  // The column must be new and have rows() values.
  void add_column(std::string name, std::vector<double> values, ColumnInfo info = {});
  // Column k's unit and kind, in the order of names().
  const ColumnInfo& info(std::size_t k) const { return infos_.at(k); }

 private:
  std::string source_;
  Index rows_ = 0;
  bool rows_fixed_ = false;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> columns_;
  std::vector<ColumnInfo> infos_;
};

struct CatalogOptions {
  // FITS only: the table's HDU, by EXTNAME (case-insensitive) or by number (0 is the
  // primary HDU, 1 the first extension). Empty: the first table HDU.
  std::string hdu = {};
  // Read only these columns, in this order. Empty: every numeric column (string, bit and
  // vector columns are skipped; requesting one is an error).
  std::vector<std::string> columns = {};
};

// CSV rules: a column name that the header repeats can be neither requested nor read as
// part of "every column" (the error names it); other columns of such a file read fine.
// A requested column holding text that is not a number is an error naming file, line and
// column; when reading every column such columns are skipped, which takes one extra pass
// over the file to find them.
NN_API Catalog read_catalog(const std::filesystem::path& path, const CatalogOptions& options = {});

// Writes CSV (shortest round-trip doubles, NaN as `nan`) or a FITS binary table of D
// columns (NaN stays NaN), by extension. Atomic: the file appears complete or not at all,
// and an existing file is replaced only on success.
NN_API void write_catalog(const std::filesystem::path& path, const Catalog& catalog);

// A keyword of a FITS table's header: a text value (quoted in the card) or a whole number.
struct FitsKeyword {
  std::string name;
  std::variant<std::string, long long> value;
  std::string comment;
};
// As write_catalog, to a FITS file only, with these keywords in the table's header (a HEALPix
// map's PIXTYPE, NSIDE, ...).
NN_API void write_catalog(const std::filesystem::path& path, const Catalog& catalog,
                          const std::vector<FitsKeyword>& keywords);

// Copies the numeric columns of one catalogue file into another (CSV <-> FITS or the
// same format), chunk by chunk, atomically.
NN_API void convert_catalog(const std::filesystem::path& in, const std::filesystem::path& out,
                            const CatalogOptions& options = {});

// The table's integer columns, in order: FITS columns of an integer type (B, I, J, K, unscaled),
// CSV columns whose every value is a whole number (which reads the file).
NN_API std::vector<std::string> integer_columns(const std::filesystem::path& path, const CatalogOptions& options = {});

// The names of all columns of the file's table, numeric or not, from its header.
NN_API std::vector<std::string> catalog_columns(const std::filesystem::path& path, const CatalogOptions& options = {});

// Column expressions, where spaces around names, operators and numbers are allowed:
//   expression := operand | operand OP number       OP := "<" | ">" | "<=" | ">="
//   operand    := column | column "-" column        (a colour: column a minus column b)
// A comparison is 1 where it holds and 0 where it does not (e.g. "LOGG_ADOP < 3.5" labels
// giants for a classifier); the number is a finite decimal ("3.5", "-1e-2"), anything else
// is an nn::Error naming the expression. A column literally named like the expression
// wins. Missing values propagate as NaN, through colours and comparisons alike.
NN_API std::vector<double> evaluate_column(const Catalog& catalog, const std::string& expression);

// The plain columns that `expressions` need, in first-use order without repeats, given the
// columns that exist (e.g. from catalog_columns), so that a reader asks only for those.
// An expression that resolves to nothing is returned as it is, so that reading it reports
// the missing column.
NN_API std::vector<std::string> expression_columns(const std::vector<std::string>& expressions,
                                                   const std::vector<std::string>& available);

// expression_columns against the columns of the file's table: what to read for `expressions`.
NN_API std::vector<std::string> needed_columns(const std::filesystem::path& path,
                                               const std::vector<std::string>& expressions,
                                               const std::string& hdu = {});

namespace catalog_detail {
class ChunkSource;
class ChunkAugmenter;
}  // namespace catalog_detail

// Streams a catalogue too large for memory: each next() replaces `chunk` by up to
// max_rows further rows of the requested columns and returns false once none are left.
class NN_API CatalogReader {
 public:
  explicit CatalogReader(const std::filesystem::path& path, const CatalogOptions& options = {});
  ~CatalogReader();
  CatalogReader(CatalogReader&&) noexcept;
  CatalogReader& operator=(CatalogReader&&) noexcept;

  // For CSV the first call counts the records, one pass over the file.
  Index total_rows() const;
  // The columns each chunk holds.
  const std::vector<std::string>& names() const;
  bool next(Index max_rows, Catalog& chunk);

 private:
  std::filesystem::path path_;
  std::unique_ptr<catalog_detail::ChunkSource> source_;
};

// Writes a copy of a catalogue with new numeric columns appended, chunk by chunk, keeping
// every original column verbatim: FITS copies every HDU and inserts D columns into the
// table (a binary table: ASCII tables must be converted first); CSV copies each line's text
// and appends fields. Input and output must be the same format. Use:
//   while (augmenter.next(n, inputs)) augmenter.write(values computed from inputs);
//   augmenter.commit();
// Without commit() (an exception, say) the output is never created.
class NN_API CatalogAugmenter {
 public:
  CatalogAugmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                   std::vector<std::string> new_columns, const CatalogOptions& options = {});
  ~CatalogAugmenter();
  CatalogAugmenter(CatalogAugmenter&&) noexcept;
  CatalogAugmenter& operator=(CatalogAugmenter&&) noexcept;

  Index total_rows() const;
  // The input columns each chunk holds.
  const std::vector<std::string>& names() const;
  // Reads the next chunk of input; the previous chunk must have been written.
  bool next(Index max_rows, Catalog& chunk_inputs);
  // One vector per new column, each with the rows of the chunk from the last next().
  void write(const std::vector<std::vector<double>>& new_values);
  // Publishes the output; every row must have been read and written.
  void commit();

 private:
  std::filesystem::path path_;
  std::unique_ptr<catalog_detail::ChunkAugmenter> impl_;
  std::vector<std::string> new_columns_;
  Index pending_rows_ = -1;  // rows of the chunk awaiting write(), -1 when none
  bool finished_ = false;
};

}  // namespace nn
