#include "report.h"

#include <plplot.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "nn/error.h"
#include "nn/metrics.h"

namespace fs = std::filesystem;

namespace starnn {

PngFigure::PngFigure(const fs::path& png, int width, int height)
    : png_(png), tmp_(png.parent_path() / nn::str(".", png.filename().string(), ".tmp")) {
  plsdev("pngcairo");
  plsfnam(tmp_.c_str());
  plsetopt("geometry", nn::str(width, "x", height).c_str());
  plscol0(background, 255, 255, 255);
  plscol0(ink, 0, 0, 0);
  plscol0(blue, 31, 119, 180);
  plscol0(orange, 255, 127, 14);
  plscol0(red, 214, 39, 40);
  plscol0(light_grey, 200, 200, 200);
  // A perceptually uniform palette (viridis), so that brighter reads as more.
  PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
  PLFLT r[] = {0.267, 0.230, 0.128, 0.369, 0.993};
  PLFLT g[] = {0.005, 0.322, 0.567, 0.789, 0.906};
  PLFLT b[] = {0.329, 0.546, 0.551, 0.383, 0.144};
  plscmap1n(256);
  plscmap1l(1, 5, pos, r, g, b, nullptr);
  plinit();
  pladv(0);
  plschr(0, 1.1);
}

PngFigure::~PngFigure() {
  if (!open_) return;
  plend();
  std::error_code ignored;
  fs::remove(tmp_, ignored);
}

void PngFigure::finish() {
  plend();
  open_ = false;
  std::error_code error;
  if (!fs::exists(tmp_, error)) throw nn::Error(nn::str("PLplot wrote no image to ", tmp_.string()));
  fs::rename(tmp_, png_);
}

void draw_colour_bar(double lo, double hi, const char* label) {
  PLFLT bar_width = 0, bar_height = 0;
  PLINT label_opts[] = {PL_COLORBAR_LABEL_RIGHT};
  const char* labels[] = {label};
  const char* axis_opts[] = {"bcvtm"};
  PLFLT ticks[] = {0.0};
  PLINT sub_ticks[] = {0};
  PLINT n_values[] = {2};
  PLFLT range[] = {lo, hi};
  const PLFLT* values[] = {range};
  plcolorbar(&bar_width, &bar_height, PL_COLORBAR_GRADIENT, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.03, 0.0, 0.04,
             1.0, 0, 1, 1, 0.0, 0.0, 1, 1.0, 1, label_opts, labels, 1, axis_opts, ticks, sub_ticks, n_values, values);
}

namespace {

// Beyond this many points a scatter plot is a solid blot; binned counts show where they lie.
constexpr std::size_t max_scatter_points = 1000;

std::string file_stem(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return out;
}

// ---- history.png ----

struct History {
  std::vector<double> epoch, train, validation;
};

History read_history(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  if (!in || !std::getline(in, line)) throw nn::Error(nn::str(csv.string(), ": cannot read a header line"));
  auto split = [](const std::string& text) {
    std::vector<std::string> fields;
    std::stringstream stream(text);
    for (std::string field; std::getline(stream, field, ',');) fields.push_back(field);
    return fields;
  };
  const std::vector<std::string> header = split(line);
  auto column = [&](const char* name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw nn::Error(nn::str(csv.string(), ": no column '", name, "'"));
    return std::size_t(it - header.begin());
  };
  const std::size_t epoch = column("epoch"), train = column("train_loss"), validation = column("validation_loss");
  History history;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::vector<std::string> fields = split(line);
    try {
      history.epoch.push_back(std::stod(fields.at(epoch)));
      history.train.push_back(std::stod(fields.at(train)));
      history.validation.push_back(std::stod(fields.at(validation)));
    } catch (const std::exception&) {
      throw nn::Error(nn::str(csv.string(), ": line ", number, " is not a row of numbers"));
    }
  }
  if (history.epoch.empty()) throw nn::Error(nn::str(csv.string(), ": no epoch recorded"));
  return history;
}

void draw_history(const History& h, const fs::path& png) {
  const auto best = std::size_t(std::min_element(h.validation.begin(), h.validation.end()) - h.validation.begin());
  double lo = std::min(*std::min_element(h.train.begin(), h.train.end()), h.validation[best]);
  double hi = std::max(*std::max_element(h.train.begin(), h.train.end()),
                       *std::max_element(h.validation.begin(), h.validation.end()));
  const double margin = hi > lo ? 0.08 * (hi - lo) : 0.05 * std::max(std::abs(hi), 1e-3);
  lo -= margin, hi += margin;
  const auto n = PLINT(h.epoch.size());

  PngFigure figure(png, 1000, 650);
  plvpor(0.1, 0.95, 0.13, 0.9);
  plwind(h.epoch.front() - 0.5, h.epoch.back() + 0.5, lo, hi);
  plcol0(ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  const std::string title = nn::str("best validation loss ", h.validation[best], " at epoch ", h.epoch[best]);
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
  const std::string best_text = nn::str("best epoch ", h.epoch[best]);
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

// ---- <target>_predicted_vs_true.png ----

double quantile(std::vector<double> values, double q) {
  const auto k = std::size_t(q * double(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(k), values.end());
  return values[k];
}

void draw_predicted_vs_true(const nn::TargetValues& t, nn::SplitChoice split, const fs::path& png) {
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

  PngFigure figure(png, 820, 700);
  plvpor(0.12, 0.8, 0.11, 0.9);
  plwind(lo, hi, lo, hi);
  std::string title = nn::str(t.name, ": ", x.size(), " stars (split ", nn::to_string(split), ")");
  if (outside) title += nn::str(", ", outside, " outside the frame");
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
  pllab(nn::str("true ", t.name, " (red line: predicted = true)").c_str(), nn::str("predicted ", t.name).c_str(),
        title.c_str());
  figure.finish();
}

// ---- <target>_residuals.png ----

// The histogram regression_metrics fits (nn/metrics.h): median +- 5 sigma_mad in
// ceil(10 n^(1/3) / 2.698) bins. Drawing the very histogram that was fitted lets the figure show
// how well sigma_gauss describes the residuals.
struct ResidualHistogram {
  double median = 0, low = 0, high = 0, width = 0;
  std::vector<double> centres, counts;
  std::size_t outside = 0;
};

ResidualHistogram residual_histogram(const std::vector<double>& r, double sigma_mad) {
  std::vector<double> sorted = r;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  ResidualHistogram h;
  const double median = h.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2] + sorted[n / 2 - 1]);
  double bins = 0;
  if (sigma_mad > 0 && std::isfinite(sigma_mad)) {
    h.low = median - 5.0 * sigma_mad, h.high = median + 5.0 * sigma_mad;
    bins = std::ceil(2.0 * 5.0 * std::cbrt(double(n)) / (2.0 * 1.349));
  } else {  // too few distinct residuals for the rule: their whole range, in a few bins
    h.low = sorted.front() - 0.5, h.high = sorted.back() + 0.5, bins = 10;
  }
  h.width = (h.high - h.low) / bins;
  const auto count = std::size_t(bins);
  h.counts.assign(count, 0.0);
  for (std::size_t k = 0; k < count; ++k) h.centres.push_back(h.low + (double(k) + 0.5) * h.width);
  for (const double v : r) {
    if (!(v >= h.low && v < h.high)) {
      ++h.outside;
      continue;
    }
    h.counts[std::min(std::size_t((v - h.low) / h.width), count - 1)] += 1.0;
  }
  return h;
}

void draw_residuals(const nn::TargetValues& t, const nn::RegressionMetrics& m, const fs::path& png) {
  std::vector<double> r;
  for (std::size_t i = 0; i < t.truth.size(); ++i) {
    const double d = t.predicted[i] - t.truth[i];
    if (!std::isnan(d)) r.push_back(d);
  }
  PngFigure figure(png, 1000, 650);
  plvpor(0.1, 0.95, 0.13, 0.9);
  const std::string xlabel = nn::str("predicted - true ", t.name);
  if (r.empty()) {
    plwind(-1, 1, 0, 1);
    plcol0(ink);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    const std::string title = nn::str(t.name, ": no star has both a prediction and a true value");
    pllab(xlabel.c_str(), "stars per bin", title.c_str());
    figure.finish();
    return;
  }
  const ResidualHistogram h = residual_histogram(r, m.sigma_mad);
  const double peak = *std::max_element(h.counts.begin(), h.counts.end());
  // sigma_gauss is NaN exactly when regression_metrics did not trust its fit; the same fit here
  // then draws no curve.
  std::optional<nn::Gaussian> fit;
  if (std::isfinite(m.sigma_gauss)) fit = nn::fit_gaussian(h.centres, h.counts, {peak, h.median, m.sigma_mad}).gaussian;
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
  std::string title = nn::str(t.name, ": ", r.size(), " residuals");
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
  if (h.outside) plmtex("t", -3.5, 0.02, 0, nn::str(h.outside, " beyond the histogram's +-5 sigma_mad").c_str());
  figure.finish();
}

// ---- confusion.png ----

void draw_confusion(const std::string& label, const nn::BinaryMetrics& c, const fs::path& png) {
  // The left margin holds the row labels and, beyond them, the axis title.
  PngFigure figure(png, 840, 680);
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
      plptex(predicted + 0.5, truth + 0.55, 1, 0, 0.5, nn::str(std::int64_t(cells[truth][predicted])).c_str());
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
  plmtex("l", 10.5, 0.5, 0.5, nn::str("true ", label).c_str());
  char title[160];
  std::snprintf(title, sizeof title, "%s: accuracy %.4g over %lld stars", label.c_str(), c.accuracy, (long long)c.n);
  plmtex("t", 1.5, 0.5, 0.5, title);
  draw_colour_bar(0, most, "stars");
  figure.finish();
}

}  // namespace

void write_report(const nn::EvaluatedValues& values, const nn::EvaluationReport& report, const fs::path& history_csv,
                  const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<fs::path> written;
  if (fs::exists(history_csv)) {
    draw_history(read_history(history_csv), dir / "history.png");
    written.push_back(dir / "history.png");
  } else {
    std::fprintf(stderr, "no %s next to the model: history.png skipped\n", history_csv.string().c_str());
  }
  for (std::size_t k = 0; k < values.targets.size(); ++k) {
    const nn::TargetValues& t = values.targets[k];
    const std::string stem = file_stem(t.name);
    written.push_back(dir / (stem + "_predicted_vs_true.png"));
    draw_predicted_vs_true(t, values.split, written.back());
    written.push_back(dir / (stem + "_residuals.png"));
    draw_residuals(t, report.targets[k].metrics, written.back());
  }
  if (values.classifier && report.classifier) {
    written.push_back(dir / "confusion.png");
    draw_confusion(values.classifier->label, *report.classifier, written.back());
  }
  for (const fs::path& png : written) std::fprintf(stderr, "wrote %s\n", png.string().c_str());
}

}  // namespace starnn
