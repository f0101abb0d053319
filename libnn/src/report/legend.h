#pragma once
// Legends that hide no data: a legend is measured before anything is drawn, then put in the
// first corner of the frame its box leaves every point clear of, or the frame grows to make
// room for it above the data.
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nn::plot {

// One row of a legend: a line sample, a glyph, or both; a legend whose rows have neither is a
// box of text.
struct LegendEntry {
  std::string text;
  int colour = 1;      // of the sample, colour map 0 (plot::Colour); the text is in ink
  int line_style = 0;  // pllsty's: 1 solid, 2 short dashes; 0 draws no line
  double line_width = 1.5;
  std::string glyph;         // as plstring draws it ("#[0x25cf]"); empty draws none
  double glyph_scale = 1.0;  // of the character height, as plschr sets it for plstring
};

// A line sample (pllsty's style), with a glyph on it where one is given: the points it joins.
LegendEntry line_entry(std::string text, int colour, int style, double width, std::string glyph = {},
                       double glyph_scale = 1.0);
LegendEntry glyph_entry(std::string text, int colour, std::string glyph, double glyph_scale);
// A row of text alone, in ink.
LegendEntry text_entry(std::string text);

struct Point {
  double x = 0.0, y = 0.0;
};

// The world coordinates of the frame, as plwind takes them.
struct Window {
  double x_low = 0.0, x_high = 1.0, y_low = 0.0, y_high = 1.0;
};

enum class Corner { top_left, top_right, bottom_left, bottom_right };

class Legend {
 public:
  // Measures the legend as pllegend lays it out in the current viewport, which is where it
  // will be drawn. PLplot can measure its text only by drawing it: the measuring draws the
  // text in the background colour, so it must come before anything else in the viewport. A
  // legend of no entries takes no room and draws nothing.
  explicit Legend(std::vector<LegendEntry> entries);

  // The first of `corners` whose legend box holds none of `points` (world coordinates of
  // `window`), with `margin` (a fraction of the frame, a marker's radius) around the box;
  // none when every one holds some.
  std::optional<Corner> free_corner(const Window& window, std::span<const Point> points,
                                    std::initializer_list<Corner> corners, double margin = 0.015) const;
  // The top the window needs for the box in a top corner to lie above every point.
  double clearing_top(const Window& window, std::span<const Point> points, double margin = 0.015) const;

  void draw(Corner corner) const;

 private:
  // The box's width and height as fractions of the viewport, its inset from the frame included.
  double width_ = 0.0, height_ = 0.0;
  std::vector<LegendEntry> entries_;
};

// Adds points along the polyline (xs, ys) to `points`, close enough together that no legend box
// fits between them, so that a legend placed clear of the points hides no part of the line.
void add_polyline(std::vector<Point>& points, std::span<const double> xs, std::span<const double> ys);

}  // namespace nn::plot
