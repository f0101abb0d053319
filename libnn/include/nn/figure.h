#pragma once
// The PNG set-up every figure of starnn::report shares (report.h, and the map of `starnn map`):
// PLplot's pngcairo device, black on white, a few named colours and the viridis colour map.
// Part of libstarnn_report (target starnn::report), the only part of starnn that needs PLplot.
#include <filesystem>
#include <memory>

#include "nn/export.h"

namespace nn::plot {

// Colour map 0 entries every figure shares; colour map 1 is viridis, dark to bright.
enum Colour : int { background = 0, ink = 1, blue = 2, orange = 3, red = 4, light_grey = 5 };

// One PNG being drawn with PLplot's plotting calls: construction starts PLplot on a temporary
// next to `png`, because PLplot writes straight to the file it is given; finish() ends the plot
// and renames the temporary into place, so that the image appears whole or not at all.
// Destroyed unfinished (an exception while drawing), it ends the plot and removes the temporary.
// PLplot has one current plot: one figure at a time.
class NN_API PngFigure {
 public:
  PngFigure(const std::filesystem::path& png, int width, int height);
  PngFigure(const PngFigure&) = delete;
  PngFigure& operator=(const PngFigure&) = delete;
  ~PngFigure();
  void finish();

 private:
  struct Target;
  std::unique_ptr<Target> target_;
  bool open_ = true;
};

// pllab's labels, but with the y axis label moved out past the widest tick label the last
// plbox wrote (call it after plbox), so that long tick labels (-0.25, 60000) never run into it.
NN_API void label_axes(const char* x_label, const char* y_label, const char* title);

// A vertical colour bar right of the viewport for colour map 1 over [lo, hi].
NN_API void draw_colour_bar(double lo, double hi, const char* label);

}  // namespace nn::plot
