// <target>_predicted_vs_true.png: predicted against true values on one square frame.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "figures.h"
#include "nn/error.h"
#include "nn/figure.h"

namespace nn {
namespace fs = std::filesystem;
using namespace plot;

namespace {

// Beyond this many points a scatter plot is a solid blot; binned counts show where they lie.
constexpr std::size_t max_scatter_points = 1000;

double quantile(std::vector<double> values, double q) {
  const auto k = std::size_t(q * double(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(k), values.end());
  return values[k];
}

}  // namespace

void draw_predicted_vs_true(const TargetValues& t, SplitChoice split, const fs::path& png) {
  std::vector<double> x, y;
  for (std::size_t i = 0; i < t.truth.size(); ++i)
    if (std::isfinite(t.truth[i]) && std::isfinite(t.predicted[i]))
      x.push_back(t.truth[i]), y.push_back(t.predicted[i]);
  // One square frame for both axes, so that the 1:1 line is the diagonal; the extreme 0.1% on
  // either side is left out, so that a few catastrophic predictions cannot shrink the rest.
  double lo = -1, hi = 1;
  if (!x.empty()) {
    std::vector<double> both = x;
    both.insert(both.end(), y.begin(), y.end());
    lo = quantile(both, 0.001), hi = quantile(both, 0.999);
    const double margin = hi > lo ? 0.04 * (hi - lo) : 0.5;
    lo -= margin, hi += margin;
  }
  std::size_t outside = 0;
  for (std::size_t i = 0; i < x.size(); ++i) outside += !(x[i] >= lo && x[i] <= hi && y[i] >= lo && y[i] <= hi);
  const bool density = x.size() > max_scatter_points;

  plot::PngFigure figure(png, 820, 700);
  plvpor(0.12, 0.8, 0.11, 0.9);
  plwind(lo, hi, lo, hi);
  std::string title = str(t.name, ": ", x.size(), " stars (split ", to_string(split), ")");
  if (outside) title += str(", ", outside, " outside the frame");
  if (density) {
    // Counts per square bin, coloured by log10 so that both the dense core and the sparse
    // wings read; empty bins stay white.
    const auto bins = std::size_t(std::clamp(std::sqrt(double(x.size()) / 4.0), 20.0, 120.0));
    const double width = (hi - lo) / double(bins);
    std::vector<double> counts(bins * bins, 0.0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!(x[i] >= lo && x[i] < hi && y[i] >= lo && y[i] < hi)) continue;
      const auto bx = std::min(std::size_t((x[i] - lo) / width), bins - 1);
      const auto by = std::min(std::size_t((y[i] - lo) / width), bins - 1);
      counts[by * bins + bx] += 1;
    }
    const double top = std::max(std::log10(*std::max_element(counts.begin(), counts.end())), 1.0);
    for (std::size_t by = 0; by < bins; ++by)
      for (std::size_t bx = 0; bx < bins; ++bx) {
        const double count = counts[by * bins + bx];
        if (count == 0) continue;
        const double x0 = lo + double(bx) * width, y0 = lo + double(by) * width;
        PLFLT xs[] = {x0, x0 + width, x0 + width, x0};
        PLFLT ys[] = {y0, y0, y0 + width, y0 + width};
        plcol1(std::log10(count) / top);
        plfill(4, xs, ys);
      }
    plcol0(ink);
    draw_colour_bar(0, top, "log#d10#u(stars per bin)");
  } else {
    plcol0(blue);
    plssym(0, 0.8);
    plpoin(PLINT(x.size()), x.data(), y.data(), 17);
    plssym(0, 1);
  }
  PLFLT diagonal[] = {lo, hi};
  plcol0(red);
  plwidth(1.5);
  plline(2, diagonal, diagonal);
  plwidth(1);
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  // The key to the line goes with the axis label: inside the frame it would hide stars.
  pllab(str("true ", t.name, " (red line: predicted = true)").c_str(), str("predicted ", t.name).c_str(),
        title.c_str());
  figure.finish();
}

}  // namespace nn
