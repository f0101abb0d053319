// starnn map: from a catalogue with predicted [Fe/H] to the Galaxy. Photometric distances,
// Galactic and Galactocentric positions, the thesis's selection cuts, and the median [Fe/H]
// in pixels of (R, |Z|) as a table and as a heat map.
#include <plplot.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "cli.h"
#include "nn/astro.h"
#include "nn/catalog.h"
#include "nn/error.h"
#include "nn/figure.h"

namespace fs = std::filesystem;

namespace starnn {
namespace {

bool is_csv(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".csv";
}

double positive_number(const Arguments& args, const std::string& name, double fallback) {
  const auto text = args.get(name);
  if (!text) return fallback;
  std::size_t used = 0;
  double value = std::numeric_limits<double>::quiet_NaN();
  try {
    value = std::stod(*text, &used);
  } catch (const std::exception&) {
  }
  if (used != text->size() || !(value > 0) || !std::isfinite(value))
    throw nn::Error(nn::str("option --", name, ": '", *text, "' is not a positive number"));
  return value;
}

// The heat map of median [Fe/H] per pixel, zoomed to the pixels that have a median (the
// default binning covers far more of the Galaxy than a survey reaches). Pixels with too few
// stars stay blank.
void draw_map(const nn::Catalog& map, const nn::astro::MapBinning& binning, const std::string& feh_name,
              const fs::path& png) {
  const auto &r_min = map.column("R_min"), &r_max = map.column("R_max");
  const auto &z_min = map.column("absZ_min"), &z_max = map.column("absZ_max");
  const auto& median = map.column("feh_median");
  double x0 = binning.r_max_kpc, x1 = binning.r_min_kpc, y1 = binning.abs_z_min_kpc;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (nn::Index i = 0; i < map.rows(); ++i) {
    if (std::isnan(median[i])) continue;
    x0 = std::min(x0, r_min[i]), x1 = std::max(x1, r_max[i]), y1 = std::max(y1, z_max[i]);
    lo = std::min(lo, median[i]), hi = std::max(hi, median[i]);
  }
  const bool empty = !(hi >= lo);
  if (empty) {
    x0 = binning.r_min_kpc, x1 = binning.r_max_kpc, y1 = binning.abs_z_max_kpc, lo = -1, hi = 0;
  } else if (hi - lo < 0.05) {  // one value, or nearly: give the colour bar a readable range
    lo -= 0.05, hi += 0.05;
  }
  const double y0 = binning.abs_z_min_kpc;

  nn::plot::PngFigure figure(png, 1000, 700);
  plvpor(0.12, 0.80, 0.11, 0.92);
  plwind(x0, x1, y0, y1);

  for (nn::Index i = 0; i < map.rows(); ++i) {
    if (std::isnan(median[i])) continue;
    PLFLT xs[] = {r_min[i], r_max[i], r_max[i], r_min[i]};
    PLFLT ys[] = {z_min[i], z_min[i], z_max[i], z_max[i]};
    plcol1(std::clamp((median[i] - lo) / (hi - lo), 0.0, 1.0));
    plfill(4, xs, ys);
  }
  plcol0(nn::plot::ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  pllab("R (kpc)", "|Z| (kpc)",
        empty ? "no pixel has enough stars" : nn::str("median ", feh_name, " per pixel").c_str());

  nn::plot::draw_colour_bar(lo, hi, "median [Fe/H]");
  figure.finish();
}

}  // namespace

int map_command(int argc, char** argv) {
  const Arguments args(
      argc, argv, 2,
      {"catalog", "out", "feh", "relation", "extinction", "r", "g-i", "g-r", "ra", "dec", "bin", "min-stars", "hdu"},
      {"no-cuts"});
  args.expect_positionals(0, "starnn map --catalog PREDICTED --out DIR");
  const fs::path in = args.require("catalog"), out = args.require("out");
  const std::string feh_name = args.get("feh").value_or("feh_pred"), r_name = args.get("r").value_or("rmag");
  const std::string gi_name = args.get("g-i").value_or("gi"), gr_name = args.get("g-r").value_or("gr");
  const std::string ra_name = args.get("ra").value_or("ra"), dec_name = args.get("dec").value_or("dec");
  const auto extinction = args.get("extinction");
  const bool cuts = !args.flag("no-cuts");
  const auto relation = nn::astro::parse_abs_mag_relation(args.get("relation").value_or("ivezic2008"));
  nn::astro::MapBinning binning;
  binning.r_step_kpc = binning.abs_z_step_kpc = positive_number(args, "bin", binning.r_step_kpc);
  binning.min_stars = args.integer("min-stars", binning.min_stars);
  if (binning.min_stars < 1) throw nn::Error("--min-stars must be at least 1");

  // Read only the columns the expressions need, so that a wide catalogue stays cheap and a
  // misspelt name fails here, naming itself, before anything is written.
  std::vector<std::string> expressions = {feh_name, r_name, gi_name, gr_name, ra_name, dec_name};
  if (extinction) expressions.push_back(*extinction);
  const std::string hdu = args.get("hdu").value_or("");
  const nn::Catalog stars = nn::read_catalog(in, {hdu, nn::needed_columns(in, expressions, hdu)});
  const auto feh = nn::evaluate_column(stars, feh_name), r = nn::evaluate_column(stars, r_name);
  const auto gi = nn::evaluate_column(stars, gi_name), gr = nn::evaluate_column(stars, gr_name);
  const auto ra = nn::evaluate_column(stars, ra_name), dec = nn::evaluate_column(stars, dec_name);
  const auto a_r = extinction ? nn::evaluate_column(stars, *extinction) : std::vector<double>{};
  const auto n = std::size_t(stars.rows());

  const auto photometry = nn::astro::photometric_distances({r, gi, feh, a_r}, relation);
  std::vector<double> l(n), b(n), distance_kpc(n), r_kpc(n), z_kpc(n);
  nn::astro::equatorial_to_galactic(ra, dec, l, b);
  for (std::size_t i = 0; i < n; ++i) distance_kpc[i] = photometry.distance_pc[i] / 1000;
  nn::astro::galactocentric_cylindrical(l, b, distance_kpc, r_kpc, z_kpc);

  nn::astro::Selection selection = nn::astro::select_stars(r, gr, distance_kpc);
  if (!cuts) selection.keep.assign(n, 1);
  nn::Index no_distance = 0, feh_flagged = 0, gi_flagged = 0, kept_flagged = 0;
  for (std::size_t i = 0; i < n; ++i) {
    no_distance += std::isnan(photometry.distance_pc[i]);
    feh_flagged += (photometry.flags[i] & nn::astro::feh_out_of_range) != 0;
    gi_flagged += (photometry.flags[i] & nn::astro::g_minus_i_out_of_range) != 0;
    kept_flagged += selection.keep[i] && photometry.flags[i] != 0;
  }
  const nn::Index kept = cuts ? selection.kept : nn::Index(n);

  // The map holds the selected stars only.
  std::vector<double> map_r, map_z, map_feh;
  for (std::size_t i = 0; i < n; ++i) {
    if (!selection.keep[i]) continue;
    map_r.push_back(r_kpc[i]), map_z.push_back(z_kpc[i]), map_feh.push_back(feh[i]);
  }
  const nn::Catalog map = nn::astro::metallicity_map(map_r, map_z, map_feh, binning);
  nn::Index pixels = 0, mapped = 0;
  for (nn::Index i = 0; i < map.rows(); ++i) {
    if (std::isnan(map.column("feh_median")[i])) continue;
    ++pixels, mapped += nn::Index(map.column("count")[i]);
  }

  nn::Catalog table(in.string(), stars.rows());
  table.add_column(ra_name, ra);
  table.add_column(dec_name, dec);
  table.add_column(feh_name, feh);
  table.add_column("Mr", photometry.abs_mag_r);
  table.add_column("distance_pc", photometry.distance_pc);
  table.add_column("l", std::move(l));
  table.add_column("b", std::move(b));
  table.add_column("R_kpc", std::move(r_kpc));
  table.add_column("Z_kpc", std::move(z_kpc));
  table.add_column("flags", std::vector<double>(photometry.flags.begin(), photometry.flags.end()));
  table.add_column("selected", std::vector<double>(selection.keep.begin(), selection.keep.end()));

  fs::create_directories(out);
  const std::string ext = is_csv(in) ? ".csv" : ".fits";
  nn::write_catalog(out / ("stars" + ext), table);
  nn::write_catalog(out / ("map" + ext), map);
  draw_map(map, binning, feh_name, out / "map.png");

  const std::string relation_name = nn::astro::abs_mag_relation_name(relation);
  std::printf("%s: %lld stars, Mr0(g-i) relation %s%s\n", in.string().c_str(), (long long)n, relation_name.c_str(),
              args.get("relation") ? "" : " (the default; --relation quadratic for the thesis's simpler form)");
  std::printf("extinction: %s\n", extinction ? nn::str("A_r from column ", *extinction).c_str()
                                             : "none applied (--extinction COLUMN to correct r)");
  std::printf("no distance (a missing %s, %s or %s): %lld\n", feh_name.c_str(), r_name.c_str(), gi_name.c_str(),
              (long long)no_distance);
  std::printf(
      "outside the relation's calibration: %lld with %s not in (%g, %g), %lld with g-i not in (%g, %g); "
      "%lld of them selected\n",
      (long long)feh_flagged, feh_name.c_str(), nn::astro::feh_valid_min, nn::astro::feh_valid_max,
      (long long)gi_flagged, nn::astro::g_minus_i_valid_min, nn::astro::g_minus_i_valid_max, (long long)kept_flagged);
  if (cuts) {
    const nn::astro::SelectionCuts c;
    std::printf("cut %g < r < %g removed %lld\n", c.r_min, c.r_max, (long long)selection.removed_by_r);
    std::printf("cut %g < g-r < %g removed %lld\n", c.g_minus_r_min, c.g_minus_r_max,
                (long long)selection.removed_by_colour);
    std::printf("cut %g < d < %g kpc removed %lld\n", c.distance_min_kpc, c.distance_max_kpc,
                (long long)selection.removed_by_distance);
  } else {
    std::printf("no cuts (--no-cuts)\n");
  }
  std::printf("selected %lld of %lld stars; %lld of them in %lld pixels of %g kpc with at least %lld stars\n",
              (long long)kept, (long long)n, (long long)mapped, (long long)pixels, binning.r_step_kpc,
              (long long)binning.min_stars);
  std::printf("wrote %s, %s and %s\n", (out / ("stars" + ext)).string().c_str(), (out / ("map" + ext)).string().c_str(),
              (out / "map.png").string().c_str());
  return 0;
}

}  // namespace starnn
