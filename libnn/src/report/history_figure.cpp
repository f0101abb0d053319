// history.png: training and validation loss per epoch, the best epoch marked.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "figures.h"
#include "legend.h"
#include "nn/figure.h"

namespace nn {
namespace fs = std::filesystem;
using namespace plot;

namespace {

// The curves as PLplot takes them.
struct History {
  std::vector<double> epoch, train, validation;
};

}  // namespace

void draw_history(const std::vector<HistoryRow>& rows, const fs::path& png) {
  History h;
  for (const HistoryRow& row : rows) {
    h.epoch.push_back(double(row.epoch));
    h.train.push_back(row.train_loss);
    h.validation.push_back(row.validation_loss);
  }
  const auto best = std::size_t(std::min_element(h.validation.begin(), h.validation.end()) - h.validation.begin());
  double lo = std::min(*std::min_element(h.train.begin(), h.train.end()), h.validation[best]);
  double hi = std::max(*std::max_element(h.train.begin(), h.train.end()),
                       *std::max_element(h.validation.begin(), h.validation.end()));
  const double margin = hi > lo ? 0.08 * (hi - lo) : 0.05 * std::max(std::abs(hi), 1e-3);
  lo -= margin, hi += margin;
  // Half an epoch either side at least, and room for the best epoch's star at either end.
  const double span = h.epoch.back() - h.epoch.front();
  const double pad = std::max(0.5, 0.025 * span);
  const auto n = PLINT(h.epoch.size());

  plot::PngFigure figure(png, 1000, 650);
  plvpor(0.1, 0.95, 0.13, 0.9);
  // The same glyph in the plot and in the legend.
  const char* const star = "#[0x2605]";
  const std::string best_text = str("best epoch ", h.epoch[best]);
  const Legend legend({
      line_entry("training", blue, 1, 2.5),
      line_entry("validation", orange, 1, 2.5),
      glyph_entry(best_text, red, star, 2.0),
  });
  // Losses fall: the top right is usually free; failing every corner the frame grows upwards.
  std::vector<Point> drawn;
  add_polyline(drawn, h.epoch, h.train);
  add_polyline(drawn, h.epoch, h.validation);
  // The best epoch's marker line drops from its star to the axis, clear of a legend above.
  const std::vector<double> best_x = {h.epoch[best], h.epoch[best]}, best_y = {lo, h.validation[best]};
  add_polyline(drawn, best_x, best_y);
  Window window{h.epoch.front() - pad, h.epoch.back() + pad, lo, hi};
  std::optional<Corner> corner = legend.free_corner(
      window, drawn, {Corner::top_right, Corner::bottom_left, Corner::top_left, Corner::bottom_right}, 0.03);
  if (!corner) {
    window.y_high = hi = legend.clearing_top(window, drawn, 0.03);
    corner = Corner::top_right;
  }
  plwind(window.x_low, window.x_high, lo, hi);
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  char title[120];
  std::snprintf(title, sizeof title, "best validation loss %.6g at epoch %lld", h.validation[best],
                (long long)h.epoch[best]);
  label_axes("epoch", "loss", title);
  // The best epoch first, so that the curves run over its marker line.
  plcol0(light_grey);
  plwidth(2);
  plline(2, best_x.data(), best_y.data());
  plwidth(2.5);
  plcol0(blue);
  plline(n, h.epoch.data(), h.train.data());
  plcol0(orange);
  plline(n, h.epoch.data(), h.validation.data());
  // Markers show each epoch where there are few enough to tell apart.
  if (n <= 60) {
    plcol0(blue);
    plpoin(n, h.epoch.data(), h.train.data(), 17);
    plcol0(orange);
    plpoin(n, h.epoch.data(), h.validation.data(), 17);
  }
  plwidth(1);
  plcol0(red);
  plschr(0, 2.0);
  PLFLT bx[] = {h.epoch[best]}, by[] = {h.validation[best]};
  plstring(1, bx, by, star);
  plschr(0, 1.1);
  legend.draw(*corner);
  figure.finish();
}

}  // namespace nn
