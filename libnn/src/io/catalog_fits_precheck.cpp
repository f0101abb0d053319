// What CFITSIO trusts in a file, read before CFITSIO opens it. Each check answers an input the
// FITS fuzzer found (tests/fuzz/regressions/fuzz_fits_catalog) that made CFITSIO abort the
// process or allocate gigabytes, and turns it into an nn::Error that names the file and the damage.
#include <zlib.h>

#include <charconv>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string_view>

#include "catalog_fits.h"

namespace nn::catalog_detail {
namespace {

constexpr std::size_t kBlock = 2880, kCard = 80;

// The compressions CFITSIO recognises by a file's first two bytes (file_is_compressed in its
// drvrfile.c), gzip aside. starnn reads plain and gzip-compressed files only: CFITSIO takes a
// zip file's size from its local header unchecked, and none of these can have its headers read
// here first.
std::string_view unread_compression(unsigned char first, unsigned char second) {
  if (first == 'P' && second == 'K') return "zip";
  if (first == 'B' && second == 'Z') return "bzip2";
  if (first == 0x1f && second == 0x1e) return "pack";
  if (first == 0x1f && second == 0x9d) return "compress (.Z)";
  if (first == 0x1f && second == 0xa0) return "LZH";
  return {};
}

// CFITSIO allocates a gzip file's uncompressed size at once, as its last four bytes state it:
// modulo 2^32, to which it adds 2^32 until the size reaches the file's own where the file is
// above 10000 bytes (mem_compress_open in its drvrmem.c). Deflate expands at most 1032-fold, so a
// larger size is damage, which would otherwise be an allocation of up to 4 GiB from a few bytes.
void require_possible_gzip_size(std::ifstream& in, const std::filesystem::path& path) {
  constexpr std::uint64_t kGzipMinimum = 18, kDeflateMostExpansion = 1032;
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::uint64_t>(in.tellg());
  if (bytes < kGzipMinimum)
    throw Error(str("FITS file '", path.string(), "' is ", bytes,
                    " bytes long, too short for a gzip file (18 bytes at least); it is cut short"));
  unsigned char trailer[4] = {};
  in.seekg(-4, std::ios::end);
  in.read(reinterpret_cast<char*>(trailer), 4);
  std::uint64_t stated = trailer[0] | trailer[1] << 8 | trailer[2] << 16 | std::uint64_t(trailer[3]) << 24;
  if (bytes > 10000)
    while (stated < bytes) stated += std::uint64_t(1) << 32;
  if (stated > kDeflateMostExpansion * bytes)
    throw Error(str("FITS file '", path.string(), "': its gzip trailer states an uncompressed size of ", stated,
                    " bytes, more than deflate can expand its ", bytes, " bytes to; the file is damaged"));
}

struct GzipCloser {
  void operator()(gzFile file) const noexcept { gzclose(file); }
};

// zlib reads plain files as they are, and gzip files decompressed.
class FitsBlocks {
 public:
  explicit FitsBlocks(const std::filesystem::path& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw Error(str("FITS file '", path.string(), "' cannot be opened"));
    gzbuffer(file_.get(), 1 << 17);
  }

  // The next block, a last one cut short filled with blanks (CFITSIO reads what is there);
  // false at the end of the file.
  bool next(char* block) {
    const int got = gzread(file_.get(), block, unsigned(kBlock));
    if (got < int(kBlock)) require_intact();
    if (got <= 0) return false;
    std::fill(block + got, block + kBlock, ' ');
    return true;
  }

  // Skips `blocks` blocks; false where that leads beyond what a file can hold.
  bool skip(long long blocks) {
    if (blocks > std::numeric_limits<z_off_t>::max() / (long long)kBlock) return false;
    if (gzseek(file_.get(), z_off_t(blocks * (long long)kBlock), SEEK_CUR) >= 0) return true;
    require_intact();
    return false;
  }

 private:
  // A gzip stream that is damaged or cut short ends reading with zlib's account of it.
  void require_intact() {
    int error = Z_OK;
    std::string_view account = gzerror(file_.get(), &error);
    if (error == Z_OK) return;
    const std::string named = path_.string() + ": ";  // zlib names the file first; so does the error
    if (account.starts_with(named)) account.remove_prefix(named.size());
    throw Error(str("FITS file '", path_.string(), "': its gzip compression is damaged (zlib: ", account, ")"));
  }

  const std::filesystem::path& path_;
  std::unique_ptr<gzFile_s, GzipCloser> file_;
};

// The integer value of a header card ("NAXIS1  =                   40 / ..."), if it has one.
std::optional<long long> card_integer(std::string_view card) {
  if (card.substr(8, 2) != "= ") return std::nullopt;
  std::string_view value = card.substr(10);
  value = value.substr(0, value.find('/'));
  const auto first = value.find_first_not_of(' ');
  if (first == std::string_view::npos) return std::nullopt;
  value = value.substr(first, value.find_last_not_of(' ') - first + 1);
  long long number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return number;
}

// FITS headers are printable ASCII (FITS 4.0, section 4.1.1). CFITSIO trusts them further
// than it should: a card of 70 bytes above 0x7E after "TTYPE3  =" overflows one of its
// buffers, and glibc then aborts the process. So every header is read here first, HDU after
// HDU by the data sizes their headers give (reading headers only, however large the tables of a
// plain file; a gzip file is decompressed on the way, as CFITSIO will decompress it). Where a
// header's sizes are not plain numbers, or are given twice, the rest of the file is read block by
// block instead, checking every block that opens a header (SIMPLE or XTENSION), so that no header
// CFITSIO may reach goes unread.
void require_ascii_headers(const std::filesystem::path& path) {
  FitsBlocks blocks(path);
  char block[kBlock];
  bool walking = true;  // by sizes; false: every block
  bool in_header = false;
  std::map<std::string, long long, std::less<>> sizes;
  for (long long number = 0; blocks.next(block); ++number) {
    const std::string_view first(block, 9);
    if (!in_header) {
      if (first == "SIMPLE  =" || first == "XTENSION=") {
        in_header = true;
        sizes.clear();
      } else if (walking) {
        return;  // where the sizes lead is no header: the file's HDUs end here, for CFITSIO too
      } else {
        continue;
      }
    }
    for (std::size_t at = 0; at < kBlock && in_header; at += kCard) {
      const std::string_view card(block + at, kCard);
      for (std::size_t k = 0; k < kCard; ++k)
        if (card[k] < 0x20 || card[k] > 0x7e)
          throw Error(str("FITS file '", path.string(), "': the header in block ", number + 1, " has a card with byte ",
                          int(static_cast<unsigned char>(card[k])), " at column ", k + 1,
                          ", which is not printable ASCII; the file is damaged"));
      const std::string_view key = card.substr(0, 8);
      in_header = key != "END     ";
      if (walking && (key.starts_with("NAXIS") || key == "BITPIX  " || key == "PCOUNT  " || key == "GCOUNT  ")) {
        const std::optional<long long> value = card_integer(card);
        if (!value || *value < -64 || sizes.count(key))
          walking = false;
        else
          sizes.emplace(key, *value);
      }
    }
    if (in_header || !walking) continue;
    // The header has ended: skip its data, BITPIX/8 * GCOUNT * (PCOUNT + NAXIS1 * ... * NAXISn).
    const auto size = [&](std::string_view key, long long fallback) {
      const auto it = sizes.find(key);
      return it == sizes.end() ? fallback : it->second;
    };
    long long elements = size("NAXIS   ", 0) > 0 ? 1 : 0;
    for (long long axis = 1; axis <= size("NAXIS   ", 0) && walking; ++axis) {
      const long long n = size(str("NAXIS", axis, std::string(axis < 10 ? 2 : axis < 100 ? 1 : 0, ' ')), -1);
      walking = n >= 0 && !__builtin_mul_overflow(elements, n, &elements);
    }
    const long long bitpix = size("BITPIX  ", 8), pcount = size("PCOUNT  ", 0), gcount = size("GCOUNT  ", 1);
    long long bytes = 0;
    walking = walking && pcount >= 0 && gcount >= 0 && !__builtin_add_overflow(pcount, elements, &bytes) &&
              !__builtin_mul_overflow(bytes, (bitpix < 0 ? -bitpix : bitpix) / 8 * gcount, &bytes) &&
              bytes <= std::numeric_limits<long long>::max() - (long long)kBlock;
    if (!walking) continue;
    const long long data_blocks = (bytes + (long long)kBlock - 1) / (long long)kBlock;
    if (!blocks.skip(data_blocks)) return;  // the sizes lead beyond the file: no header is there
    number += data_blocks;
  }
}

}  // namespace

void check_before_cfitsio(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {};
  if (in.read(reinterpret_cast<char*>(magic), 2)) {
    if (const std::string_view kind = unread_compression(magic[0], magic[1]); !kind.empty())
      throw Error(str("FITS file '", path.string(), "' is compressed with ", kind,
                      ", which is not read; decompress it, or compress it with gzip"));
    if (magic[0] == 0x1f && magic[1] == 0x8b) require_possible_gzip_size(in, path);
  }
  require_ascii_headers(path);
}

}  // namespace nn::catalog_detail
