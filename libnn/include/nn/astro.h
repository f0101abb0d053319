#pragma once
// From predicted metallicities to the Galaxy: photometric distances (Ivezic et al. 2008),
// equatorial J2000 -> Galactic -> Galactocentric coordinates, and maps of [Fe/H] in (R, |Z|).
//
// Units: angles in degrees, photometric distances in parsecs (as the relation gives them),
// positions in the Galaxy in kiloparsecs. Missing inputs are NaN and give NaN outputs.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "nn/export.h"

namespace nn::astro {

// ---- Photometric parallax ------------------------------------------------------------------

// The colour term Mr0(g-i) of the main-sequence absolute magnitude; both forms share the
// metallicity term dMr([Fe/H]).
enum class AbsMagRelation {
  ivezic2008,  // -5.06 + 14.32x - 12.97x^2 + 6.127x^3 - 1.267x^4 + 0.0967x^5
  quadratic,   // -2.85 + 6.29x - 2.30x^2, the simpler form the thesis quotes
};

// "ivezic2008" or "quadratic"; parse_abs_mag_relation throws an nn::Error naming both.
NN_API std::string abs_mag_relation_name(AbsMagRelation relation);
NN_API AbsMagRelation parse_abs_mag_relation(const std::string& name);

NN_API double mr0(double g_minus_i, AbsMagRelation relation = AbsMagRelation::ivezic2008);
// dMr = 4.50 - 1.11[Fe/H] - 0.18[Fe/H]^2.
NN_API double delta_mr(double feh);
NN_API double absolute_magnitude_r(double g_minus_i, double feh, AbsMagRelation relation = AbsMagRelation::ivezic2008);

// d = 10^(1 + mu/5) pc for the distance modulus mu = r - Mr, and its inverse.
NN_API double distance_pc_from_modulus(double modulus);
NN_API double distance_modulus(double distance_pc);

// A_r / E(B-V) for SDSS r: Schlafly & Finkbeiner (2011) table 6, R_V = 3.1.
inline constexpr double sdss_r_per_ebv = 2.285;

// Where the relation was calibrated. Outside it a star is still computed, and flagged.
inline constexpr double feh_valid_min = -2.5;
inline constexpr double feh_valid_max = 0.2;
inline constexpr double g_minus_i_valid_min = 0.2;
inline constexpr double g_minus_i_valid_max = 4.0;

// Per-star inputs, all of one length. The extinctions are optional (empty: none applied), so
// that nothing is dereddened unless the caller says by how much: a_r and ebv correct r
// (r - A_r, with A_r = sdss_r_per_ebv E(B-V) from ebv; give at most one of them), and
// e_g_minus_i, the colour excess E(g-i), corrects the colour.
struct PhotometricInputs {
  std::span<const double> r;
  std::span<const double> g_minus_i;
  std::span<const double> feh;
  std::span<const double> a_r = {};
  std::span<const double> ebv = {};
  std::span<const double> e_g_minus_i = {};
};

// Bits of PhotometricDistances::flags; 0 means inside the calibrated range. A NaN value is
// outside its range.
enum PhotometricFlag : std::uint8_t {
  feh_out_of_range = 1,        // not -2.5 < [Fe/H] < 0.2
  g_minus_i_out_of_range = 2,  // not 0.2 < (g-i) dereddened < 4.0
};

struct PhotometricDistances {
  std::vector<double> abs_mag_r;    // Mr
  std::vector<double> distance_pc;  // from the extinction-corrected r
  std::vector<std::uint8_t> flags;  // PhotometricFlag bits
};

NN_API PhotometricDistances photometric_distances(const PhotometricInputs& stars,
                                                  AbsMagRelation relation = AbsMagRelation::ivezic2008);

// ---- Coordinates ---------------------------------------------------------------------------

// The rotation from equatorial J2000 (ICRS) to Galactic unit vectors, built from the
// Hipparcos definition: north Galactic pole at RA 192.85948, Dec 27.12825, and Galactic
// longitude 122.93192 for the north celestial pole. Rows are the Galactic x, y, z axes.
NN_API const std::array<std::array<double, 3>, 3>& galactic_rotation();

struct GalacticPosition {
  double l_deg;  // in [0, 360)
  double b_deg;
};
NN_API GalacticPosition equatorial_to_galactic(double ra_deg, double dec_deg);
// Vectorised; every span has the length of ra_deg.
NN_API void equatorial_to_galactic(std::span<const double> ra_deg, std::span<const double> dec_deg,
                                   std::span<double> l_deg, std::span<double> b_deg);

// Heliocentric Cartesian: x towards the Galactic centre, y towards l = 90, z towards the
// north Galactic pole; the units of distance.
struct Cartesian {
  double x;
  double y;
  double z;
};
NN_API Cartesian heliocentric_cartesian(double l_deg, double b_deg, double distance);

// The Sun's place in the Galaxy: R_sun (GRAVITY 2018) and its height above the plane
// (Karim & Mamajek 2016).
struct SunPosition {
  double r_kpc = 8.122;
  double z_kpc = 0.017;
};

// Z is the heliocentric z plus Z_sun: the tilt of the plane that the Sun's height implies
// (Z_sun / R_sun, about 0.1 degree) is ignored.
struct GalactocentricCylindrical {
  double r_kpc;  // distance from the Galactic centre in the plane
  double z_kpc;  // height above the Galactic plane
};
NN_API GalactocentricCylindrical galactocentric_cylindrical(double l_deg, double b_deg, double distance_kpc,
                                                            const SunPosition& sun = {});
NN_API void galactocentric_cylindrical(std::span<const double> l_deg, std::span<const double> b_deg,
                                       std::span<const double> distance_kpc, std::span<double> r_kpc,
                                       std::span<double> z_kpc, const SunPosition& sun = {});

// ---- Maps ----------------------------------------------------------------------------------

// The thesis's sample: 14.5 < r < 20, 0.2 < g-r < 0.4, 0.8 < d < 9 kpc (strict bounds).
struct SelectionCuts {
  double r_min = 14.5;
  double r_max = 20.0;
  double g_minus_r_min = 0.2;
  double g_minus_r_max = 0.4;
  double distance_min_kpc = 0.8;
  double distance_max_kpc = 9.0;
};

// The cuts apply in the order r, colour, distance; each count is of the stars that this cut
// removed among those the earlier ones kept, so that total = kept + the three removals.
// A NaN fails its cut.
struct Selection {
  std::vector<std::uint8_t> keep;  // 1 for a star that passes every cut
  Index total = 0;
  Index removed_by_r = 0;
  Index removed_by_colour = 0;
  Index removed_by_distance = 0;
  Index kept = 0;
};
NN_API Selection select_stars(std::span<const double> r, std::span<const double> g_minus_r,
                              std::span<const double> distance_kpc, const SelectionCuts& cuts = {});

// Pixels [min + i step, min + (i+1) step), the last one ending at max. Defaults cover the
// volume that the thesis cuts reach (d < 9 kpc around R_sun).
struct MapBinning {
  double r_min_kpc = 0.0;
  double r_max_kpc = 18.0;
  double r_step_kpc = 0.5;
  double abs_z_min_kpc = 0.0;
  double abs_z_max_kpc = 10.0;
  double abs_z_step_kpc = 0.5;
  Index min_stars = 10;  // pixels with fewer stars get NaN statistics
};

// One row per pixel, R outer and |Z| inner, with the columns R_min, R_max, absZ_min,
// absZ_max, count, feh_mean, feh_median; write it with nn::write_catalog. Stars with a NaN
// input or outside the ranges are left out.
NN_API Catalog metallicity_map(std::span<const double> r_kpc, std::span<const double> z_kpc,
                               std::span<const double> feh, const MapBinning& binning = {});

}  // namespace nn::astro
