// Whole-survey prediction: the files, the plan of what is left, the parts' records and the
// manifest (nn/survey.h).
#include "nn/survey.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "json_reader.h"
#include "nn/io.h"

namespace nn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kManifestFormat = "starnn-survey/1";

// Size and modification time, as stat(2) gives them.
struct FileStamp {
  std::uintmax_t bytes = 0;
  std::int64_t modified_ns = 0;
};

FileStamp stamp_of(const fs::path& path) {
  struct stat s {};
  if (::stat(path.c_str(), &s) != 0) throw Error(str("cannot read ", path.string(), ": ", std::strerror(errno)));
  if (!S_ISREG(s.st_mode)) throw Error(str(path.string(), ": not a regular file"));
  return {std::uintmax_t(s.st_size), std::int64_t(s.st_mtim.tv_sec) * 1000000000 + s.st_mtim.tv_nsec};
}

fs::path parts_folder(const fs::path& out_dir) { return out_dir / ".parts"; }
fs::path record_path(const fs::path& out_dir, const std::string& output) {
  return parts_folder(out_dir) / (output + ".json");
}

Json to_json(const SurveyPart& p) {
  return Json{{"input", p.input},
              {"output", p.output},
              {"rows", p.rows},
              {"predicted", p.predicted},
              {"input_bytes", p.input_bytes},
              {"input_modified_ns", p.input_modified_ns},
              {"input_checksum", p.input_checksum},
              {"output_bytes", p.output_bytes},
              {"output_checksum", p.output_checksum},
              {"model_checksum", p.model_checksum}};
}

// A required integer, read exactly (a modification time in ns is beyond a double's 2^53).
std::int64_t integer(JsonReader& r, const std::string& key, std::int64_t low) {
  constexpr std::int64_t missing = std::numeric_limits<std::int64_t>::min();
  const std::int64_t value = r.integer_or(key, missing, low, std::numeric_limits<std::int64_t>::max());
  if (value == missing) r.fail(key, str("an integer >= ", low));
  return value;
}

SurveyPart part_from_json(const Json& j, const std::string& path, const std::string& source) {
  JsonReader r(j, path, source);
  SurveyPart p;
  p.input = r.string("input");
  p.output = r.string("output");
  p.rows = integer(r, "rows", 0);
  p.predicted = integer(r, "predicted", 0);
  p.input_bytes = std::uintmax_t(integer(r, "input_bytes", 0));
  p.input_modified_ns = integer(r, "input_modified_ns", std::numeric_limits<std::int64_t>::min() + 1);
  p.input_checksum = r.string("input_checksum");
  p.output_bytes = std::uintmax_t(integer(r, "output_bytes", 0));
  p.output_checksum = r.string("output_checksum");
  p.model_checksum = r.string("model_checksum");
  r.finish();
  return p;
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str("cannot read ", path.string(), ": ", std::strerror(errno)));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A part's record, or nothing where there is none or it cannot be read (the part is then redone).
std::optional<SurveyPart> read_record(const fs::path& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return std::nullopt;
  try {
    return part_from_json(parse_json(read_whole(path)), "$", path.string());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Whether `record` is a finished part of `input` as it is now, by `model_checksum`, whose output
// is still there at the size it was written.
bool finished(const std::optional<SurveyPart>& record, const FileStamp& input, const std::string& model_checksum,
              const fs::path& output) {
  if (!record || record->input_bytes != input.bytes || record->input_modified_ns != input.modified_ns ||
      record->model_checksum != model_checksum)
    return false;
  std::error_code error;
  return fs::is_regular_file(output, error) && fs::file_size(output, error) == record->output_bytes && !error;
}

struct Part {
  fs::path input, output;
  FileStamp stamp;
};

// The shares of rank_share, of parts whose sizes are known.
std::vector<Part> share_of(std::vector<Part> parts, const Ranks& ranks) {
  std::stable_sort(parts.begin(), parts.end(),
                   [](const Part& a, const Part& b) { return a.stamp.bytes > b.stamp.bytes; });
  std::vector<std::uintmax_t> load(std::size_t(ranks.size()), 0);
  std::vector<Part> mine;
  for (Part& part : parts) {
    const auto least = std::size_t(std::min_element(load.begin(), load.end()) - load.begin());
    load[least] += std::max<std::uintmax_t>(part.stamp.bytes, 1);
    if (int(least) == ranks.rank()) mine.push_back(std::move(part));
  }
  return mine;
}

void write_manifest(const fs::path& out_dir, const fs::path& model_path, const std::string& model_checksum) {
  std::vector<SurveyPart> parts;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(parts_folder(out_dir), error))
    if (entry.path().extension() == ".json")
      if (std::optional<SurveyPart> part = read_record(entry.path())) parts.push_back(std::move(*part));
  std::sort(parts.begin(), parts.end(), [](const SurveyPart& a, const SurveyPart& b) { return a.input < b.input; });
  Json list = Json::array();
  for (const SurveyPart& p : parts) list.push_back(to_json(p));
  const Json manifest{{"format", kManifestFormat},
                      {"model", model_path.string()},
                      {"model_checksum", model_checksum},
                      {"checksum", "FNV-1a 64 of the file's bytes"},
                      {"parts", list}};
  write_text_atomically(out_dir / "manifest.json", manifest.dump(2) + "\n");
}

}  // namespace

bool names_many_files(const std::string& argument) {
  return argument.starts_with('@') || argument.find_first_of("*?[") != std::string::npos;
}

std::vector<fs::path> survey_files(const std::string& argument) {
  std::vector<fs::path> files;
  if (argument.starts_with('@')) {
    const fs::path list = argument.substr(1);
    std::ifstream in(list);
    if (!in) throw Error(str("--catalog ", argument, ": cannot read ", list.string(), ": ", std::strerror(errno)));
    std::string line;
    while (std::getline(in, line)) {
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      const auto last = line.find_last_not_of(" \t\r");
      const fs::path file = line.substr(first, last - first + 1);
      files.push_back(file.is_absolute() ? file : list.parent_path() / file);
    }
  } else {
    glob_t matches{};
    const int status = ::glob(argument.c_str(), 0, nullptr, &matches);
    if (status == 0)
      for (std::size_t k = 0; k < matches.gl_pathc; ++k) files.emplace_back(matches.gl_pathv[k]);
    globfree(&matches);
    if (status != 0 && status != GLOB_NOMATCH) throw Error(str("--catalog ", argument, ": the pattern cannot be read"));
  }
  if (files.empty()) throw Error(str("--catalog ", argument, ": names no file"));
  return files;
}

std::vector<fs::path> rank_share(const std::vector<fs::path>& files, const Ranks& ranks) {
  std::vector<Part> parts;
  for (const fs::path& file : files) parts.push_back({file, {}, stamp_of(file)});
  std::vector<fs::path> mine;
  for (Part& part : share_of(std::move(parts), ranks)) mine.push_back(std::move(part.input));
  return mine;
}

std::string file_checksum(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str("cannot read ", path.string(), ": ", std::strerror(errno)));
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), std::streamsize(block.size()));
    const std::streamsize got = in.gcount();
    for (std::streamsize k = 0; k < got; ++k) {
      hash ^= std::uint8_t(block[std::size_t(k)]);
      hash *= 0x100000001b3ULL;
    }
  }
  if (in.bad()) throw Error(str("cannot read ", path.string(), ": ", std::strerror(errno)));
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::vector<SurveyPart> read_survey_manifest(const fs::path& out_dir) {
  const fs::path path = out_dir / "manifest.json";
  std::error_code error;
  if (!fs::exists(path, error)) return {};
  Json j;
  try {
    j = parse_json(read_whole(path));
  } catch (const JsonSyntaxError& e) {
    throw Error(str(path.string(), ": ", e.what()));
  }
  JsonReader r(j, "$", path.string());
  if (r.string("format") != kManifestFormat) r.fail("format", str("\"", kManifestFormat, "\""));
  r.string("model");
  r.string("model_checksum");
  r.string("checksum");
  std::vector<SurveyPart> parts;
  const Json& list = j.contains("parts") ? j["parts"] : Json();
  if (!list.is_array()) r.fail("parts", "an array");
  for (std::size_t k = 0; k < list.size(); ++k)
    parts.push_back(part_from_json(list[k], str("$.parts[", k, "]"), path.string()));
  return parts;
}

SurveySummary predict_survey(Model& model, const fs::path& model_path, const std::vector<fs::path>& inputs,
                             const fs::path& out_dir, const SurveyOptions& options, const Ranks& ranks,
                             const std::function<void(const std::string&)>& report) {
  const auto say = [&](const std::string& line) {
    if (report) report(line);
  };
  std::error_code error;
  if (fs::exists(out_dir, error) && !fs::is_directory(out_dir, error))
    throw Error(str("--out ", out_dir.string(),
                    ": not a folder (a glob or @LIST of catalogues writes one output each "
                    "into a folder)"));
  // Every check before anything is written, on every rank alike.
  std::map<std::string, fs::path> by_name;
  std::vector<Part> missing;  // the parts not finished for this input and model
  const std::string model_checksum = file_checksum(model_path);
  SurveySummary summary;
  summary.files = Index(inputs.size());
  for (const fs::path& input : inputs) {
    const std::string name = input.filename().string();
    if (const auto [seen, inserted] = by_name.emplace(name, input); !inserted)
      throw Error(str("two catalogues named ", name, " (", seen->second.string(), " and ", input.string(),
                      "): their outputs would be one file in ", out_dir.string()));
    const fs::path output = out_dir / name;
    const FileStamp stamp = stamp_of(input);
    if (fs::exists(output, error) && fs::equivalent(input, output, error))
      throw Error(str(input.string(), " would be its own output: give --out another folder"));
    if (finished(read_record(record_path(out_dir, name)), stamp, model_checksum, output))
      ++summary.done_before;
    else
      missing.push_back({input, output, stamp});
  }
  // No rank writes before every rank has decided what is left.
  ranks.barrier();
  if (ranks.root()) fs::create_directories(parts_folder(out_dir));
  ranks.barrier();

  // A part's record once its output is written.
  const auto finish_part = [&](const Part& part, const FilePrediction& counts) {
    SurveyPart record;
    record.input = part.input.string();
    record.output = part.output.filename().string();
    record.input_bytes = part.stamp.bytes;
    record.input_modified_ns = part.stamp.modified_ns;
    record.input_checksum = file_checksum(part.input);
    record.output_bytes = fs::file_size(part.output);
    record.output_checksum = file_checksum(part.output);
    record.model_checksum = model_checksum;
    record.rows = counts.rows;
    record.predicted = counts.predicted;
    write_text_atomically(record_path(out_dir, record.output), to_json(record).dump(2) + "\n");
    ++summary.done_now;
    summary.rows += counts.rows;
    summary.predicted += counts.predicted;
    say(str("wrote ", part.output.string(), ": ", counts.rows, " rows, ", counts.predicted, " predicted"));
  };
  // Files larger than a rank's fair share go first, each split among all ranks by rows.
  std::uintmax_t bytes_left = 0;
  for (const Part& part : missing) bytes_left += part.stamp.bytes;
  std::vector<Part> split, shared;
  for (Part& part : missing)
    (ranks.size() > 1 && part.stamp.bytes > bytes_left / std::uintmax_t(ranks.size()) ? split : shared)
        .push_back(std::move(part));
  for (const Part& part : split) {
    say(str("predicting ", part.input.string(), " (", part.stamp.bytes, " bytes) with every rank"));
    const FilePrediction counts =
        predict_file_on_ranks(model, part.input, part.output, options.predict, options.chunk_rows, options.hdu, ranks);
    if (ranks.root()) finish_part(part, counts);
  }
  for (const Part& part : share_of(std::move(shared), ranks)) {
    say(str("predicting ", part.input.string(), " (", part.stamp.bytes, " bytes)"));
    finish_part(part, predict_file(model, part.input, part.output, options.predict, options.chunk_rows, options.hdu));
  }
  ranks.barrier();
  if (ranks.root()) write_manifest(out_dir, model_path, model_checksum);
  return summary;
}

}  // namespace nn
