// history.png: training and validation loss per epoch, the best epoch marked.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "figures.h"
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
  const auto n = PLINT(h.epoch.size());

  plot::PngFigure figure(png, 1000, 650);
  plvpor(0.1, 0.95, 0.13, 0.9);
  plwind(h.epoch.front() - 0.5, h.epoch.back() + 0.5, lo, hi);
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  const std::string title = str("best validation loss ", h.validation[best], " at epoch ", h.epoch[best]);
  pllab("epoch", "loss", title.c_str());
  // The best epoch first, so that the curves run over its marker line.
  PLFLT best_x[] = {h.epoch[best], h.epoch[best]}, best_y[] = {lo, hi};
  plcol0(light_grey);
  plwidth(2);
  plline(2, best_x, best_y);
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
  // The same glyph in the plot and in the legend.
  const char* const star = "#[0x2605]";
  plcol0(red);
  plschr(0, 2.2);
  PLFLT bx[] = {h.epoch[best]}, by[] = {h.validation[best]};
  plstring(1, bx, by, star);
  plschr(0, 1.1);

  PLFLT legend_width = 0, legend_height = 0;
  PLINT opts[] = {PL_LEGEND_LINE, PL_LEGEND_LINE, PL_LEGEND_SYMBOL};
  const std::string best_text = str("best epoch ", h.epoch[best]);
  const char* texts[] = {"training", "validation", best_text.c_str()};
  PLINT text_colours[] = {ink, ink, ink};
  PLINT line_colours[] = {blue, orange, red};
  PLINT line_styles[] = {1, 1, 1};
  PLFLT line_widths[] = {2.5, 2.5, 1};
  PLINT symbol_colours[] = {red, red, red};
  PLFLT symbol_scales[] = {2.0, 2.0, 2.0};
  PLINT symbol_numbers[] = {1, 1, 1};
  const char* symbols[] = {star, star, star};
  pllegend(&legend_width, &legend_height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, background, ink, 1, 0, 0, 3,
           opts, 1.0, 1.0, 2.0, 0.0, text_colours, texts, nullptr, nullptr, nullptr, nullptr, line_colours, line_styles,
           line_widths, symbol_colours, symbol_scales, symbol_numbers, symbols);
  figure.finish();
}

}  // namespace nn
