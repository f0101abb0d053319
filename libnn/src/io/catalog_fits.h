#pragma once
// FITS internals over CFITSIO: owned file handles, status checks that become nn::Error, the
// table HDU an option selects, and the source that reading and the augmented copy share.
#include <fitsio.h>

#include <source_location>

#include "catalog_format.h"

namespace nn::catalog_detail {

struct FitsCloser {
  void operator()(fitsfile* file) const noexcept {
    int status = 0;
    fits_close_file(file, &status);
  }
};
using FitsHandle = std::unique_ptr<fitsfile, FitsCloser>;

// Throws an nn::Error naming the file, what was being done and CFITSIO's reason.
void check_fits(int status, const std::filesystem::path& path, const std::string& doing,
                std::source_location where = std::source_location::current());

// Reads what CFITSIO would trust before it does, and throws an nn::Error naming the file and
// the damage: every header must be printable ASCII, a gzip file's stated size must be one its
// length can hold, and only plain and gzip-compressed files are read (catalog_fits_precheck.cpp).
void check_before_cfitsio(const std::filesystem::path& path);

// The disk-file variants, so that names with brackets or other CFITSIO filename syntax are
// taken literally.
FitsHandle open_fits(const std::filesystem::path& path);
FitsHandle create_fits(const std::filesystem::path& path, const std::filesystem::path& target);
// Closes with a status check, because buffered data reach the disk only then.
void close_fits(FitsHandle& file, const std::filesystem::path& target);

// Moves to the table HDU that `hdu` selects (see CatalogOptions) and returns its number
// (1 is the primary HDU, as CFITSIO counts).
int move_to_table(fitsfile* file, const std::filesystem::path& path, const std::string& hdu);
// TTYPEn of every column of the current table, with why each is unreadable (if it is).
std::vector<HeaderColumn> fits_header(fitsfile* file, const std::filesystem::path& path);

class FitsSource final : public ChunkSource {
 public:
  FitsSource(const std::filesystem::path& path, const CatalogOptions& options);

  Index total_rows() const override { return rows_; }
  const std::vector<std::string>& names() const override { return names_; }
  Index read(Index max_rows, std::vector<std::vector<double>>& columns) override;

  fitsfile* file() const { return file_.get(); }
  int hdu() const { return hdu_; }
  const std::vector<HeaderColumn>& header() const { return header_; }

 private:
  // Rows [first_row, first_row + rows) of selected column c into values.
  void read_block(std::size_t c, Index first_row, Index rows, double* values);

  std::filesystem::path path_;
  FitsHandle file_;
  int hdu_ = 0;
  bool binary_table_ = true;
  Index rows_ = 0;
  Index next_row_ = 0;  // from 0
  Index block_rows_ = 1;
  std::vector<HeaderColumn> header_;
  std::vector<std::string> names_;
  std::vector<int> numbers_;  // CFITSIO column number of each selected column, from 1
  std::vector<int> types_;    // CFITSIO type code of each selected column, as stored
  std::vector<char> flags_, nulls_;
};

}  // namespace nn::catalog_detail
