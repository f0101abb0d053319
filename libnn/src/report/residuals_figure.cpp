// <target>_residuals.png: the residual histogram sigma_gauss is fitted to, and the fit.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "figures.h"
#include "nn/error.h"
#include "nn/figure.h"
#include "nn/metrics.h"

namespace nn {
namespace fs = std::filesystem;
using namespace plot;

void draw_residuals(const TargetValues& t, const RegressionMetrics& m, const fs::path& png) {
  std::vector<double> r;
  for (std::size_t i = 0; i < t.truth.size(); ++i) {
    const double d = t.predicted[i] - t.truth[i];
    if (!std::isnan(d)) r.push_back(d);
  }
  plot::PngFigure figure(png, 1000, 650);
  plvpor(0.1, 0.95, 0.13, 0.9);
  const std::string xlabel = str("predicted - true ", t.name);
  if (r.empty()) {
    plwind(-1, 1, 0, 1);
    plcol0(ink);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    const std::string title = str(t.name, ": no star has both a prediction and a true value");
    pllab(xlabel.c_str(), "stars per bin", title.c_str());
    figure.finish();
    return;
  }
  const ResidualHistogram h = residual_histogram(r, m.sigma_mad);
  const double peak = *std::max_element(h.counts.begin(), h.counts.end());
  // The very fit regression_metrics reports as sigma_gauss: none where it trusted none.
  const std::optional<Gaussian> fit = residual_gaussian(h, std::int64_t(r.size()), m.sigma_mad);
  // Headroom above the peak keeps the notes in the top left clear of the bars.
  const double top = 1.3 * std::max({peak, fit ? fit->amplitude : 0.0, 1.0});
  plwind(h.low, h.high, 0, top);
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
  std::string title = str(t.name, ": ", r.size(), " residuals");
  if (fit) {
    std::vector<double> xs(400), ys(400);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      xs[i] = h.low + (h.high - h.low) * double(i) / double(xs.size() - 1);
      const double d = (xs[i] - fit->mean) / fit->sigma;
      ys[i] = fit->amplitude * std::exp(-0.5 * d * d);
    }
    plcol0(red);
    plwidth(2.5);
    plline(PLINT(xs.size()), xs.data(), ys.data());
    plwidth(1);
    char text[160];
    std::snprintf(text, sizeof text, "%s: Gaussian fit sigma %.4g, mean %+.3g (n %zu)", t.name.c_str(), fit->sigma,
                  fit->mean, r.size());
    title = text;
  } else {
    title += ", no trusted Gaussian fit";
  }
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  pllab(xlabel.c_str(), "stars per bin", title.c_str());
  char notes[200];
  std::snprintf(notes, sizeof notes, "sigma_mad %.4g  bias %+.3g  rmse %.4g", m.sigma_mad, m.bias, m.rmse);
  plmtex("t", -2.0, 0.02, 0, notes);
  if (h.outside) plmtex("t", -3.5, 0.02, 0, str(h.outside, " beyond the histogram's +-5 sigma_mad").c_str());
  figure.finish();
}

}  // namespace nn
