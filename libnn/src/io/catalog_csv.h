#pragma once
// CSV internals: records (a line, or several when a quoted field spans lines), fields,
// numbers, and the source that both reading and the augmented copy use.
#include <fstream>
#include <optional>
#include <string_view>

#include "catalog_format.h"

namespace nn::catalog_detail {

class CsvRecords {
 public:
  explicit CsvRecords(const std::filesystem::path& path);
  // The next record that is not blank, without its line end; false at the end of the file.
  bool next(std::string& record);
  // The line on which the last record starts, from 1.
  Index line() const { return record_line_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::string line_;
  Index lines_read_ = 0;
  Index record_line_ = 0;
};

// Splits at the commas outside quotes; the fields keep their quotes.
void split_fields(std::string_view record, std::vector<std::string_view>& fields);
// A field's text: surrounding spaces trimmed, quotes removed and "" unescaped (into scratch).
std::string_view field_text(std::string_view field, std::string& scratch);
// A number (99/-99 already NaN), NaN for a missing spelling, nullopt for any other text.
std::optional<double> parse_value(std::string_view text);
// The shortest text that reads back as the same double; NaN as `nan`.
void append_number(std::string& out, double value);
// A header field for `name`, quoted when the name needs it.
std::string csv_field(const std::string& name);

class CsvSource final : public ChunkSource {
 public:
  enum class Text { drop, keep };
  CsvSource(const std::filesystem::path& path, const CatalogOptions& options, Text text = Text::drop);

  Index total_rows() const override;
  const std::vector<std::string>& names() const override { return names_; }
  Index read(Index max_rows, std::vector<std::vector<double>>& columns) override;

  const std::vector<std::string>& header() const { return header_; }
  const std::string& header_record() const { return header_record_; }
  // The records of the last read(), verbatim, when kept.
  const std::vector<std::string>& records() const { return kept_; }

 private:
  std::vector<std::size_t> numeric_columns(const std::vector<std::size_t>& candidates) const;

  std::filesystem::path path_;
  CsvRecords records_;
  Text text_;
  std::string header_record_;
  std::vector<std::string> header_;
  std::vector<std::size_t> positions_;  // header position of each selected column
  std::vector<std::string> names_;
  mutable std::optional<Index> total_rows_;
  std::string record_;
  std::string scratch_;
  std::vector<std::string_view> fields_;
  std::vector<std::string> kept_;
};

}  // namespace nn::catalog_detail
