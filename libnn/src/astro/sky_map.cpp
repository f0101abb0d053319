// HEALPix pixels and sky maps (nn/sky_map.h). ang2pix in the RING scheme from Gorski et al.
// (2005), section 4: polar caps |z| > 2/3 and the equatorial belt, each pixel boundary a line in
// (z, phi) that the two indices jp, jm count.
#include "nn/sky_map.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "nn/astro.h"
#include "nn/error.h"
#include "nn/survey.h"

namespace nn::astro {
namespace {

// The mean and median of a pixel's values, sorted first, so that they do not depend on the order
// the stars came in (files, ranks).
struct PixelStatistics {
  double mean, median;
};
PixelStatistics statistics_of(std::vector<float> values) {
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (float v : values) sum += v;
  const std::size_t n = values.size(), mid = n / 2;
  const double median = n % 2 ? double(values[mid]) : 0.5 * (double(values[mid - 1]) + double(values[mid]));
  return {sum / double(n), median};
}

}  // namespace

void check_nside(std::int64_t nside) {
  if (nside < 1 || nside > (std::int64_t(1) << 20) || (nside & (nside - 1)) != 0)
    throw Error(str("HEALPix NSIDE ", nside, ": expected a power of 2 from 1 to 2^20"));
}

std::int64_t healpix_ring_pixel(std::int64_t nside, double theta, double phi) {
  const double z = std::cos(theta), za = std::abs(z);
  const double two_pi = 2 * std::numbers::pi;
  phi = std::fmod(phi, two_pi);
  if (phi < 0) phi += two_pi;
  const double tt = phi / (std::numbers::pi / 2);  // in [0, 4)
  const std::int64_t ncap = 2 * nside * (nside - 1), npix = 12 * nside * nside;
  if (za <= 2.0 / 3.0) {
    // The equatorial belt: rings 1 .. 2 nside + 1 counted from z = 2/3, 4 nside pixels each.
    const double t1 = double(nside) * (0.5 + tt), t2 = double(nside) * z * 0.75;
    const auto jp = std::int64_t(t1 - t2), jm = std::int64_t(t1 + t2);
    const std::int64_t ir = nside + 1 + jp - jm;
    const std::int64_t kshift = 1 - (ir & 1);
    std::int64_t ip = (jp + jm - nside + kshift + 1) / 2;
    ip %= 4 * nside;
    return ncap + (ir - 1) * 4 * nside + ip;
  }
  // A polar cap: ring ir (from the nearer pole) has 4 ir pixels.
  const double tp = tt - std::floor(tt), tmp = double(nside) * std::sqrt(3 * (1 - za));
  const auto jp = std::int64_t(tp * tmp), jm = std::int64_t((1 - tp) * tmp);
  const std::int64_t ir = jp + jm + 1;
  std::int64_t ip = std::int64_t(tt * double(ir));
  ip %= 4 * ir;
  return z > 0 ? 2 * ir * (ir - 1) + ip : npix - 2 * ir * (ir + 1) + ip;
}

std::int64_t healpix_pixel_lb(std::int64_t nside, double l_deg, double b_deg) {
  const double degree = std::numbers::pi / 180;
  return healpix_ring_pixel(nside, (90.0 - b_deg) * degree, l_deg * degree);
}

SkyMap::SkyMap(std::int64_t nside, bool with_err) : nside_(nside), with_err_(with_err) {
  check_nside(nside);
  values_.resize(std::size_t(12 * nside * nside));
  if (with_err) errs_.resize(values_.size());
}

void SkyMap::add(double l_deg, double b_deg, double value, double err) {
  if (std::isnan(l_deg) || std::isnan(b_deg) || std::isnan(value) || (with_err_ && std::isnan(err))) return;
  const auto pixel = std::size_t(healpix_pixel_lb(nside_, l_deg, b_deg));
  values_[pixel].push_back(float(value));
  if (with_err_) errs_[pixel].push_back(float(err));
  ++stars_;
}

Catalog SkyMap::table(Index min_stars, const std::string& unit) const {
  const std::size_t n = values_.size();
  std::vector<double> count(n), mean(n, kHealpixUnseen), median(n, kHealpixUnseen);
  std::vector<double> err_mean(with_err_ ? n : 0, kHealpixUnseen), err_median(err_mean.size(), kHealpixUnseen);
  for (std::size_t p = 0; p < n; ++p) {
    count[p] = double(values_[p].size());
    if (Index(values_[p].size()) < min_stars || values_[p].empty()) continue;
    const PixelStatistics v = statistics_of(values_[p]);
    mean[p] = v.mean, median[p] = v.median;
    if (!with_err_) continue;
    const PixelStatistics e = statistics_of(errs_[p]);
    err_mean[p] = e.mean, err_median[p] = e.median;
  }
  Catalog map("HEALPix map", Index(n));
  map.add_column("COUNT", std::move(count), {"", true});
  map.add_column("MEAN", std::move(mean), {unit});
  map.add_column("MEDIAN", std::move(median), {unit});
  if (with_err_) {
    map.add_column("ERR_MEAN", std::move(err_mean), {unit});
    map.add_column("ERR_MEDIAN", std::move(err_median), {unit});
  }
  return map;
}

SkyMap sky_map_of(const std::vector<std::filesystem::path>& files, std::int64_t nside, const SkyMapColumns& columns,
                  const Ranks& ranks) {
  const bool with_err = !columns.err.empty();
  std::vector<std::string> expressions = {columns.ra, columns.dec, columns.value};
  if (with_err) expressions.push_back(columns.err);
  // (l, b, value, sigma) of every star this rank reads, gathered at rank 0.
  std::vector<double> stars;
  for (const std::filesystem::path& in : rank_share(files, ranks)) {
    const Catalog table = read_catalog(in, {columns.hdu, needed_columns(in, expressions, columns.hdu)});
    const auto ra = evaluate_column(table, columns.ra), dec = evaluate_column(table, columns.dec);
    const auto value = evaluate_column(table, columns.value);
    const auto sigma = with_err ? evaluate_column(table, columns.err) : std::vector<double>(value.size(), 0.0);
    std::vector<double> l(ra.size()), b(ra.size());
    equatorial_to_galactic(ra, dec, l, b);
    for (std::size_t i = 0; i < ra.size(); ++i) stars.insert(stars.end(), {l[i], b[i], value[i], sigma[i]});
  }
  stars = ranks.gather(stars);
  SkyMap map(nside, with_err);
  for (std::size_t i = 0; i + 3 < stars.size(); i += 4) map.add(stars[i], stars[i + 1], stars[i + 2], stars[i + 3]);
  return map;
}

void write_healpix_map(const std::filesystem::path& path, const Catalog& table, std::int64_t nside) {
  check_nside(nside);
  const long long npix = 12LL * nside * nside;
  if (table.rows() != npix)
    throw Error(str("a HEALPix map of NSIDE ", nside, " has ", npix, " pixels, not ", table.rows()));
  write_catalog(path, table,
                {{"PIXTYPE", std::string("HEALPIX"), "HEALPix pixelisation"},
                 {"ORDERING", std::string("RING"), "pixel ordering scheme"},
                 {"NSIDE", static_cast<long long>(nside), "resolution parameter"},
                 {"FIRSTPIX", 0LL, "first pixel number (0 based)"},
                 {"LASTPIX", npix - 1, "last pixel number (0 based)"},
                 {"INDXSCHM", std::string("IMPLICIT"), "one row per pixel"},
                 {"OBJECT", std::string("FULLSKY"), "the whole sky"},
                 {"COORDSYS", std::string("G"), "Galactic coordinates"}});
}

}  // namespace nn::astro
