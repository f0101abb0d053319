// Equatorial J2000 -> Galactic -> heliocentric Cartesian -> Galactocentric cylindrical.
#include <cmath>
#include <numbers>

#include "nn/astro.h"
#include "nn/error.h"

namespace nn::astro {

namespace {

constexpr double degree = std::numbers::pi / 180.0;
// Hipparcos (ICRS) definition of the Galactic frame.
constexpr double pole_ra_deg = 192.85948;
constexpr double pole_dec_deg = 27.12825;
constexpr double ncp_l_deg = 122.93192;

using Vector = std::array<double, 3>;
using Matrix = std::array<Vector, 3>;

Vector unit_vector(double longitude_deg, double latitude_deg) {
  const double lon = longitude_deg * degree, lat = latitude_deg * degree;
  return {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon), std::sin(lat)};
}

// The Galactic axes in equatorial coordinates. z is the pole. The celestial pole n sits at
// Galactic latitude pole_dec and longitude ncp_l, so its projection on the Galactic plane, e,
// is the plane's direction at longitude ncp_l; e and f = z x e (longitude ncp_l + 90) give x
// (longitude 0) and y (longitude 90) by a rotation by -ncp_l within the plane.
Matrix build_rotation() {
  const Vector z = unit_vector(pole_ra_deg, pole_dec_deg);
  const double sin_dec = z[2], cos_dec = std::cos(pole_dec_deg * degree);
  const Vector e = {-sin_dec * z[0] / cos_dec, -sin_dec * z[1] / cos_dec, (1.0 - sin_dec * z[2]) / cos_dec};
  const Vector f = {z[1] * e[2] - z[2] * e[1], z[2] * e[0] - z[0] * e[2], z[0] * e[1] - z[1] * e[0]};
  const double c = std::cos(ncp_l_deg * degree), s = std::sin(ncp_l_deg * degree);
  Matrix rotation;
  for (int k = 0; k < 3; ++k) {
    rotation[0][k] = c * e[k] - s * f[k];
    rotation[1][k] = s * e[k] + c * f[k];
    rotation[2][k] = z[k];
  }
  return rotation;
}

}  // namespace

const std::array<std::array<double, 3>, 3>& galactic_rotation() {
  static const Matrix rotation = build_rotation();
  return rotation;
}

GalacticPosition equatorial_to_galactic(double ra_deg, double dec_deg) {
  const Matrix& rotation = galactic_rotation();
  const Vector v = unit_vector(ra_deg, dec_deg);
  Vector g;
  for (int row = 0; row < 3; ++row) {
    g[row] = rotation[row][0] * v[0] + rotation[row][1] * v[1] + rotation[row][2] * v[2];
  }
  // atan2 of the in-plane components keeps full precision near the poles, where asin of z
  // alone would not.
  double l = std::atan2(g[1], g[0]) / degree;
  if (l < 0.0) l += 360.0;
  if (l >= 360.0) l -= 360.0;
  return {l, std::atan2(g[2], std::hypot(g[0], g[1])) / degree};
}

void equatorial_to_galactic(std::span<const double> ra_deg, std::span<const double> dec_deg, std::span<double> l_deg,
                            std::span<double> b_deg) {
  const std::size_t rows = ra_deg.size();
  if (dec_deg.size() != rows || l_deg.size() != rows || b_deg.size() != rows) {
    throw Error(str("equatorial_to_galactic: RA has ", rows, " values but Dec, l and b have ", dec_deg.size(), ", ",
                    l_deg.size(), " and ", b_deg.size()));
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const GalacticPosition p = equatorial_to_galactic(ra_deg[i], dec_deg[i]);
    l_deg[i] = p.l_deg;
    b_deg[i] = p.b_deg;
  }
}

Cartesian heliocentric_cartesian(double l_deg, double b_deg, double distance) {
  const Vector u = unit_vector(l_deg, b_deg);
  return {distance * u[0], distance * u[1], distance * u[2]};
}

GalactocentricCylindrical galactocentric_cylindrical(double l_deg, double b_deg, double distance_kpc,
                                                     const SunPosition& sun) {
  const Cartesian h = heliocentric_cartesian(l_deg, b_deg, distance_kpc);
  // The Sun's height tilts the Galactic plane by Z_sun / R_sun, about 0.1 degree; that
  // rotation is ignored and Z_sun simply added, which moves Z by well under a percent of d.
  return {std::hypot(sun.r_kpc - h.x, h.y), h.z + sun.z_kpc};
}

void galactocentric_cylindrical(std::span<const double> l_deg, std::span<const double> b_deg,
                                std::span<const double> distance_kpc, std::span<double> r_kpc, std::span<double> z_kpc,
                                const SunPosition& sun) {
  const std::size_t rows = l_deg.size();
  if (b_deg.size() != rows || distance_kpc.size() != rows || r_kpc.size() != rows || z_kpc.size() != rows) {
    throw Error(str("galactocentric_cylindrical: l has ", rows, " values but b, d, R and Z have ", b_deg.size(), ", ",
                    distance_kpc.size(), ", ", r_kpc.size(), " and ", z_kpc.size()));
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const GalactocentricCylindrical p = galactocentric_cylindrical(l_deg[i], b_deg[i], distance_kpc[i], sun);
    r_kpc[i] = p.r_kpc;
    z_kpc[i] = p.z_kpc;
  }
}

}  // namespace nn::astro
