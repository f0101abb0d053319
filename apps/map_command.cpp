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
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "nn/astro.h"
#include "nn/catalog.h"
#include "nn/data.h"
#include "nn/error.h"
#include "nn/figure.h"
#include "sky_map.h"

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

// The colour range of the map, fixed so that maps compare: --range LO,HI in dex.
struct ColourRange {
  double lo = -2.0, hi = 0.0;
};

ColourRange colour_range(const Arguments& args) {
  ColourRange range;
  const auto text = args.get("range");
  if (!text) return range;
  const auto comma = text->find(',');
  try {
    std::size_t used_lo = 0, used_hi = 0;
    if (comma == std::string::npos) throw std::invalid_argument("no comma");
    range.lo = std::stod(text->substr(0, comma), &used_lo);
    range.hi = std::stod(text->substr(comma + 1), &used_hi);
    if (used_lo != comma || used_hi != text->size() - comma - 1) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw nn::Error(nn::str("option --range: '", *text, "' is not LO,HI (two numbers in dex, e.g. -2,0)"));
  }
  if (!(range.lo < range.hi) || !std::isfinite(range.lo) || !std::isfinite(range.hi))
    throw nn::Error(nn::str("option --range: '", *text, "' needs LO < HI"));
  return range;
}

// The heat map of median [Fe/H] per pixel in (R, |Z|), as the thesis and Ivezic et al. (2008)
// print it: equal aspect (a pixel is square), the fixed colour range (values beyond it take its
// end colours), the Sun marked, pixels with fewer than the minimum stars blank, and a title that
// says which cuts made it. Zoomed to the pixels that have a median and the Sun (the default
// binning covers far more of the Galaxy than a survey reaches).
void draw_map(const nn::Catalog& map, const nn::astro::MapBinning& binning, const ColourRange& range,
              const std::string& cuts, const std::string& feh_name, const fs::path& png) {
  const auto &r_min = map.column("R_min"), &r_max = map.column("R_max");
  const auto &z_min = map.column("absZ_min"), &z_max = map.column("absZ_max");
  const auto& median = map.column("feh_median");
  const nn::astro::SunPosition sun;
  double x0 = sun.r_kpc - binning.r_step_kpc, x1 = sun.r_kpc + binning.r_step_kpc;
  double y1 = binning.abs_z_min_kpc + binning.abs_z_step_kpc;
  bool empty = true;
  for (nn::Index i = 0; i < map.rows(); ++i) {
    if (std::isnan(median[i])) continue;
    empty = false;
    x0 = std::min(x0, r_min[i]), x1 = std::max(x1, r_max[i]), y1 = std::max(y1, z_max[i]);
  }
  const double y0 = binning.abs_z_min_kpc;

  nn::plot::PngFigure figure(png, 1000, 800);
  // A square kpc in both directions: the viewport takes the window's aspect within its box.
  plvpas(0.10, 0.82, 0.10, 0.86, (y1 - y0) / (x1 - x0));
  plwind(x0, x1, y0, y1);
  for (nn::Index i = 0; i < map.rows(); ++i) {
    if (std::isnan(median[i])) continue;
    PLFLT xs[] = {r_min[i], r_max[i], r_max[i], r_min[i]};
    PLFLT ys[] = {z_min[i], z_min[i], z_max[i], z_max[i]};
    plcol1(std::clamp((median[i] - range.lo) / (range.hi - range.lo), 0.0, 1.0));
    plfill(4, xs, ys);
  }
  plcol0(nn::plot::ink);
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  // The Sun, as astronomers draw it: a circle with a dot.
  const double radius = 0.018 * (x1 - x0), sun_z = std::max(sun.z_kpc, y0);
  plwidth(2.0);
  plarc(sun.r_kpc, sun_z, radius, radius, 0.0, 360.0, 0.0, 0);
  plwidth(1.0);
  PLFLT sx[] = {sun.r_kpc}, sy[] = {sun_z};
  plpoin(1, sx, sy, 17);
  plptex(sun.r_kpc + 1.5 * radius, sun_z + 1.5 * radius, 1.0, 0.0, 0.0, "Sun");
  pllab("R (kpc)", "|Z| (kpc)", "");
  const std::string title = empty ? std::string("no pixel has enough stars")
                                  : nn::str("median [Fe/H] (", feh_name, ") in ", binning.r_step_kpc,
                                            " kpc pixels of at least ", binning.min_stars, " stars");
  plmtex("t", 2.8, 0.5, 0.5, title.c_str());
  plmtex("t", 1.3, 0.5, 0.5, cuts.c_str());
  nn::plot::draw_colour_bar(range.lo, range.hi, "median [Fe/H] (dex)");
  figure.finish();
}

// The selection as the title's second line says it.
std::string cuts_title(bool cuts) {
  if (!cuts) return "all stars with a distance (no cuts)";
  const nn::astro::SelectionCuts c;
  return nn::str("cuts: ", c.r_min, " < r < ", c.r_max, ", ", c.g_minus_r_min, " < g-r < ", c.g_minus_r_max, ", ",
                 c.distance_min_kpc, " < d < ", c.distance_max_kpc, " kpc");
}

// The input's id column: --id NAME, else its first integer column that starnn did not add; none
// where it has none.
std::optional<std::string> id_column(const Arguments& args, const fs::path& in, const std::string& hdu) {
  if (const auto id = args.get("id")) return id;
  for (const std::string& name : nn::integer_columns(in, {hdu}))
    if (name != nn::kFlagsColumn && name != nn::kInputsUsedColumn) return name;
  return std::nullopt;
}

}  // namespace

int map_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2,
                       {"catalog", "out", "feh", "relation", "extinction", "r", "g-i", "g-r", "ra", "dec", "bin",
                        "min-stars", "hdu", "range", "id", "healpix", "err"},
                       {"no-cuts"});
  args.expect_positionals(0, "starnn map --catalog PREDICTED --out DIR");
  if (args.get("healpix")) {
    const ColourRange range = colour_range(args);
    SkyMapRequest request{.catalog = args.require("catalog"),
                          .out = args.require("out"),
                          .nside = args.integer("healpix", 0),
                          .value = args.get("feh").value_or("feh_pred"),
                          .err = args.get("err").value_or(""),
                          .ra = args.get("ra").value_or("ra"),
                          .dec = args.get("dec").value_or("dec"),
                          .hdu = args.get("hdu").value_or(""),
                          .min_stars = args.integer("min-stars", 1),
                          .lo = range.lo,
                          .hi = range.hi};
    if (request.min_stars < 1) throw nn::Error("--min-stars must be at least 1");
    sky_map(request);
    return 0;
  }
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
  const ColourRange range = colour_range(args);

  // Read only the columns the expressions need, so that a wide catalogue stays cheap and a
  // misspelt name fails here, naming itself, before anything is written.
  std::vector<std::string> expressions = {feh_name, r_name, gi_name, gr_name, ra_name, dec_name};
  if (extinction) expressions.push_back(*extinction);
  const std::string hdu = args.get("hdu").value_or("");
  const std::optional<std::string> id = id_column(args, in, hdu);
  if (id) expressions.push_back(*id);
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

  // Every column with its unit, the id, flags and selection as integers, so that stars.fits
  // joins back to the input by its id.
  nn::Catalog table(in.string(), stars.rows());
  const nn::ColumnInfo deg{"deg"}, kpc{"kpc"}, count{"", true};
  if (id) table.add_column(*id, stars.column(*id), count);
  table.add_column(ra_name, ra, deg);
  table.add_column(dec_name, dec, deg);
  table.add_column(feh_name, feh, {"dex"});
  table.add_column("Mr", photometry.abs_mag_r, {"mag"});
  table.add_column("distance_pc", photometry.distance_pc, {"pc"});
  table.add_column("l", std::move(l), deg);
  table.add_column("b", std::move(b), deg);
  table.add_column("R_kpc", std::move(r_kpc), kpc);
  table.add_column("Z_kpc", std::move(z_kpc), kpc);
  table.add_column("flags", std::vector<double>(photometry.flags.begin(), photometry.flags.end()), count);
  table.add_column("selected", std::vector<double>(selection.keep.begin(), selection.keep.end()), count);

  fs::create_directories(out);
  const std::string ext = is_csv(in) ? ".csv" : ".fits";
  nn::write_catalog(out / ("stars" + ext), table);
  nn::write_catalog(out / ("map" + ext), map);
  draw_map(map, binning, range, cuts_title(cuts), feh_name, out / "map.png");

  const std::string relation_name = nn::astro::abs_mag_relation_name(relation);
  std::printf("%s: %lld stars, Mr0(g-i) relation %s%s\n", in.string().c_str(), (long long)n, relation_name.c_str(),
              args.get("relation") ? "" : " (the default; --relation quadratic for the thesis's simpler form)");
  std::printf("id column: %s\n", id ? id->c_str() : "none (the input has no integer column; --id COLUMN names one)");
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
