#pragma once
// Helpers for the catalogue tests: a scratch directory, the real survey samples, and FITS
// files built and parsed byte by byte from the FITS 4.0 standard (80-character header cards
// in 2880-byte blocks, big-endian binary tables), so that the CFITSIO-based reader is
// checked against something that shares no code with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "scratch_dir.h"

namespace catalog_testing {

namespace fs = std::filesystem;

// The real survey catalogues (data/README.md says which may ship); not shipped with
// the project, so tests that need one skip where it is absent.
inline fs::path real_sample(const std::string& name) {
  return fs::path(STARNN_SOURCE_DIR) / ".." / "shared" / "data" / name;
}

#define CATALOG_REQUIRE_SAMPLE(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "real sample " << (path) << " is not available"

using ::ScratchDir;

// Fixtures must be named per suite so that every catalogue test matches 'Catalog*'.
#define CATALOG_FIXTURE(name) \
  class name : public ::catalog_testing::ScratchDir {}

// The message of the nn::Error that `action` throws, or a note that it threw none.
inline std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const nn::Error& error) {
    return error.message();
  }
  return "(no error)";
}

inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' is not in: " << text;
}

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

// Equal as bit patterns, so NaN equals NaN and -0 differs from 0.
inline bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// ---- FITS by hand --------------------------------------------------------------------------

constexpr std::size_t fits_block = 2880;

template <class T>
std::string big_endian(T value) {
  auto bits = std::bit_cast<std::array<unsigned char, sizeof(T)>>(value);
  if constexpr (std::endian::native == std::endian::little) std::reverse(bits.begin(), bits.end());
  return std::string(bits.begin(), bits.end());
}

template <class T>
T from_big_endian(const std::string& bytes, std::size_t offset) {
  std::array<unsigned char, sizeof(T)> bits;
  std::memcpy(bits.data(), bytes.data() + offset, sizeof(T));
  if constexpr (std::endian::native == std::endian::little) std::reverse(bits.begin(), bits.end());
  return std::bit_cast<T>(bits);
}

// value is written as given: strings must come quoted ("'NAME'"), others are right-aligned
// to column 30 as fixed-format FITS requires.
inline std::string fits_card(const std::string& key, const std::string& value) {
  std::string card = key;
  card.resize(8, ' ');
  card += "= ";
  card += value.starts_with('\'') ? value : std::string(value.size() < 20 ? 20 - value.size() : 0, ' ') + value;
  card.resize(80, ' ');
  return card;
}

inline void pad(std::string& text, char fill) {
  text.resize((text.size() + fits_block - 1) / fits_block * fits_block, fill);
}

inline std::string fits_header(const std::vector<std::string>& cards) {
  std::string header;
  for (const std::string& card : cards) header += card;
  header += std::string("END").append(77, ' ');
  pad(header, ' ');
  return header;
}

struct FitsColumn {
  std::string name;
  std::string form;                                            // TFORM, e.g. "1J"
  std::vector<std::string> cells;                              // each row's bytes, big-endian
  std::vector<std::pair<std::string, std::string>> keys = {};  // e.g. {"TNULL", "-1"}
};

// A column of an ASCII table: TFORM such as "F8.3", first character TBCOL (from 1), TNULL.
struct AsciiColumn {
  std::string name;
  std::string form;
  int start;
  std::string null = {};
};

class FitsFileBuilder {
 public:
  // A primary HDU; with bytes > 0 it is a BITPIX 8 image of that many bytes.
  explicit FitsFileBuilder(std::size_t image_bytes = 0) {
    std::vector<std::string> cards = {fits_card("SIMPLE", "T"), fits_card("BITPIX", "8")};
    cards.push_back(fits_card("NAXIS", image_bytes ? "1" : "0"));
    if (image_bytes) cards.push_back(fits_card("NAXIS1", std::to_string(image_bytes)));
    cards.push_back(fits_card("EXTEND", "T"));
    bytes_ = fits_header(cards);
    add_data(std::string(image_bytes, '\x07'));
  }

  FitsFileBuilder& image_extension(const std::string& extname, std::size_t bytes) {
    bytes_ += fits_header({fits_card("XTENSION", "'IMAGE   '"), fits_card("BITPIX", "8"), fits_card("NAXIS", "1"),
                           fits_card("NAXIS1", std::to_string(bytes)), fits_card("PCOUNT", "0"),
                           fits_card("GCOUNT", "1"), fits_card("EXTNAME", "'" + extname + "'")});
    add_data(std::string(bytes, '\x07'));
    return *this;
  }

  FitsFileBuilder& table(const std::string& extname, const std::vector<FitsColumn>& columns) {
    const std::size_t rows = columns.front().cells.size();
    std::size_t width = 0;
    for (const FitsColumn& column : columns) width += column.cells.front().size();
    std::vector<std::string> cards = {fits_card("XTENSION", "'BINTABLE'"),
                                      fits_card("BITPIX", "8"),
                                      fits_card("NAXIS", "2"),
                                      fits_card("NAXIS1", std::to_string(width)),
                                      fits_card("NAXIS2", std::to_string(rows)),
                                      fits_card("PCOUNT", "0"),
                                      fits_card("GCOUNT", "1"),
                                      fits_card("TFIELDS", std::to_string(columns.size()))};
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string n = std::to_string(c + 1);
      cards.push_back(fits_card("TTYPE" + n, "'" + columns[c].name + "'"));
      cards.push_back(fits_card("TFORM" + n, "'" + columns[c].form + "'"));
      for (const auto& [key, value] : columns[c].keys) cards.push_back(fits_card(key + n, value));
    }
    if (!extname.empty()) cards.push_back(fits_card("EXTNAME", "'" + extname + "'"));
    bytes_ += fits_header(cards);
    std::string data;
    for (std::size_t r = 0; r < rows; ++r) {
      for (const FitsColumn& column : columns) data += column.cells[r];
    }
    add_data(data);
    return *this;
  }

  // rows are the fixed-width text records the columns describe.
  FitsFileBuilder& ascii_table(const std::string& extname, const std::vector<AsciiColumn>& columns,
                               const std::vector<std::string>& rows) {
    std::vector<std::string> cards = {fits_card("XTENSION", "'TABLE   '"),
                                      fits_card("BITPIX", "8"),
                                      fits_card("NAXIS", "2"),
                                      fits_card("NAXIS1", std::to_string(rows.front().size())),
                                      fits_card("NAXIS2", std::to_string(rows.size())),
                                      fits_card("PCOUNT", "0"),
                                      fits_card("GCOUNT", "1"),
                                      fits_card("TFIELDS", std::to_string(columns.size()))};
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string n = std::to_string(c + 1);
      cards.push_back(fits_card("TTYPE" + n, "'" + columns[c].name + "'"));
      cards.push_back(fits_card("TBCOL" + n, std::to_string(columns[c].start)));
      cards.push_back(fits_card("TFORM" + n, "'" + columns[c].form + "'"));
      if (!columns[c].null.empty()) cards.push_back(fits_card("TNULL" + n, "'" + columns[c].null + "'"));
    }
    cards.push_back(fits_card("EXTNAME", "'" + extname + "'"));
    bytes_ += fits_header(cards);
    std::string data;
    for (const std::string& row : rows) data += row;
    pad(data, ' ');
    bytes_ += data;
    return *this;
  }

  void save(const fs::path& path) const { std::ofstream(path, std::ios::binary) << bytes_; }

 private:
  void add_data(std::string data) {
    pad(data, '\0');
    bytes_ += data;
  }
  std::string bytes_;
};

// One HDU of a parsed file: its header keywords (string values unquoted and trimmed) and
// its data bytes.
struct FitsHdu {
  std::map<std::string, std::string> keys;
  std::string data;

  long number(const std::string& key) const { return std::stol(keys.at(key)); }

  // Byte offset of column `name` within a row, from the TFORMs before it.
  std::size_t offset(const std::string& name) const {
    std::size_t offset = 0;
    for (long c = 1; keys.at("TTYPE" + std::to_string(c)) != name; ++c) {
      const std::string form = keys.at("TFORM" + std::to_string(c));
      const std::size_t letter = form.find_first_not_of("0123456789");
      const long repeat = letter == 0 ? 1 : std::stol(form.substr(0, letter));
      static const std::map<char, std::size_t> sizes = {{'L', 1}, {'B', 1}, {'A', 1}, {'I', 2},
                                                        {'J', 4}, {'K', 8}, {'E', 4}, {'D', 8}};
      offset += static_cast<std::size_t>(repeat) * sizes.at(form[letter]);
    }
    return offset;
  }

  template <class T>
  T cell(const std::string& name, std::size_t row) const {
    return from_big_endian<T>(data, row * static_cast<std::size_t>(number("NAXIS1")) + offset(name));
  }
};

inline std::string unquoted(std::string value) {
  const auto slash = value.find(" /");
  if (!value.starts_with('\'')) {
    value = value.substr(0, slash);
  } else {
    value = value.substr(1, value.find('\'', 1) - 1);
  }
  value.erase(0, value.find_first_not_of(' '));
  value.erase(value.find_last_not_of(' ') + 1);
  return value;
}

inline std::vector<FitsHdu> parse_fits(const fs::path& path) {
  const std::string bytes = read_text(path);
  std::vector<FitsHdu> hdus;
  for (std::size_t at = 0; at < bytes.size();) {
    FitsHdu hdu;
    for (bool end = false; !end; at += 80) {
      const std::string card = bytes.substr(at, 80);
      end = card.starts_with("END ");
      if (card.substr(8, 2) == "= ") hdu.keys[unquoted(card.substr(0, 8))] = unquoted(card.substr(10));
    }
    at = (at + fits_block - 1) / fits_block * fits_block;
    std::size_t size = hdu.number("NAXIS") > 0 ? static_cast<std::size_t>(std::abs(hdu.number("BITPIX")) / 8) : 0;
    for (long axis = 1; axis <= hdu.number("NAXIS"); ++axis) {
      size *= static_cast<std::size_t>(hdu.number("NAXIS" + std::to_string(axis)));
    }
    if (hdu.keys.contains("PCOUNT")) size += static_cast<std::size_t>(hdu.number("PCOUNT"));
    hdu.data = bytes.substr(at, size);
    at += (size + fits_block - 1) / fits_block * fits_block;
    hdus.push_back(std::move(hdu));
  }
  return hdus;
}

}  // namespace catalog_testing
