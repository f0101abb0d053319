// The thesis's sample selection and maps of [Fe/H] in Galactocentric (R, |Z|) pixels.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "nn/astro.h"
#include "nn/error.h"

namespace nn::astro {

Selection select_stars(std::span<const double> r, std::span<const double> g_minus_r,
                       std::span<const double> distance_kpc, const SelectionCuts& cuts) {
  const std::size_t rows = r.size();
  if (g_minus_r.size() != rows || distance_kpc.size() != rows) {
    throw Error(str("select_stars: r has ", rows, " values but g-r and distance have ", g_minus_r.size(), " and ",
                    distance_kpc.size()));
  }
  // Negated inclusions, so that NaN fails.
  const auto outside = [](double value, double low, double high) { return !(value > low && value < high); };
  Selection selection;
  selection.keep.assign(rows, 0);
  selection.total = static_cast<Index>(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    if (outside(r[i], cuts.r_min, cuts.r_max)) {
      ++selection.removed_by_r;
    } else if (outside(g_minus_r[i], cuts.g_minus_r_min, cuts.g_minus_r_max)) {
      ++selection.removed_by_colour;
    } else if (outside(distance_kpc[i], cuts.distance_min_kpc, cuts.distance_max_kpc)) {
      ++selection.removed_by_distance;
    } else {
      selection.keep[i] = 1;
      ++selection.kept;
    }
  }
  return selection;
}

namespace {

struct Axis {
  double min;
  double max;
  double step;
  Index bins;
};

Axis make_axis(double min, double max, double step, const char* name) {
  if (!(std::isfinite(min) && std::isfinite(max) && max > min)) {
    throw Error(str("metallicity map: the ", name, " range [", min, ", ", max, ") is empty or not finite"));
  }
  if (!(step > 0.0)) throw Error(str("metallicity map: the ", name, " step ", step, " is not positive"));
  // A range that is a whole number of steps up to rounding gets no sliver pixel at its end.
  const Index bins = std::max<Index>(1, static_cast<Index>(std::ceil((max - min) / step - 1e-9)));
  return {min, max, step, bins};
}

double lower_edge(const Axis& axis, Index bin) { return axis.min + static_cast<double>(bin) * axis.step; }

double upper_edge(const Axis& axis, Index bin) { return bin + 1 == axis.bins ? axis.max : lower_edge(axis, bin + 1); }

// The pixel of a value inside [min, max), or -1.
Index bin_of(const Axis& axis, double value) {
  if (!(value >= axis.min && value < axis.max)) return -1;
  // min() guards the float division at the top edge of a range that is not a whole number of steps.
  return std::min(axis.bins - 1, static_cast<Index>((value - axis.min) / axis.step));
}

double median(std::vector<double>& values) {
  const std::size_t n = values.size();
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
  std::nth_element(values.begin(), middle, values.end());
  if (n % 2 == 1) return *middle;
  return 0.5 * (*middle + *std::max_element(values.begin(), middle));
}

}  // namespace

Catalog metallicity_map(std::span<const double> r_kpc, std::span<const double> z_kpc, std::span<const double> feh,
                        const MapBinning& binning) {
  const std::size_t rows = r_kpc.size();
  if (z_kpc.size() != rows || feh.size() != rows) {
    throw Error(
        str("metallicity map: R has ", rows, " values but Z and [Fe/H] have ", z_kpc.size(), " and ", feh.size()));
  }
  if (binning.min_stars < 1) {
    throw Error(str("metallicity map: the minimum number of stars per pixel is ", binning.min_stars,
                    ", it must be at least 1"));
  }
  const Axis r_axis = make_axis(binning.r_min_kpc, binning.r_max_kpc, binning.r_step_kpc, "R");
  const Axis z_axis = make_axis(binning.abs_z_min_kpc, binning.abs_z_max_kpc, binning.abs_z_step_kpc, "|Z|");

  std::vector<std::vector<double>> pixels(static_cast<std::size_t>(r_axis.bins * z_axis.bins));
  for (std::size_t i = 0; i < rows; ++i) {
    if (std::isnan(feh[i])) continue;
    const Index r_bin = bin_of(r_axis, r_kpc[i]);
    const Index z_bin = bin_of(z_axis, std::abs(z_kpc[i]));
    if (r_bin < 0 || z_bin < 0) continue;
    pixels[static_cast<std::size_t>(r_bin * z_axis.bins + z_bin)].push_back(feh[i]);
  }

  const std::size_t n = pixels.size();
  std::vector<double> r_min(n), r_max(n), z_min(n), z_max(n), count(n), mean(n), med(n);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (Index r_bin = 0; r_bin < r_axis.bins; ++r_bin) {
    for (Index z_bin = 0; z_bin < z_axis.bins; ++z_bin) {
      const auto p = static_cast<std::size_t>(r_bin * z_axis.bins + z_bin);
      std::vector<double>& values = pixels[p];
      r_min[p] = lower_edge(r_axis, r_bin);
      r_max[p] = upper_edge(r_axis, r_bin);
      z_min[p] = lower_edge(z_axis, z_bin);
      z_max[p] = upper_edge(z_axis, z_bin);
      count[p] = static_cast<double>(values.size());
      if (static_cast<Index>(values.size()) < binning.min_stars) {
        mean[p] = med[p] = nan;
        continue;
      }
      double sum = 0.0;
      for (double v : values) sum += v;
      mean[p] = sum / static_cast<double>(values.size());
      med[p] = median(values);
    }
  }

  Catalog map("metallicity map", static_cast<Index>(n));
  const ColumnInfo kpc{"kpc"}, dex{"dex"};
  map.add_column("R_min", std::move(r_min), kpc);
  map.add_column("R_max", std::move(r_max), kpc);
  map.add_column("absZ_min", std::move(z_min), kpc);
  map.add_column("absZ_max", std::move(z_max), kpc);
  map.add_column("count", std::move(count), {"", true});
  map.add_column("feh_mean", std::move(mean), dex);
  map.add_column("feh_median", std::move(med), dex);
  return map;
}

}  // namespace nn::astro
