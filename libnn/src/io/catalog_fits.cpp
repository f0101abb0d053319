// Reading FITS tables through CFITSIO. Values are converted to double by CFITSIO itself,
// which applies TSCAL/TZERO and reports TNULL as null.
#include "catalog_fits.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

namespace nn::catalog_detail {
namespace {

std::string hdu_description(fitsfile* file, int number) {
  int status = 0, type = 0;
  fits_movabs_hdu(file, number, &type, &status);
  char extname[FLEN_VALUE] = "";
  fits_read_key(file, TSTRING, "EXTNAME", extname, nullptr, &status);
  fits_clear_errmsg();
  const char* kind = type == BINARY_TBL ? "binary table" : type == ASCII_TBL ? "ASCII table" : "image";
  return str(number - 1, status == 0 ? str(" '", extname, "'") : std::string(), " (", kind, ")");
}

std::string hdu_list(fitsfile* file) {
  int status = 0, count = 0;
  fits_get_num_hdus(file, &count, &status);
  std::string list;
  for (int number = 1; number <= count; ++number) {
    list += str(number > 1 ? ", " : "", hdu_description(file, number));
  }
  return list;
}

// An HDU given by number, counted as astropy does: 0 is the primary HDU.
std::optional<int> hdu_number(const std::string& hdu) {
  int number = 0;
  const auto [end, error] = std::from_chars(hdu.data(), hdu.data() + hdu.size(), number);
  if (error != std::errc{} || end != hdu.data() + hdu.size() || number < 0 ||
      number == std::numeric_limits<int>::max()) {
    return std::nullopt;
  }
  return number + 1;
}

int first_table(fitsfile* file, const std::filesystem::path& path) {
  int status = 0, count = 0, type = 0;
  fits_get_num_hdus(file, &count, &status);
  check_fits(status, path, "counting HDUs");
  for (int number = 1; number <= count; ++number) {
    fits_movabs_hdu(file, number, &type, &status);
    check_fits(status, path, str("reading HDU ", number - 1));
    if (type != IMAGE_HDU) return number;
  }
  throw Error(str("FITS file '", path.string(), "' has no table HDU; its HDUs are ", hdu_list(file)));
}

int selected_table(fitsfile* file, const std::filesystem::path& path, const std::string& hdu) {
  int status = 0, type = 0;
  if (const auto number = hdu_number(hdu)) {
    fits_movabs_hdu(file, *number, &type, &status);
  } else {
    std::string name = hdu;
    fits_movnam_hdu(file, ANY_HDU, name.data(), 0, &status);
    if (status == 0) fits_get_hdu_type(file, &type, &status);
  }
  if (status == BAD_HDU_NUM || status == END_OF_FILE) {
    fits_clear_errmsg();
    throw Error(str("FITS file '", path.string(), "' has no HDU '", hdu, "'; its HDUs are ", hdu_list(file)));
  }
  check_fits(status, path, str("moving to HDU '", hdu, "'"));
  if (type == IMAGE_HDU) {
    throw Error(str("HDU '", hdu, "' of FITS file '", path.string(), "' is an image, not a table; its HDUs are ",
                    hdu_list(file)));
  }
  int number = 0;
  fits_get_hdu_num(file, &number);
  return number;
}

std::string unreadable_reason(int type, long repeat) {
  if (type < 0) return "is a variable-length array";
  if (type == TSTRING) return "holds text";
  if (type == TBIT) return "holds bits";
  if (type == TCOMPLEX || type == TDBLCOMPLEX) return "holds complex numbers";
  if (repeat != 1) return str("holds ", repeat, " values per row, and only scalar columns can be read");
  return "";
}

}  // namespace

void check_fits(int status, const std::filesystem::path& path, const std::string& doing, std::source_location where) {
  if (status == 0) return;
  char reason[FLEN_STATUS] = "";
  fits_get_errstatus(status, reason);
  char detail[FLEN_ERRMSG] = "";
  // The first message on CFITSIO's stack is its most specific account of the failure.
  const bool has_detail = fits_read_errmsg(detail) != 0;
  fits_clear_errmsg();
  throw Error(str("FITS file '", path.string(), "': ", doing, " failed: ", reason,
                  has_detail ? str(" (", detail, ")") : std::string()),
              where);
}

FitsHandle open_fits(const std::filesystem::path& path) {
  check_before_cfitsio(path);
  fitsfile* file = nullptr;
  int status = 0;
  fits_open_diskfile(&file, path.c_str(), READONLY, &status);
  FitsHandle handle(file);
  check_fits(status, path, "opening");
  return handle;
}

FitsHandle create_fits(const std::filesystem::path& path, const std::filesystem::path& target) {
  fitsfile* file = nullptr;
  int status = 0;
  fits_create_diskfile(&file, path.c_str(), &status);
  FitsHandle handle(file);
  check_fits(status, target, "creating");
  return handle;
}

void close_fits(FitsHandle& file, const std::filesystem::path& target) {
  int status = 0;
  fits_close_file(file.release(), &status);
  check_fits(status, target, "closing");
}

int move_to_table(fitsfile* file, const std::filesystem::path& path, const std::string& hdu) {
  return hdu.empty() ? first_table(file, path) : selected_table(file, path, hdu);
}

std::vector<HeaderColumn> fits_header(fitsfile* file, const std::filesystem::path& path) {
  int status = 0, count = 0;
  fits_get_num_cols(file, &count, &status);
  check_fits(status, path, "counting columns");
  std::vector<HeaderColumn> header;
  for (int number = 1; number <= count; ++number) {
    char keyword[FLEN_KEYWORD] = "", name[FLEN_VALUE] = "";
    fits_make_keyn("TTYPE", number, keyword, &status);
    fits_read_key(file, TSTRING, keyword, name, nullptr, &status);
    const bool unnamed = status == KEY_NO_EXIST;
    if (unnamed) {
      status = 0;
      fits_clear_errmsg();
    }
    int type = 0;
    long repeat = 0, width = 0;
    fits_get_eqcoltype(file, number, &type, &repeat, &width, &status);
    check_fits(status, path, str("reading the type of column ", number));
    const bool integer = type == TBYTE || type == TSBYTE || type == TSHORT || type == TUSHORT || type == TINT ||
                         type == TUINT || type == TLONG || type == TULONG || type == TLONGLONG || type == TULONGLONG;
    header.push_back({name, unnamed ? "has no name (TTYPE)" : unreadable_reason(type, repeat),
                      type == TLONGLONG || type == TULONGLONG, integer});
  }
  return header;
}

std::vector<HeaderColumn> fits_copy_exactness(const std::filesystem::path& path, const CatalogOptions& options) {
  const FitsHandle file = open_fits(path);
  move_to_table(file.get(), path, options.hdu);
  std::vector<HeaderColumn> columns = fits_header(file.get(), path);
  int status = 0;
  LONGLONG rows = 0;
  fits_get_num_rowsll(file.get(), &rows, &status);
  check_fits(status, path, "counting rows");
  // 64-bit integers are exact as doubles up to 2^53 (flags, counts); beyond, as object ids are,
  // they round.
  constexpr LONGLONG exact = LONGLONG(1) << 53;
  std::vector<LONGLONG> values(std::size_t(std::min<LONGLONG>(rows, 1 << 16)));
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (!columns[c].unreadable.empty() || !columns[c].wide_integers) continue;
    for (LONGLONG first = 0; first < rows && columns[c].unreadable.empty(); first += LONGLONG(values.size())) {
      const LONGLONG count = std::min<LONGLONG>(LONGLONG(values.size()), rows - first);
      int any_null = 0;
      fits_read_col(file.get(), TLONGLONG, int(c) + 1, first + 1, 1, count, nullptr, values.data(), &any_null, &status);
      check_fits(status, path, str("reading column ", columns[c].name));
      for (LONGLONG r = 0; r < count; ++r)
        if (values[std::size_t(r)] > exact || values[std::size_t(r)] < -exact) {
          columns[c].unreadable = str("holds 64-bit integers beyond 2^53 (row ", first + r + 1, ": ",
                                      values[std::size_t(r)], "), which doubles round");
          break;
        }
    }
  }
  return columns;
}

FitsSource::FitsSource(const std::filesystem::path& path, const CatalogOptions& options)
    : path_(path), file_(open_fits(path)) {
  hdu_ = move_to_table(file_.get(), path, options.hdu);
  int status = 0, hdu_type = 0;
  fits_get_hdu_type(file_.get(), &hdu_type, &status);
  binary_table_ = hdu_type == BINARY_TBL;
  LONGLONG rows = 0;
  fits_get_num_rowsll(file_.get(), &rows, &status);
  check_fits(status, path, "counting rows");
  rows_ = rows;
  long block = 0;
  fits_get_rowsize(file_.get(), &block, &status);
  check_fits(status, path, "sizing row blocks");
  block_rows_ = std::max<Index>(block, 1);
  header_ = fits_header(file_.get(), path);
  for (const std::size_t position : select_columns(path.string(), header_, options.columns)) {
    const int number = static_cast<int>(position) + 1;
    int type = 0;
    long repeat = 0, width = 0;
    fits_get_coltype(file_.get(), number, &type, &repeat, &width, &status);
    check_fits(status, path, str("reading the type of column '", header_[position].name, "'"));
    names_.push_back(header_[position].name);
    numbers_.push_back(number);
    types_.push_back(type);
  }
}

// Row blocks of the size CFITSIO reports as optimal keep its buffers hot across the columns
// of a block; read column after column, each column would stream through the whole chunk.
Index FitsSource::read(Index max_rows, std::vector<std::vector<double>>& columns) {
  const Index rows = std::min(max_rows, rows_ - next_row_);
  if (rows <= 0) return 0;
  std::vector<std::size_t> starts;
  for (std::vector<double>& column : columns) {
    starts.push_back(column.size());
    column.resize(column.size() + static_cast<std::size_t>(rows));
  }
  for (Index done = 0; done < rows; done += block_rows_) {
    const Index count = std::min(block_rows_, rows - done);
    for (std::size_t c = 0; c < names_.size(); ++c) {
      read_block(c, next_row_ + done, count, columns[c].data() + starts[c] + done);
    }
  }
  next_row_ += rows;
  return rows;
}

void FitsSource::read_block(std::size_t c, Index first_row, Index rows, double* values) {
  int status = 0, any_null = 0;
  if (types_[c] == TLOGICAL) {
    // CFITSIO does not convert logicals to numbers, so they are read as flags with nulls.
    flags_.resize(static_cast<std::size_t>(rows));
    nulls_.resize(static_cast<std::size_t>(rows));
    fits_read_colnull(file_.get(), TLOGICAL, numbers_[c], first_row + 1, 1, rows, flags_.data(), nulls_.data(),
                      &any_null, &status);
    for (Index i = 0; i < rows; ++i) values[i] = nulls_[i] ? std::nan("") : flags_[i] ? 1.0 : 0.0;
  } else {
    // A null value of 0 turns CFITSIO's null checks off. Integer and ASCII-table columns
    // need them for TNULL; binary floating-point ones must go without, because those checks
    // also flush -0 and subnormals to 0 and turn infinities into nulls. NaN is caught below.
    const bool floating = binary_table_ && (types_[c] == TFLOAT || types_[c] == TDOUBLE);
    double null = floating ? 0.0 : std::nan("");
    fits_read_col(file_.get(), TDOUBLE, numbers_[c], first_row + 1, 1, rows, &null, values, &any_null, &status);
    for (Index i = 0; i < rows; ++i) values[i] = missing_to_nan(values[i]);
  }
  check_fits(status, path_, str("reading column '", names_[c], "'"));
}

std::unique_ptr<ChunkSource> open_fits_source(const std::filesystem::path& path, const CatalogOptions& options) {
  return std::make_unique<FitsSource>(path, options);
}

std::vector<std::string> fits_column_names(const std::filesystem::path& path, const CatalogOptions& options) {
  const FitsHandle file = open_fits(path);
  move_to_table(file.get(), path, options.hdu);
  std::vector<std::string> names;
  for (const HeaderColumn& column : fits_header(file.get(), path)) {
    if (!column.name.empty()) names.push_back(column.name);
  }
  return names;
}

}  // namespace nn::catalog_detail
