// confusion.png: a classifier's confusion matrix.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "axis_label.h"
#include "figures.h"
#include "nn/error.h"
#include "nn/figure.h"

namespace nn {
namespace fs = std::filesystem;
using namespace plot;

void draw_confusion(const std::string& label, const BinaryMetrics& c, const fs::path& png) {
  // The left margin holds the row labels and, beyond them, the axis title.
  plot::PngFigure figure(png, 840, 680);
  plvpor(0.25, 0.8, 0.14, 0.88);
  plwind(0, 2, 0, 2);
  // Rows are the true class (positive on top), columns the prediction.
  const double cells[2][2] = {{double(c.true_negative), double(c.false_positive)},
                              {double(c.false_negative), double(c.true_positive)}};
  const double most = std::max({cells[0][0], cells[0][1], cells[1][0], cells[1][1], 1.0});
  for (int truth = 0; truth < 2; ++truth)
    for (int predicted = 0; predicted < 2; ++predicted) {
      const double share = cells[truth][predicted] / most;
      PLFLT xs[] = {double(predicted), predicted + 1.0, predicted + 1.0, double(predicted)};
      PLFLT ys[] = {double(truth), double(truth), truth + 1.0, truth + 1.0};
      plcol1(share);
      plfill(4, xs, ys);
      // Viridis is dark at the bottom: white text there, black on the bright end.
      plcol0(share < 0.6 ? background : ink);
      plschr(0, 2.0);
      plptex(predicted + 0.5, truth + 0.55, 1, 0, 0.5, str(std::int64_t(cells[truth][predicted])).c_str());
      plschr(0, 1.1);
      const double fraction = c.n ? cells[truth][predicted] / double(c.n) : 0.0;
      char text[40];
      std::snprintf(text, sizeof text, "%.1f%% of all", 100 * fraction);
      plptex(predicted + 0.5, truth + 0.35, 1, 0, 0.5, text);
    }
  plcol0(ink);
  plbox("bc", 1, 0, "bc", 1, 0);
  plmtex("b", 1.5, 0.25, 0.5, "0 (negative)");
  plmtex("b", 1.5, 0.75, 0.5, "1 (positive)");
  plmtex("b", 3.2, 0.5, 0.5, "predicted (logit > 0)");
  plmtex("lv", 1.0, 0.25, 1, "0 (negative)");
  plmtex("lv", 1.0, 0.75, 1, "1 (positive)");
  plmtex("l", 10.5, 0.5, 0.5, str("true ", plain_text(label)).c_str());
  char title[160];
  std::snprintf(title, sizeof title, "%s: accuracy %.4g over %lld stars", plain_text(label).c_str(), c.accuracy,
                (long long)c.n);
  plmtex("t", 1.5, 0.5, 0.5, title);
  draw_colour_bar(0, most, "stars");
  figure.finish();
}

}  // namespace nn
