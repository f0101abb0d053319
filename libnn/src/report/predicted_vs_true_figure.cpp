// <target>_predicted_vs_true.png: predicted against true values on one square frame.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "axis_label.h"
#include "figures.h"
#include "legend.h"
#include "nn/error.h"
#include "nn/figure.h"

namespace nn {
namespace fs = std::filesystem;
using namespace plot;

namespace {

// Beyond this many points a scatter plot is a solid blot; binned counts show where they lie.
constexpr std::size_t max_scatter_points = 1000;
// A scatter marker's radius, a fraction of the frame: stars closer to the frame than this
// are left out (and counted outside) rather than drawn cut in half.
constexpr double marker_radius = 0.012;

double quantile(std::vector<double> values, double q) {
  const auto k = std::size_t(q * double(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(k), values.end());
  return values[k];
}

// One square frame for both axes, so that the 1:1 line is the diagonal; the extreme 0.1% on
// either side is left out, so that a few catastrophic predictions cannot shrink the rest.
std::pair<double, double> frame_range(const std::vector<Point>& stars) {
  if (stars.empty()) return {-1.0, 1.0};
  std::vector<double> both;
  for (const Point& p : stars) both.push_back(p.x), both.push_back(p.y);
  double lo = quantile(both, 0.001), hi = quantile(both, 0.999);
  const double margin = hi > lo ? 0.04 * (hi - lo) : 0.5;
  return {lo - margin, hi + margin};
}

bool inside(const Point& p, double lo, double hi, double border) {
  return p.x >= lo + border && p.x <= hi - border && p.y >= lo + border && p.y <= hi - border;
}

// Counts per square bin, coloured by log10 so that both the dense core and the sparse wings
// read; empty bins stay white.
void draw_density(const std::vector<Point>& stars, double lo, double hi, std::size_t bins) {
  const double width = (hi - lo) / double(bins);
  std::vector<double> counts(bins * bins, 0.0);
  for (const Point& p : stars) {
    if (!(p.x >= lo && p.x < hi && p.y >= lo && p.y < hi)) continue;
    const auto bx = std::min(std::size_t((p.x - lo) / width), bins - 1);
    const auto by = std::min(std::size_t((p.y - lo) / width), bins - 1);
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
}

}  // namespace

void draw_predicted_vs_true(const TargetValues& t, SplitChoice split, const fs::path& png) {
  std::vector<Point> stars;
  for (std::size_t i = 0; i < t.truth.size(); ++i)
    if (std::isfinite(t.truth[i]) && std::isfinite(t.predicted[i])) stars.push_back({t.truth[i], t.predicted[i]});
  auto [lo, hi] = frame_range(stars);
  const bool density = stars.size() > max_scatter_points;
  const auto bins = std::size_t(std::clamp(std::sqrt(double(stars.size()) / 4.0), 20.0, 120.0));

  plot::PngFigure figure(png, 820, 700);
  // Without a colour bar on the right the frame moves to the middle.
  const double left = density ? 0.13 : 0.17;
  plvpor(left, left + 0.67, 0.11, 0.9);
  const Legend legend({line_entry("predicted = true", red, 1, 1.5)});
  // The legend goes in the corner farthest from the diagonal that no star (nor bin) lies in;
  // failing both, the frame grows at the top (both axes, to stay square) to make room for it.
  const double margin = density ? std::max(1.0 / double(bins), marker_radius) : marker_radius;
  Window window{lo, hi, lo, hi};
  std::vector<Point> drawn = stars;
  add_polyline(drawn, std::vector<double>{lo, hi}, std::vector<double>{lo, hi});
  std::optional<Corner> corner = legend.free_corner(window, drawn, {Corner::top_left, Corner::bottom_right}, margin);
  if (!corner) {
    hi = legend.clearing_top(window, drawn, margin);
    corner = Corner::top_left;
  }
  plwind(lo, hi, lo, hi);
  const double border = density ? 0.0 : marker_radius * (hi - lo);
  const auto outside = std::size_t(
      std::count_if(stars.begin(), stars.end(), [&](const Point& p) { return !inside(p, lo, hi, border); }));
  if (density) {
    draw_density(stars, lo, hi, bins);
  } else {
    std::vector<double> x, y;
    for (const Point& p : stars)
      if (inside(p, lo, hi, border)) x.push_back(p.x), y.push_back(p.y);
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
  std::string title = str(plain_text(t.name), ": ", stars.size(), " stars (", to_string(split), " split)");
  if (outside) title += str(", ", outside, " outside the frame");
  label_axes(axis_label("true", t.name).c_str(), axis_label("predicted", t.name).c_str(), title.c_str());
  legend.draw(*corner);
  figure.finish();
}

}  // namespace nn
