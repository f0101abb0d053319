// Photometric parallax: absolute magnitudes from colour and metallicity (Ivezic et al. 2008)
// and distances from the distance modulus.
#include <cmath>
#include <cstddef>

#include "nn/astro.h"
#include "nn/error.h"

namespace nn::astro {

std::string abs_mag_relation_name(AbsMagRelation relation) {
  return relation == AbsMagRelation::ivezic2008 ? "ivezic2008" : "quadratic";
}

AbsMagRelation parse_abs_mag_relation(const std::string& name) {
  if (name == "ivezic2008") return AbsMagRelation::ivezic2008;
  if (name == "quadratic") return AbsMagRelation::quadratic;
  throw Error(str("unknown absolute-magnitude relation '", name, "': use 'ivezic2008' or 'quadratic'"));
}

double mr0(double x, AbsMagRelation relation) {
  // Horner form of the polynomials quoted in the header.
  if (relation == AbsMagRelation::quadratic) return -2.85 + x * (6.29 + x * -2.30);
  return -5.06 + x * (14.32 + x * (-12.97 + x * (6.127 + x * (-1.267 + x * 0.0967))));
}

double delta_mr(double feh) { return 4.50 + feh * (-1.11 + feh * -0.18); }

double absolute_magnitude_r(double g_minus_i, double feh, AbsMagRelation relation) {
  return mr0(g_minus_i, relation) + delta_mr(feh);
}

double distance_pc_from_modulus(double modulus) { return std::pow(10.0, 1.0 + modulus / 5.0); }

double distance_modulus(double distance_pc) { return 5.0 * (std::log10(distance_pc) - 1.0); }

namespace {

void check_length(std::span<const double> values, std::size_t rows, const char* name) {
  if (values.size() != rows) {
    throw Error(str("photometric distances: '", name, "' has ", values.size(), " values, 'r' has ", rows));
  }
}

}  // namespace

PhotometricDistances photometric_distances(const PhotometricInputs& stars, AbsMagRelation relation) {
  const std::size_t rows = stars.r.size();
  check_length(stars.g_minus_i, rows, "g_minus_i");
  check_length(stars.feh, rows, "feh");
  if (!stars.a_r.empty() && !stars.ebv.empty()) {
    throw Error("photometric distances: give the r extinction as A_r or as E(B-V), not both");
  }
  if (!stars.a_r.empty()) check_length(stars.a_r, rows, "a_r");
  if (!stars.ebv.empty()) check_length(stars.ebv, rows, "ebv");
  if (!stars.e_g_minus_i.empty()) check_length(stars.e_g_minus_i, rows, "e_g_minus_i");

  PhotometricDistances out;
  out.abs_mag_r.resize(rows);
  out.distance_pc.resize(rows);
  out.flags.resize(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    double a_r = 0.0;
    if (!stars.a_r.empty()) a_r = stars.a_r[i];
    if (!stars.ebv.empty()) a_r = sdss_r_per_ebv * stars.ebv[i];
    const double colour = stars.g_minus_i[i] - (stars.e_g_minus_i.empty() ? 0.0 : stars.e_g_minus_i[i]);
    const double feh = stars.feh[i];
    const double mr = absolute_magnitude_r(colour, feh, relation);
    out.abs_mag_r[i] = mr;
    out.distance_pc[i] = distance_pc_from_modulus(stars.r[i] - a_r - mr);
    // Ivezic et al. calibrated Mr0 on main-sequence stars with 0.2 < g-i < 4.0; the
    // quadratic is held to the same range so that both relations flag the same stars.
    // Written as negated inclusions so that NaN is flagged too.
    std::uint8_t flags = 0;
    if (!(feh > feh_valid_min && feh < feh_valid_max)) flags |= feh_out_of_range;
    if (!(colour > g_minus_i_valid_min && colour < g_minus_i_valid_max)) flags |= g_minus_i_out_of_range;
    out.flags[i] = flags;
  }
  return out;
}

}  // namespace nn::astro
