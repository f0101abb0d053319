// Reading CSV catalogues: header row, comma-separated fields, optional double quotes.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "catalog_csv.h"

namespace nn::catalog_detail {
namespace {

void strip_carriage_return(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

bool odd_quotes(const std::string& text) { return std::count(text.begin(), text.end(), '"') % 2 == 1; }

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

void require_no_hdu(const std::filesystem::path& path, const CatalogOptions& options) {
  if (!options.hdu.empty()) {
    throw Error(
        str("catalogue '", path.string(), "' is CSV, which has no HDUs; drop the HDU option '", options.hdu, "'"));
  }
}

// Spreadsheets often start CSV files with a UTF-8 byte order mark; it is not part of the
// first name.
std::string_view without_bom(std::string_view text) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  return text.starts_with(bom) ? text.substr(bom.size()) : text;
}

std::vector<std::string> header_names(const std::filesystem::path& path, CsvRecords& records, std::string& record) {
  if (!records.next(record)) {
    throw Error(str("catalogue '", path.string(), "' is empty: it has no header row"));
  }
  std::vector<std::string_view> fields;
  split_fields(without_bom(record), fields);
  std::vector<std::string> names;
  std::string scratch;
  for (const std::string_view field : fields) names.emplace_back(field_text(field, scratch));
  return names;
}

void check_field_count(const std::filesystem::path& path, Index line, std::size_t fields, std::size_t header) {
  if (fields != header) {
    throw Error(
        str("catalogue '", path.string(), "' line ", line, " has ", fields, " fields but its header has ", header));
  }
}

}  // namespace

CsvRecords::CsvRecords(const std::filesystem::path& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_) throw Error(str("cannot open catalogue '", path.string(), "'"));
}

bool CsvRecords::next(std::string& record) {
  while (std::getline(in_, line_)) {
    ++lines_read_;
    strip_carriage_return(line_);
    if (trim(line_).empty()) continue;
    record_line_ = lines_read_;
    record = line_;
    for (bool open = odd_quotes(line_); open; open ^= odd_quotes(line_)) {
      if (!std::getline(in_, line_)) {
        throw Error(str("catalogue '", path_.string(), "' line ", record_line_, ": a quoted field is never closed"));
      }
      ++lines_read_;
      strip_carriage_return(line_);
      record += '\n';
      record += line_;
    }
    return true;
  }
  if (in_.bad()) throw Error(str("cannot read catalogue '", path_.string(), "' after line ", lines_read_));
  return false;
}

void split_fields(std::string_view record, std::vector<std::string_view>& fields) {
  fields.clear();
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (record[i] == '"') quoted = !quoted;
    if (record[i] == ',' && !quoted) {
      fields.push_back(record.substr(start, i - start));
      start = i + 1;
    }
  }
  fields.push_back(record.substr(start));
}

std::string_view field_text(std::string_view field, std::string& scratch) {
  field = trim(field);
  if (field.size() < 2 || field.front() != '"' || field.back() != '"') return field;
  field = field.substr(1, field.size() - 2);
  if (field.find('"') == std::string_view::npos) return field;
  scratch.clear();
  for (std::size_t i = 0; i < field.size(); ++i) {
    scratch += field[i];
    if (field[i] == '"' && i + 1 < field.size() && field[i + 1] == '"') ++i;
  }
  return scratch;
}

// Whether value is the integer `text` spells, where text is an integer too long for every
// double to hold (more than 15 digits): 1237663542601367552, an SDSS object id, is not.
bool exact_integer(std::string_view text, double value) {
  text = trim(text);
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  if (digits.size() <= 15 || digits.find_first_not_of("0123456789") != std::string_view::npos) return true;
  char printed[400];
  const auto [end, error] = std::to_chars(printed, printed + sizeof printed, std::abs(value), std::chars_format::fixed);
  return error == std::errc{} && std::string_view(printed, std::size_t(end - printed)) == digits;
}

std::optional<double> parse_value(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nan("");
  if (text.front() == '+' && text.size() > 1 && text[1] != '-') text.remove_prefix(1);
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return missing_to_nan(value);
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "nan";
    return;
  }
  char buffer[32];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

std::string csv_field(const std::string& name) {
  const bool plain = name.find_first_of(",\"\r\n") == std::string::npos && trim(name).size() == name.size();
  if (plain) return name;
  std::string field = "\"";
  for (const char c : name) {
    if (c == '"') field += '"';
    field += c;
  }
  return field + '"';
}

CsvSource::CsvSource(const std::filesystem::path& path, const CatalogOptions& options, Text text)
    : path_(path), records_(path), text_(text) {
  require_no_hdu(path, options);
  header_ = header_names(path, records_, header_record_);
  std::vector<HeaderColumn> columns;
  for (const std::string& name : header_) columns.push_back({name, ""});
  const auto selected = select_columns(path.string(), columns, options.columns);
  positions_ = options.columns.empty() ? numeric_columns(selected) : selected;
  for (const std::size_t position : positions_) names_.push_back(header_[position]);
}

// Whether a column is numeric shows only in its values, and the first rows may all be
// missing, so reading every column scans the whole file once (counting the rows too).
std::vector<std::size_t> CsvSource::numeric_columns(const std::vector<std::size_t>& candidates) const {
  CsvRecords records(path_);
  std::string record, scratch;
  std::vector<std::string_view> fields;
  header_names(path_, records, record);
  std::vector<bool> numeric(candidates.size(), true);
  Index rows = 0;
  for (; records.next(record); ++rows) {
    split_fields(record, fields);
    check_field_count(path_, records.line(), fields.size(), header_.size());
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      if (numeric[c]) numeric[c] = parse_value(field_text(fields[candidates[c]], scratch)).has_value();
    }
  }
  total_rows_ = rows;
  std::vector<std::size_t> kept;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    if (numeric[c]) kept.push_back(candidates[c]);
  }
  return kept;
}

Index CsvSource::total_rows() const {
  if (!total_rows_) {
    CsvRecords records(path_);
    std::string record;
    Index rows = 0;
    while (records.next(record)) ++rows;
    total_rows_ = rows - 1;
  }
  return *total_rows_;
}

Index CsvSource::read(Index max_rows, std::vector<std::vector<double>>& columns) {
  kept_.clear();
  Index rows = 0;
  for (; rows < max_rows && records_.next(record_); ++rows) {
    split_fields(record_, fields_);
    check_field_count(path_, records_.line(), fields_.size(), header_.size());
    for (std::size_t c = 0; c < positions_.size(); ++c) {
      const std::string_view text = field_text(fields_[positions_[c]], scratch_);
      const auto value = parse_value(text);
      if (!value) {
        throw Error(str("catalogue '", path_.string(), "' line ", records_.line(), ", column '", names_[c], "': '",
                        text, "' is not a number"));
      }
      if (!exact_integer(text, *value)) {
        throw Error(
            str("catalogue '", path_.string(), "' line ", records_.line(), ", column '", names_[c], "': ", trim(text),
                " is an integer a double cannot hold exactly (an identifier?); leave the column ", "out (--columns)"));
      }
      columns[c].push_back(*value);
    }
    if (text_ == Text::keep) kept_.push_back(record_);
  }
  return rows;
}

std::unique_ptr<ChunkSource> open_csv_source(const std::filesystem::path& path, const CatalogOptions& options) {
  return std::make_unique<CsvSource>(path, options);
}

std::vector<std::string> csv_column_names(const std::filesystem::path& path, const CatalogOptions& options) {
  require_no_hdu(path, options);
  CsvRecords records(path);
  std::string record;
  return header_names(path, records, record);
}

}  // namespace nn::catalog_detail
