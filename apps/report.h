#pragma once
// The program's figures, drawn with PLplot: the PNG set-up shared by `map` and `evaluate`, and the
// figures of `evaluate --report`.
#include <filesystem>

#include "nn/evaluation.h"

namespace starnn {

// Colour map 0 entries every figure shares; colour map 1 is viridis, dark to bright.
enum PlotColour { background = 0, ink = 1, blue = 2, orange = 3, red = 4, light_grey = 5 };

// One PNG being drawn: construction starts PLplot (pngcairo, black on white, viridis) on a
// temporary name next to `png`, because PLplot writes straight to the file it is given;
// finish() ends the plot and renames the temporary into place, so the image appears whole or
// not at all. Destroyed unfinished (an exception while drawing), it ends the plot and removes
// the temporary.
class PngFigure {
 public:
  PngFigure(const std::filesystem::path& png, int width, int height);
  PngFigure(const PngFigure&) = delete;
  PngFigure& operator=(const PngFigure&) = delete;
  ~PngFigure();
  void finish();

 private:
  std::filesystem::path png_, tmp_;
  bool open_ = true;
};

// A vertical colour bar right of the viewport for colour map 1 over [lo, hi].
void draw_colour_bar(double lo, double hi, const char* label);

// Writes into dir: history.png from history_csv (skipped, with a note on stderr, when there is no
// such file), <target>_predicted_vs_true.png and <target>_residuals.png per target, and
// confusion.png for a classifier. report holds the metrics of values (evaluate_values).
void write_report(const nn::EvaluatedValues& values, const nn::EvaluationReport& report,
                  const std::filesystem::path& history_csv, const std::filesystem::path& dir);

}  // namespace starnn
