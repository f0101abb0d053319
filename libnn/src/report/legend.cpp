#include "legend.h"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "nn/figure.h"

namespace nn::plot {

namespace {

constexpr double inset = 0.02;         // between the frame and the box, a fraction of the viewport
constexpr double text_offset = 0.8;    // between the sample and the text, in character widths
constexpr double text_spacing = 2.0;   // from one row to the next, in character heights
constexpr double sample_length = 3.5;  // of a line sample, in character heights
constexpr double text_size = 0.92;     // of the figure's text, as legends are set a little smaller

// The line sample's length as pllegend takes it, a fraction of the viewport's width, so that
// it looks the same in a narrow panel as in a wide figure; none for a legend of text alone (a
// text box).
double sample_width(const std::vector<LegendEntry>& entries) {
  if (std::none_of(entries.begin(), entries.end(),
                   [](const LegendEntry& e) { return e.line_style > 0 || !e.glyph.empty(); }))
    return 0.0;
  PLFLT default_mm = 0, height_mm = 0;
  plgchr(&default_mm, &height_mm);
  PLFLT x_low = 0, x_high = 0, y_low = 0, y_high = 0;
  plgspa(&x_low, &x_high, &y_low, &y_high);  // the subpage, in mm
  PLFLT vx_low = 0, vx_high = 0, vy_low = 0, vy_high = 0;
  plgvpd(&vx_low, &vx_high, &vy_low, &vy_high);  // the viewport, a fraction of the subpage
  return sample_length * height_mm / ((x_high - x_low) * (vx_high - vx_low));
}

PLINT position_of(Corner corner) {
  switch (corner) {
    case Corner::top_left:
      return PL_POSITION_TOP | PL_POSITION_LEFT | PL_POSITION_INSIDE;
    case Corner::top_right:
      return PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE;
    case Corner::bottom_left:
      return PL_POSITION_BOTTOM | PL_POSITION_LEFT | PL_POSITION_INSIDE;
    case Corner::bottom_right:
      return PL_POSITION_BOTTOM | PL_POSITION_RIGHT | PL_POSITION_INSIDE;
  }
  return PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE;
}

// pllegend's arguments for the entries; `visible` false lays them out in the background colour
// with no samples, which measures the legend without showing it.
struct LegendCall {
  double sample = 0.0, offset = 0.0;  // a box of text needs no gap after its (empty) samples
  std::vector<PLINT> opts, text_colours, line_colours, line_styles, symbol_colours, symbol_numbers;
  std::vector<PLFLT> line_widths, symbol_scales;
  std::vector<const char*> texts, symbols;

  LegendCall(const std::vector<LegendEntry>& entries, bool visible)
      : sample(sample_width(entries)), offset(sample > 0 ? text_offset : 0.0) {
    for (const LegendEntry& e : entries) {
      PLINT opt = 0;
      if (visible && e.line_style > 0) opt |= PL_LEGEND_LINE;
      if (visible && !e.glyph.empty()) opt |= PL_LEGEND_SYMBOL;
      opts.push_back(opt ? opt : PL_LEGEND_NONE);
      text_colours.push_back(visible ? ink : background);
      texts.push_back(e.text.c_str());
      line_colours.push_back(e.colour);
      line_styles.push_back(std::max(e.line_style, 1));
      line_widths.push_back(e.line_width);
      symbol_colours.push_back(e.colour);
      symbol_scales.push_back(e.glyph_scale);
      // A glyph on a line marks the points the line joins: one at either end and one between.
      symbol_numbers.push_back(e.line_style > 0 ? 3 : 1);
      symbols.push_back(e.glyph.c_str());
    }
  }

  // Returns the box's width and height as fractions of the viewport.
  std::pair<double, double> call(PLINT opt, PLINT position) {
    PLFLT default_mm = 0, height_mm = 0;
    plgchr(&default_mm, &height_mm);
    const double text_scale = text_size * height_mm / default_mm;  // pllegend's is of the default
    PLFLT width = 0, height = 0;
    pllegend(&width, &height, opt, position, inset, inset, sample, background, ink, 1, 0, 0, PLINT(texts.size()),
             opts.data(), offset, text_scale, text_spacing, 0.0, text_colours.data(), texts.data(), nullptr, nullptr,
             nullptr, nullptr, line_colours.data(), line_styles.data(), line_widths.data(), symbol_colours.data(),
             symbol_scales.data(), symbol_numbers.data(), symbols.data());
    return {width, height};
  }
};

double fraction(double value, double low, double high) { return (value - low) / (high - low); }

}  // namespace

LegendEntry line_entry(std::string text, int colour, int style, double width, std::string glyph, double glyph_scale) {
  return {std::move(text), colour, style, width, std::move(glyph), glyph_scale};
}

LegendEntry glyph_entry(std::string text, int colour, std::string glyph, double glyph_scale) {
  return {std::move(text), colour, 0, 1.0, std::move(glyph), glyph_scale};
}

LegendEntry text_entry(std::string text) { return {std::move(text), ink, 0, 1.0, {}, 1.0}; }

Legend::Legend(std::vector<LegendEntry> entries) : entries_(std::move(entries)) {
  if (entries_.empty()) return;  // nothing to show, nothing in the way
  // pllegend restores the world coordinates it found, which must be valid ones: the caller sets
  // its own after this.
  plwind(0, 1, 0, 1);
  const auto [width, height] = LegendCall(entries_, false).call(0, position_of(Corner::top_left));
  width_ = width + inset;
  height_ = height + inset;
}

std::optional<Corner> Legend::free_corner(const Window& window, std::span<const Point> points,
                                          std::initializer_list<Corner> corners, double margin) const {
  for (const Corner corner : corners) {
    const bool left = corner == Corner::top_left || corner == Corner::bottom_left;
    const bool top = corner == Corner::top_left || corner == Corner::top_right;
    const double x_low = left ? 0.0 : 1.0 - width_ - margin, x_high = left ? width_ + margin : 1.0;
    const double y_low = top ? 1.0 - height_ - margin : 0.0, y_high = top ? 1.0 : height_ + margin;
    const bool clear = std::none_of(points.begin(), points.end(), [&](const Point& p) {
      const double fx = fraction(p.x, window.x_low, window.x_high);
      const double fy = fraction(p.y, window.y_low, window.y_high);
      return fx >= x_low && fx <= x_high && fy >= y_low && fy <= y_high;
    });
    if (clear) return corner;
  }
  return std::nullopt;
}

double Legend::clearing_top(const Window& window, std::span<const Point> points, double margin) const {
  // A point at y lies below the box when (y - y_low) / (top - y_low) < 1 - height - margin.
  const double room = std::max(1.0 - height_ - margin, 0.1);
  double top = window.y_high;
  for (const Point& p : points)
    if (std::isfinite(p.y) && p.x >= window.x_low && p.x <= window.x_high)
      top = std::max(top, window.y_low + (p.y - window.y_low) / room);
  return top;
}

void Legend::draw(Corner corner) const {
  if (entries_.empty()) return;
  LegendCall(entries_, true).call(PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position_of(corner));
}

void add_polyline(std::vector<Point>& points, std::span<const double> xs, std::span<const double> ys) {
  // 100 steps a segment: a segment crossing the whole frame leaves 1 % of it between points,
  // less than any legend box with its margin.
  constexpr int steps = 100;
  const std::size_t n = std::min(xs.size(), ys.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (i == 0 || !std::isfinite(xs[i - 1] + ys[i - 1] + xs[i] + ys[i])) {
      points.push_back({xs[i], ys[i]});
      continue;
    }
    for (int s = 1; s <= steps; ++s) {
      const double f = double(s) / steps;
      points.push_back({xs[i - 1] + f * (xs[i] - xs[i - 1]), ys[i - 1] + f * (ys[i] - ys[i - 1])});
    }
  }
}

}  // namespace nn::plot
