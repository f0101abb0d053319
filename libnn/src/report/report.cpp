#include "nn/report.h"

#include <cctype>
#include <string>

#include "figures.h"
#include "nn/error.h"

namespace nn {
namespace fs = std::filesystem;

namespace {

std::string file_stem(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return out;
}

}  // namespace

ReportFiles write_report(const EvaluatedValues& values, const EvaluationReport& report, const fs::path& history_csv,
                         const fs::path& dir) {
  fs::create_directories(dir);
  ReportFiles files;
  if (fs::exists(history_csv)) {
    const std::vector<HistoryRow> rows = read_history(history_csv);
    if (rows.empty()) throw Error(str(history_csv.string(), ": no epoch recorded"));
    files.written.push_back(dir / "history.png");
    draw_history(rows, files.written.back());
  } else {
    files.history_skipped = true;
  }
  for (std::size_t k = 0; k < values.targets.size(); ++k) {
    const TargetValues& t = values.targets[k];
    const std::string stem = file_stem(t.name);
    files.written.push_back(dir / (stem + "_predicted_vs_true.png"));
    draw_predicted_vs_true(t, values.split, files.written.back());
    files.written.push_back(dir / (stem + "_residuals.png"));
    draw_residuals(t, report.targets[k].metrics, files.written.back());
    if (const auto& calibration = report.targets[k].calibration) {
      files.written.push_back(dir / (stem + "_calibration.png"));
      draw_calibration(t.name, *calibration, values.split, files.written.back());
    }
  }
  if (values.classifier && report.classifier) {
    files.written.push_back(dir / "confusion.png");
    draw_confusion(values.classifier->label, *report.classifier, files.written.back());
  }
  return files;
}

}  // namespace nn
