// Writing CSV catalogues, and the augmented copy that appends fields to each original line.
#include "catalog_csv.h"
#include "temporary_file.h"

namespace nn::catalog_detail {
namespace {

// Text is gathered per chunk and written in blocks of about this many bytes.
constexpr std::size_t flush_bytes = 1 << 20;

// A CSV output that appears at its path only on commit().
class CsvOutput {
 public:
  explicit CsvOutput(const std::filesystem::path& path) : temp_(path), out_(temp_.path(), std::ios::binary) {
    if (!out_) throw Error(str("cannot create '", temp_.path().string(), "' to write '", path.string(), "'"));
  }

  // Writes `text` once it is large, or always when `force`; leaves it empty when written.
  void put(std::string& text, bool force = false) {
    if (!force && text.size() < flush_bytes) return;
    out_.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out_) throw Error(str("cannot write '", temp_.target().string(), "' (disk full?)"));
    text.clear();
  }

  void commit() {
    out_.close();
    if (!out_) throw Error(str("cannot write '", temp_.target().string(), "' (disk full?)"));
    temp_.commit();
  }

 private:
  TemporaryFile temp_;  // declared first so that the stream is closed before the temporary is removed
  std::ofstream out_;
};

class CsvSink final : public ChunkSink {
 public:
  CsvSink(const std::filesystem::path& path, const std::vector<std::string>& names) : out_(path) {
    std::string header;
    for (std::size_t c = 0; c < names.size(); ++c) {
      if (c) header += ',';
      header += csv_field(names[c]);
    }
    header += '\n';
    out_.put(header, true);
  }

  void write(const std::vector<std::span<const double>>& columns) override {
    const std::size_t rows = columns.empty() ? 0 : columns.front().size();
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < columns.size(); ++c) {
        if (c) text_ += ',';
        append_number(text_, columns[c][r]);
      }
      text_ += '\n';
      out_.put(text_);
    }
    out_.put(text_, true);
  }

  void commit() override { out_.commit(); }

 private:
  CsvOutput out_;
  std::string text_;
};

class CsvAugmenter final : public ChunkAugmenter {
 public:
  CsvAugmenter(const std::filesystem::path& in, const std::filesystem::path& out,
               const std::vector<std::string>& new_columns, const CatalogOptions& options)
      : source_(in, options, CsvSource::Text::keep), out_(out) {
    check_new_columns(in.string(), source_.header(), new_columns);
    text_ = source_.header_record();
    for (const std::string& name : new_columns) text_ += ',' + csv_field(name);
    text_ += '\n';
    out_.put(text_, true);
  }

  Index total_rows() const override { return source_.total_rows(); }
  const std::vector<std::string>& names() const override { return source_.names(); }
  Index read(Index max_rows, std::vector<std::vector<double>>& columns) override {
    return source_.read(max_rows, columns);
  }

  void write(const std::vector<std::vector<double>>& new_values) override {
    const std::vector<std::string>& records = source_.records();
    for (std::size_t r = 0; r < records.size(); ++r) {
      text_ += records[r];
      for (const std::vector<double>& column : new_values) {
        text_ += ',';
        append_number(text_, column[r]);
      }
      text_ += '\n';
      out_.put(text_);
    }
    out_.put(text_, true);
  }

  void commit() override { out_.commit(); }

 private:
  CsvSource source_;
  CsvOutput out_;
  std::string text_;
};

}  // namespace

std::unique_ptr<ChunkSink> create_csv_sink(const std::filesystem::path& path, const std::vector<std::string>& names) {
  return std::make_unique<CsvSink>(path, names);
}

std::unique_ptr<ChunkAugmenter> open_csv_augmenter(const std::filesystem::path& in, const std::filesystem::path& out,
                                                   const std::vector<std::string>& new_columns,
                                                   const CatalogOptions& options) {
  return std::make_unique<CsvAugmenter>(in, out, new_columns, options);
}

}  // namespace nn::catalog_detail
