// starnn map --healpix NSIDE: a sky map of predictions, per HEALPix pixel in Galactic
// coordinates the number of stars and the mean and median of a predicted column and of its
// uncertainty (nn/sky_map.h), as a HEALPix FITS map and a Mollweide PNG.
#include "sky_map.h"

#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "nn/catalog.h"
#include "nn/error.h"
#include "nn/figure.h"
#include "nn/ranks.h"
#include "nn/sky_map.h"
#include "nn/survey.h"

namespace fs = std::filesystem;

namespace starnn {
namespace {

constexpr double kSqrt2 = std::numbers::sqrt2;

// Mollweide's auxiliary angle of latitude b: 2t + sin 2t = pi sin b, by Newton's method.
double mollweide_theta(double b) {
  if (std::abs(std::abs(b) - std::numbers::pi / 2) < 1e-12) return b;
  double t = b;
  for (int k = 0; k < 50; ++k) {
    const double f = 2 * t + std::sin(2 * t) - std::numbers::pi * std::sin(b);
    t -= f / (2 + 2 * std::cos(2 * t));
    if (std::abs(f) < 1e-12) break;
  }
  return t;
}

// (l, b) in radians to the plane, l = 0 at the centre and growing to the left, as sky maps are
// drawn (x in [-2 sqrt2, 2 sqrt2], y in [-sqrt2, sqrt2]).
void mollweide(double l, double b, double& x, double& y) {
  double dl = std::remainder(l, 2 * std::numbers::pi);  // in [-pi, pi]
  const double t = mollweide_theta(b);
  x = -2 * kSqrt2 / std::numbers::pi * dl * std::cos(t);
  y = kSqrt2 * std::sin(t);
}

// The sky's edge, the ellipse x^2 / 8 + y^2 / 2 = 1.
void sky_outline(std::vector<PLFLT>& xs, std::vector<PLFLT>& ys) {
  for (int k = 0; k <= 360; ++k) {
    const double a = 2 * std::numbers::pi * k / 360;
    xs.push_back(2 * kSqrt2 * std::cos(a)), ys.push_back(kSqrt2 * std::sin(a));
  }
}

void draw_graticule() {
  // Dotted ink lines show over the grey of empty sky and over every colour of the map.
  plcol0(nn::plot::ink);
  pllsty(3);
  const double degree = std::numbers::pi / 180;
  std::vector<PLFLT> xs, ys;
  const auto line = [&] {
    plline(PLINT(xs.size()), xs.data(), ys.data());
    xs.clear(), ys.clear();
  };
  for (int b = -60; b <= 60; b += 30) {
    for (int l = -180; l <= 180; l += 2) {
      double x = 0, y = 0;
      mollweide(l == 180 ? 179.999 * degree : l * degree, b * degree, x, y);
      xs.push_back(x), ys.push_back(y);
    }
    line();
  }
  for (int l = -120; l <= 120; l += 60) {
    for (int b = -90; b <= 90; b += 2) {
      double x = 0, y = 0;
      mollweide(l * degree, b * degree, x, y);
      xs.push_back(x), ys.push_back(y);
    }
    line();
  }
  pllsty(1);
  sky_outline(xs, ys);
  line();
  plschr(0, 0.8);
  for (int l : {-120, -60, 0, 60, 120}) {
    double x = 0, y = 0;
    mollweide(l * degree, 0.0, x, y);
    const int shown = (l + 360) % 360;
    plptex(x, y + 0.04, 1.0, 0.0, 0.5, nn::str(shown, "#uo#d").c_str());
  }
  plschr(0, 1.0);
}

// The median of each pixel on the Mollweide projection: a grid of cells, each coloured by the
// pixel of its centre; grey for sky without enough stars.
void draw_mollweide(const std::vector<double>& median, std::int64_t nside, double lo, double hi,
                    const std::string& title, const fs::path& png) {
  nn::plot::PngFigure figure(png, 1200, 700);
  plvpas(0.05, 0.86, 0.08, 0.88, 1.0 / 2.0);
  plwind(-2 * kSqrt2, 2 * kSqrt2, -kSqrt2, kSqrt2);
  // The sky's ellipse in grey, then the pixels with a value over it.
  std::vector<PLFLT> ex, ey;
  sky_outline(ex, ey);
  plcol0(nn::plot::light_grey);
  plfill(PLINT(ex.size()), ex.data(), ey.data());
  const int nx = 960, ny = 480;
  PLFLT** cells = nullptr;
  plAlloc2dGrid(&cells, nx, ny);
  const double below = lo - 1.0;  // not drawn by plimage
  for (int i = 0; i < nx; ++i)
    for (int j = 0; j < ny; ++j) {
      const double x = -2 * kSqrt2 + (i + 0.5) * 4 * kSqrt2 / nx, y = -kSqrt2 + (j + 0.5) * 2 * kSqrt2 / ny;
      cells[i][j] = below;
      if ((x * x) / 8 + (y * y) / 2 > 1) continue;
      const double t = std::asin(y / kSqrt2);
      const double b = std::asin((2 * t + std::sin(2 * t)) / std::numbers::pi);
      const double l = -std::numbers::pi * x / (2 * kSqrt2 * std::cos(t));
      const double value = median[std::size_t(nn::astro::healpix_ring_pixel(nside, std::numbers::pi / 2 - b, l))];
      if (value != nn::astro::kHealpixUnseen) cells[i][j] = std::clamp(value, lo, hi);
    }
  // Cells below lo are not drawn; the colours span [lo, hi], as the colour bar says.
  plimagefr(const_cast<const PLFLT* const*>(cells), nx, ny, -2 * kSqrt2, 2 * kSqrt2, -kSqrt2, kSqrt2, lo, hi, lo, hi,
            nullptr, nullptr);
  plFree2dGrid(cells, nx, ny);
  draw_graticule();
  plmtex("t", 1.5, 0.5, 0.5, title.c_str());
  plmtex("b", 1.5, 0.5, 0.5, "Galactic coordinates, l = 0 at the centre, growing to the left (Mollweide)");
  nn::plot::draw_colour_bar(lo, hi, "median [Fe/H] (dex)");
  figure.finish();
}

}  // namespace

void sky_map(const SkyMapRequest& request) {
  const nn::Ranks& ranks = nn::Ranks::world();
  nn::astro::check_nside(request.nside);
  const std::vector<fs::path> inputs = nn::names_many_files(request.catalog) ? nn::survey_files(request.catalog)
                                                                             : std::vector<fs::path>{request.catalog};
  // The uncertainty: --err, else <value without _pred>_err where the first catalogue has it.
  std::string err = request.err;
  if (err.empty() && request.value.ends_with("_pred")) {
    const std::string guess = request.value.substr(0, request.value.size() - 5) + "_err";
    const std::vector<std::string> names = nn::catalog_columns(inputs.front(), {request.hdu});
    if (std::find(names.begin(), names.end(), guess) != names.end()) err = guess;
  }
  const nn::astro::SkyMap map =
      nn::astro::sky_map_of(inputs, request.nside, {request.value, err, request.ra, request.dec, request.hdu}, ranks);
  if (!ranks.root()) return;
  const nn::Catalog table = map.table(request.min_stars, "dex");
  fs::create_directories(request.out);
  nn::astro::write_healpix_map(request.out / "healpix.fits", table, request.nside);
  nn::Index pixels = 0;
  const std::vector<double>& median = table.column("MEDIAN");
  for (double m : median) pixels += m != nn::astro::kHealpixUnseen;
  const std::string title =
      nn::str("median [Fe/H] (", request.value, ") in HEALPix pixels of NSIDE ", request.nside,
              request.min_stars > 1 ? nn::str(" with at least ", request.min_stars, " stars") : std::string());
  draw_mollweide(median, request.nside, request.lo, request.hi, title, request.out / "sky.png");
  std::printf("%lld stars from %zu catalogue%s in %lld of %lld pixels (NSIDE %lld, at least %lld a pixel)%s\n",
              (long long)map.stars(), inputs.size(), inputs.size() == 1 ? "" : "s", (long long)pixels,
              12LL * (long long)request.nside * (long long)request.nside, (long long)request.nside,
              (long long)request.min_stars, err.empty() ? "" : nn::str("; uncertainty from ", err).c_str());
  std::printf("wrote %s and %s\n", (request.out / "healpix.fits").string().c_str(),
              (request.out / "sky.png").string().c_str());
}

}  // namespace starnn
