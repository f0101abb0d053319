// <target>_calibration.png: whether the predicted uncertainties mean what they say, in two
// panels side by side: (a) the reliability diagram, the observed coverage of the central
// intervals of z against the expected one; (b) the residuals' spread in bins of predicted sigma
// against the bins' mean sigma. A calibrated net lies on the diagonal of both.
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

// Square panels: 0.64 of 720 pixels high is 0.329 of 1400 wide. The heading takes the top.
constexpr int figure_width = 1400, figure_height = 720;
constexpr double panel_bottom = 0.12, panel_top = 0.76, panel_width = 0.329;
constexpr double left_panel = 0.095, right_panel = 0.575;
// PLplot sizes text by the page's height: two panels side by side need it smaller than the
// other figures' 1.1 to leave the panels room.
constexpr double text_scale = 0.9, note_scale = 0.75, glyph_scale = 0.75;
// A marker's radius, a fraction of the panel: markers keep this far from the frame.
constexpr double marker_radius = 0.03;
const char* const circle = "#[0x25cf]";
const char* const square = "#[0x25a0]";

// x rounded up to a multiple of half its decade, so that the frame ends at a round value with
// room past the largest point: 0.49 becomes 0.5, 0.503 becomes 0.55.
double round_top(double x) {
  const double step = 0.5 * std::pow(10.0, std::floor(std::log10(x)));
  return step * std::ceil(x / step);
}

void select_panel(double left) { plvpor(left, left + panel_width, panel_bottom, panel_top); }

void draw_glyphs(const std::vector<double>& xs, const std::vector<double>& ys, int colour, const char* glyph) {
  plcol0(colour);
  plwidth(2);
  plline(PLINT(xs.size()), xs.data(), ys.data());
  plwidth(1);
  plschr(0, glyph_scale);
  plstring(PLINT(xs.size()), xs.data(), ys.data(), glyph);
  plschr(0, text_scale);
}

void draw_diagonal(double lo, double hi) {
  PLFLT line[] = {lo, hi};
  plcol0(ink);
  pllsty(2);
  plwidth(1.5);
  plline(2, line, line);
  plwidth(1);
  pllsty(1);
}

// Places the legend in the first free corner of `window`, growing its top when none is free;
// returns the window to draw in and the corner.
std::pair<Window, Corner> place(const Legend& legend, Window window, const std::vector<Point>& drawn) {
  if (const auto corner = legend.free_corner(window, drawn, {Corner::top_left, Corner::bottom_right}, marker_radius))
    return {window, *corner};
  window.y_high = legend.clearing_top(window, drawn, marker_radius);
  return {window, Corner::top_left};
}

// (a) Observed against expected coverage, in per cent.
void draw_reliability(const CalibrationMetrics& c) {
  select_panel(left_panel);
  std::vector<double> expected, observed;
  for (const CoveragePoint& p : c.reliability)
    if (std::isfinite(p.observed)) expected.push_back(100 * p.expected), observed.push_back(100 * p.observed);
  std::vector<LegendEntry> key;
  if (!expected.empty()) key.push_back(line_entry("this model", blue, 1, 2, circle, glyph_scale));
  key.push_back(line_entry("calibrated", ink, 2, 1.5));
  const Legend legend(key);
  std::vector<Point> drawn;
  add_polyline(drawn, expected, observed);
  add_polyline(drawn, std::vector<double>{0.0, 100.0}, std::vector<double>{0.0, 100.0});
  // The axes are 0 to 100 %, widened where a marker would touch the frame.
  double y_low = 0.0, y_high = 100.0;
  for (double o : observed) y_low = std::min(y_low, o - 3.0), y_high = std::max(y_high, o + 3.0);
  const auto [window, corner] = place(legend, {0.0, 100.0, y_low, y_high}, drawn);
  plwind(window.x_low, window.x_high, window.y_low, window.y_high);
  draw_diagonal(0.0, 100.0);
  if (!expected.empty()) draw_glyphs(expected, observed, blue, circle);
  plcol0(ink);
  plbox("bcnst", 20, 2, "bcnstv", 20, 2);
  label_axes("expected coverage (%)", "observed coverage (%)", "");
  plmtex("t", 1.2, 0.5, 0.5, "(a) stars with |z| inside the central interval");
  legend.draw(corner);
}

// (b) The residuals' sigma_gauss and sigma_mad per bin of predicted sigma, against the bin's
// mean sigma, on one square frame from 0 so that the 1:1 line is the diagonal.
void draw_sigma_bins(const CalibrationMetrics& c, const Quantity& q) {
  select_panel(right_panel);
  std::vector<double> gauss_x, gauss_y, mad_x, mad_y;
  for (const SigmaBin& b : c.bins) {
    // sigma_gauss is NaN where the fit is not trusted (a bin of under 20 stars): left out.
    if (std::isfinite(b.mean_sigma) && std::isfinite(b.residuals.sigma_gauss)) {
      gauss_x.push_back(b.mean_sigma);
      gauss_y.push_back(b.residuals.sigma_gauss);
    }
    if (std::isfinite(b.mean_sigma) && std::isfinite(b.residuals.sigma_mad)) {
      mad_x.push_back(b.mean_sigma);
      mad_y.push_back(b.residuals.sigma_mad);
    }
  }
  double top = 0.0, least = HUGE_VAL;
  for (const auto* values : {&gauss_x, &gauss_y, &mad_x, &mad_y})
    for (double v : *values) {
      top = std::max(top, v);
      least = std::min(least, v);
    }
  // The largest value a marker's radius inside the frame, and the frame below 0 where a value
  // lies closer to 0 than that.
  top = top > 0 ? round_top(top / (1 - marker_radius)) : 1.0;
  const double low = least < marker_radius * top ? -marker_radius * top : 0.0;
  std::vector<LegendEntry> key;
  if (!gauss_x.empty()) key.push_back(line_entry("#gs#dgauss#u", blue, 1, 2, circle, glyph_scale));
  if (!mad_x.empty()) key.push_back(line_entry("#gs#dMAD#u", orange, 1, 2, square, glyph_scale));
  key.push_back(line_entry("calibrated", ink, 2, 1.5));
  const Legend legend(key);
  std::vector<Point> drawn;
  add_polyline(drawn, gauss_x, gauss_y);
  add_polyline(drawn, mad_x, mad_y);
  add_polyline(drawn, std::vector<double>{low, top}, std::vector<double>{low, top});
  auto [window, corner] = place(legend, {low, top, low, top}, drawn);
  window.x_high = window.y_high;  // square, as the diagonal must be
  plwind(window.x_low, window.x_high, window.y_low, window.y_high);
  draw_diagonal(low, window.x_high);
  if (!gauss_x.empty()) draw_glyphs(gauss_x, gauss_y, blue, circle);
  if (!mad_x.empty()) draw_glyphs(mad_x, mad_y, orange, square);
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  label_axes(with_unit("mean predicted #gs of the bin", q).c_str(), with_unit("residual spread", q).c_str(), "");
  const std::string title = c.bins.empty() ? std::string("(b) no bin of predicted #gs")
                                           : str("(b) ", c.bins.size(), " bins of predicted #gs, ~",
                                                 c.bins.front().residuals.n, " stars each");
  plmtex("t", 1.2, 0.5, 0.5, title.c_str());
  legend.draw(corner);
}

// The figures the report quotes, over both panels, and what z is.
void draw_heading(const std::string& name, const CalibrationMetrics& c, SplitChoice split, const Quantity& q) {
  plvpor(0, 1, 0, 1);
  plwind(0, 1, 0, 1);
  plcol0(ink);
  std::string first =
      str(plain_text(name), ": predicted uncertainties of ", c.n, " stars (", to_string(split), " split)");
  if (c.n > 0) {
    char mean_sigma[48];
    std::snprintf(mean_sigma, sizeof mean_sigma, "%.4g", c.mean_sigma);
    first += str(", mean #gs ", mean_sigma, q.unit.empty() ? "" : " ", q.unit);
  }
  char second[200] = "no star has a finite prediction, uncertainty, true value and label error";
  if (c.n > 0)
    std::snprintf(second, sizeof second,
                  "|z| < 1: %.1f %% (68.3 %% if calibrated),   |z| < 1.96: %.1f %% (95.0 %%),   #gs#dMAD#u(z) %.3g (1)",
                  100 * c.coverage_68, 100 * c.coverage_95, c.z_sigma_mad);
  plptex(0.5, 0.96, 1, 0, 0.5, first.c_str());
  plptex(0.5, 0.918, 1, 0, 0.5, second);
  plschr(0, note_scale);
  plptex(0.5, 0.87, 1, 0, 0.5,
         "z = (predicted - true) / (#gs#u2#d + label error#u2#d)#u1/2#d, #gs the predicted uncertainty");
  plschr(0, text_scale);
}

}  // namespace

void draw_calibration(const std::string& name, const CalibrationMetrics& c, SplitChoice split, const fs::path& png) {
  const Quantity q = target_quantity(name);
  plot::PngFigure figure(png, figure_width, figure_height);
  plschr(0, text_scale);
  draw_reliability(c);
  draw_sigma_bins(c, q);
  draw_heading(name, c, split, q);
  figure.finish();
}

}  // namespace nn
