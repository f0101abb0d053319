// Writing FITS binary tables of D columns, and the augmented copy: every HDU of the input
// copied by CFITSIO, new D columns inserted into the table HDU and filled chunk by chunk.
#include <algorithm>
#include <cmath>
#include <limits>

#include "catalog_fits.h"
#include "nn/data.h"
#include "temporary_file.h"

namespace nn::catalog_detail {
namespace {

// A FITS string value holds at most 68 characters of printable ASCII; CFITSIO would
// truncate a longer name silently.
constexpr std::size_t fits_name_max = 68;

void check_fits_names(const std::filesystem::path& target, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const bool printable = std::all_of(name.begin(), name.end(), [](char c) { return c >= ' ' && c <= '~'; });
    if (name.size() > fits_name_max || !printable) {
      throw Error(str("cannot write '", target.string(), "': column name '", name,
                      "' is not a FITS column name (at most 68 printable ASCII characters)"));
    }
  }
}

// Names and forms of new columns as the char** that CFITSIO takes: D, but K for the flags
// column (data.h), whose whole-number values CFITSIO converts as it writes them, and for the
// columns `infos` marks integer.
class DoubleColumns {
 public:
  DoubleColumns(const std::filesystem::path& target, const std::vector<std::string>& names,
                const std::vector<ColumnInfo>& infos = {})
      : types_(names), forms_(names.size(), "1D") {
    check_fits_names(target, names);
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (names[c] == kFlagsColumn || (c < infos.size() && infos[c].integer)) forms_[c] = "1K";
      type_pointers_.push_back(types_[c].data());
      form_pointers_.push_back(forms_[c].data());
    }
  }
  DoubleColumns(const DoubleColumns&) = delete;
  DoubleColumns& operator=(const DoubleColumns&) = delete;

  int count() const { return static_cast<int>(types_.size()); }
  char** types() { return type_pointers_.data(); }
  char** forms() { return form_pointers_.data(); }

 private:
  std::vector<std::string> types_, forms_;
  std::vector<char*> type_pointers_, form_pointers_;
};

// Writes `columns` as the table columns from number `first_column` on (from 1), rows from
// `first_row` (from 0). Row blocks of the size CFITSIO reports as optimal keep its buffers
// hot across the columns of a block; written column after column, each column would stream
// through the whole table. The values go through a scratch copy because CFITSIO may
// byte-swap the caller's array in place.
// An integer column's values as int64, NaN as the column's TNULL; an nn::Error naming the column
// for a value that is not a whole number a double holds exactly.
constexpr LONGLONG kIntegerNull = std::numeric_limits<LONGLONG>::min();
void to_integers(std::span<const double> values, const std::filesystem::path& target, const std::string& name,
                 std::vector<LONGLONG>& out) {
  out.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (std::isnan(v)) {
      out[i] = kIntegerNull;
    } else if (v == std::trunc(v) && std::abs(v) <= 0x1p53) {
      out[i] = LONGLONG(v);
    } else {
      throw Error(str("cannot write '", target.string(), "': integer column '", name, "' holds ", v,
                      ", not a whole number within 2^53"));
    }
  }
}

void write_rows(fitsfile* file, const std::filesystem::path& target, int first_column, Index first_row,
                const std::vector<std::span<const double>>& columns, std::vector<double>& scratch,
                const std::vector<std::string>& names = {}, const std::vector<ColumnInfo>& infos = {}) {
  const std::size_t rows = columns.empty() ? 0 : columns.front().size();
  int status = 0;
  long block = 0;
  fits_get_rowsize(file, &block, &status);
  check_fits(status, target, "sizing row blocks");
  const std::size_t block_rows = static_cast<std::size_t>(std::max(block, 1L));
  for (std::size_t done = 0; done < rows; done += block_rows) {
    const std::size_t count = std::min(block_rows, rows - done);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const auto block_values = columns[c].subspan(done, count);
      const int column = first_column + static_cast<int>(c);
      if (c < infos.size() && infos[c].integer) {
        std::vector<LONGLONG> integers;
        to_integers(block_values, target, names.at(c), integers);
        fits_write_col(file, TLONGLONG, column, first_row + static_cast<Index>(done) + 1, 1,
                       static_cast<LONGLONG>(count), integers.data(), &status);
        check_fits(status, target, str("writing column ", column));
        continue;
      }
      scratch.assign(block_values.begin(), block_values.end());
      fits_write_col(file, TDOUBLE, column, first_row + static_cast<Index>(done) + 1, 1, static_cast<LONGLONG>(count),
                     scratch.data(), &status);
      check_fits(status, target, str("writing column ", first_column + static_cast<int>(c)));
    }
  }
}

class FitsSink final : public ChunkSink {
 public:
  FitsSink(const std::filesystem::path& path, const std::vector<std::string>& names, Index rows_hint,
           const std::vector<ColumnInfo>& infos, const std::vector<FitsKeyword>& keywords)
      : temp_(path), file_(create_fits(temp_.path(), path)), names_(names), infos_(infos) {
    DoubleColumns columns(path, names, infos);
    int status = 0;
    char extname[] = "CATALOG";
    fits_create_tbl(file_.get(), BINARY_TBL, rows_hint, columns.count(), columns.types(), columns.forms(), nullptr,
                    extname, &status);
    check_fits(status, path, "creating the table");
    for (std::size_t c = 0; c < infos.size(); ++c) {
      const std::string n = std::to_string(c + 1);
      if (infos[c].unit) fits_write_key_str(file_.get(), ("TUNIT" + n).c_str(), infos[c].unit->c_str(), "", &status);
      if (infos[c].integer) fits_write_key_lng(file_.get(), ("TNULL" + n).c_str(), kIntegerNull, "missing", &status);
      check_fits(status, path, str("describing column ", names[c]));
    }
    for (const FitsKeyword& k : keywords) {
      if (const auto* text = std::get_if<std::string>(&k.value))
        fits_write_key_str(file_.get(), k.name.c_str(), text->c_str(), k.comment.c_str(), &status);
      else
        fits_write_key_lng(file_.get(), k.name.c_str(), std::get<long long>(k.value), k.comment.c_str(), &status);
      check_fits(status, path, str("writing keyword ", k.name));
    }
  }

  void write(const std::vector<std::span<const double>>& columns) override {
    write_rows(file_.get(), temp_.target(), 1, next_row_, columns, scratch_, names_, infos_);
    next_row_ += columns.empty() ? 0 : static_cast<Index>(columns.front().size());
  }

  void commit() override {
    close_fits(file_, temp_.target());
    temp_.commit();
  }

 private:
  TemporaryFile temp_;  // declared first so that the file is closed before the temporary is removed
  FitsHandle file_;
  std::vector<std::string> names_;
  std::vector<ColumnInfo> infos_;
  Index next_row_ = 0;
  std::vector<double> scratch_;
};

bool has_keyword(fitsfile* file, const char* keyword) {
  int status = 0;
  char card[FLEN_CARD] = "";
  fits_read_card(file, keyword, card, &status);
  fits_clear_errmsg();
  return status == 0;
}

class FitsAugmenter final : public ChunkAugmenter {
 public:
  FitsAugmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                const std::vector<std::string>& new_columns, const CatalogOptions& options)
      : source_(in, options), temp_(out) {
    std::vector<std::string> existing;
    for (const HeaderColumn& column : source_.header()) existing.push_back(column.name);
    check_new_columns(in.string(), existing, new_columns);
    DoubleColumns added(out, new_columns);
    require_binary_table(in);
    file_ = create_fits(temp_.path(), out);
    int status = 0, type = 0, columns = 0;
    fits_copy_file(source_.file(), file_.get(), 1, 1, 1, &status);
    check_fits(status, out, str("copying '", in.string(), "'"));
    // Copying moves the input to its last HDU; reading goes on from the table.
    fits_movabs_hdu(source_.file(), source_.hdu(), &type, &status);
    fits_movabs_hdu(file_.get(), source_.hdu(), &type, &status);
    fits_get_num_cols(file_.get(), &columns, &status);
    check_fits(status, out, "moving to the copied table");
    first_new_ = columns + 1;
    checksum_ = has_keyword(file_.get(), "CHECKSUM") || has_keyword(file_.get(), "DATASUM");
    fits_insert_cols(file_.get(), first_new_, added.count(), added.types(), added.forms(), &status);
    check_fits(status, out, "adding columns");
  }

  Index total_rows() const override { return source_.total_rows(); }
  const std::vector<std::string>& names() const override { return source_.names(); }

  Index read(Index max_rows, std::vector<std::vector<double>>& columns) override {
    chunk_first_row_ += chunk_rows_;
    chunk_rows_ = source_.read(max_rows, columns);
    return chunk_rows_;
  }

  void write(const std::vector<std::vector<double>>& new_values) override {
    write_rows(file_.get(), temp_.target(), first_new_, chunk_first_row_,
               std::vector<std::span<const double>>(new_values.begin(), new_values.end()), scratch_);
  }

  void commit() override {
    // A stale checksum would make the copy look corrupt to verifiers.
    if (checksum_) {
      int status = 0;
      fits_write_chksum(file_.get(), &status);
      check_fits(status, temp_.target(), "updating the checksum");
    }
    close_fits(file_, temp_.target());
    temp_.commit();
  }

 private:
  // Columns added to an ASCII table would be text, not the D columns promised.
  void require_binary_table(const std::filesystem::path& in) const {
    int status = 0, type = 0;
    fits_get_hdu_type(source_.file(), &type, &status);
    check_fits(status, in, "reading the HDU type");
    if (type != BINARY_TBL) {
      throw Error(str("FITS file '", in.string(),
                      "' holds an ASCII table; convert it to a binary table first (starnn convert)"));
    }
  }

  FitsSource source_;
  TemporaryFile temp_;  // before the file, so that the file is closed before the temporary goes
  FitsHandle file_;
  int first_new_ = 0;
  bool checksum_ = false;
  Index chunk_first_row_ = 0;
  Index chunk_rows_ = 0;
  std::vector<double> scratch_;
};

}  // namespace

std::unique_ptr<ChunkSink> create_fits_sink(const std::filesystem::path& path, const std::vector<std::string>& names,
                                            Index rows_hint, const std::vector<ColumnInfo>& infos,
                                            const std::vector<FitsKeyword>& keywords) {
  return std::make_unique<FitsSink>(path, names, rows_hint, infos, keywords);
}

std::unique_ptr<ChunkAugmenter> open_fits_augmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                                                    const std::vector<std::string>& new_columns,
                                                    const CatalogOptions& options) {
  return std::make_unique<FitsAugmenter>(in, out, new_columns, options);
}

}  // namespace nn::catalog_detail
