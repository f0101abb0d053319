// <target>_residuals.png: the residual histogram sigma_gauss is fitted to, and the fit.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "axis_label.h"
#include "figures.h"
#include "legend.h"
#include "nn/error.h"
#include "nn/figure.h"
#include "nn/metrics.h"

namespace nn {
namespace fs = std::filesystem;
using namespace plot;

namespace {

// A value with its unit, as the notes quote it: "+0.0047 dex".
std::string quoted(const char* format, double value, const Quantity& q) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return q.unit.empty() ? std::string(text) : str(text, " ", q.unit);
}

void draw_bars(const ResidualHistogram& h) {
  for (std::size_t k = 0; k < h.counts.size(); ++k) {
    if (h.counts[k] == 0) continue;
    const double x0 = h.low + double(k) * h.width;
    PLFLT xs[] = {x0, x0 + h.width, x0 + h.width, x0};
    PLFLT ys[] = {0, 0, h.counts[k], h.counts[k]};
    plcol0(blue);
    plfill(4, xs, ys);
    plcol0(background);
    plline(4, xs, ys);
  }
}

// The fitted curve across the histogram.
std::pair<std::vector<double>, std::vector<double>> gaussian_curve(const Gaussian& fit, const ResidualHistogram& h) {
  std::vector<double> xs(400), ys(400);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    xs[i] = h.low + (h.high - h.low) * double(i) / double(xs.size() - 1);
    const double d = (xs[i] - fit.mean) / fit.sigma;
    ys[i] = fit.amplitude * std::exp(-0.5 * d * d);
  }
  return {xs, ys};
}

// What a box of notes quotes: the report's own metrics, so that the figure and the JSON agree.
std::vector<LegendEntry> notes(const RegressionMetrics& m, const std::optional<Gaussian>& fit,
                               const ResidualHistogram& h, const Quantity& q) {
  std::vector<LegendEntry> rows = {
      text_entry("bias (mean) " + quoted("%+.3g", m.bias, q)),
      text_entry("#gs#dgauss#u " + (fit ? quoted("%.4g", m.sigma_gauss, q) : std::string("not trusted"))),
      text_entry("#gs#dMAD#u " + quoted("%.4g", m.sigma_mad, q)),
      text_entry("rmse " + quoted("%.4g", m.rmse, q)),
  };
  if (fit) rows.push_back(text_entry("fit centre " + quoted("%+.3g", fit->mean, q)));
  if (h.outside) rows.push_back(text_entry(str(h.outside, " beyond ±5 #gs#dMAD#u of the median")));
  return rows;
}

}  // namespace

void draw_residuals(const TargetValues& t, const RegressionMetrics& m, const fs::path& png) {
  std::vector<double> r;
  for (std::size_t i = 0; i < t.truth.size(); ++i) {
    const double d = t.predicted[i] - t.truth[i];
    if (!std::isnan(d)) r.push_back(d);
  }
  const Quantity q = target_quantity(t.name);
  plot::PngFigure figure(png, 1000, 650);
  plvpor(0.1, 0.95, 0.13, 0.9);
  const std::string xlabel = axis_label("predicted - true", t.name);
  if (r.empty()) {
    plwind(-1, 1, 0, 1);
    plcol0(ink);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    const std::string title = str(plain_text(t.name), ": no star has both a prediction and a true value");
    label_axes(xlabel.c_str(), "stars per bin", title.c_str());
    figure.finish();
    return;
  }
  const ResidualHistogram h = residual_histogram(r, m.sigma_mad);
  // The very fit regression_metrics reports as sigma_gauss: none where it trusted none.
  const std::optional<Gaussian> fit = residual_gaussian(h, std::int64_t(r.size()), m.sigma_mad);
  // An infinite bias (an infinite prediction) has no place on the axis.
  const bool bias_shown = m.bias >= h.low && m.bias <= h.high;
  std::vector<LegendEntry> key;
  if (fit) key.push_back(line_entry("Gaussian fit", red, 1, 2.5));
  if (bias_shown) key.push_back(line_entry("bias (mean)", ink, 2, 2));
  const Legend legend(key), note_box(notes(m, fit, h, q));

  // The bars and the curve as points, for the headroom the notes and the key need above them.
  std::vector<Point> drawn;
  for (std::size_t k = 0; k < h.counts.size(); ++k) {
    drawn.push_back({h.low + double(k) * h.width, h.counts[k]});
    drawn.push_back({h.low + double(k + 1) * h.width, h.counts[k]});
  }
  std::vector<double> curve_x, curve_y;
  if (fit) {
    std::tie(curve_x, curve_y) = gaussian_curve(*fit, h);
    add_polyline(drawn, curve_x, curve_y);
  }
  Window window{h.low, h.high, 0.0, 1.0};
  window.y_high = std::max({legend.clearing_top(window, drawn), note_box.clearing_top(window, drawn), 1.0});
  plwind(window.x_low, window.x_high, window.y_low, window.y_high);

  draw_bars(h);
  if (fit) {
    plcol0(red);
    plwidth(2.5);
    plline(PLINT(curve_x.size()), curve_x.data(), curve_y.data());
  }
  // The bias as the report computes it, the mean residual: not the fit's centre, which the
  // notes quote apart.
  if (bias_shown) {
    PLFLT bx[] = {m.bias, m.bias}, by[] = {0, window.y_high};
    plcol0(ink);
    plwidth(2);
    pllsty(2);
    plline(2, bx, by);
    pllsty(1);
  }
  plwidth(1);
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  const std::string title = str(plain_text(t.name), ": ", r.size(), " residuals, bias ", quoted("%+.3g", m.bias, q));
  label_axes(xlabel.c_str(), "stars per bin", title.c_str());
  note_box.draw(Corner::top_left);
  legend.draw(Corner::top_right);
  figure.finish();
}

}  // namespace nn
