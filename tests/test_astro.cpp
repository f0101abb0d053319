// Photometric distances, Galactic coordinates and metallicity maps against values worked out
// by hand or published independently of this code.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "nn/astro.h"
#include "nn/catalog.h"
#include "nn/error.h"
#include "scratch_dir.h"

namespace {

namespace astro = nn::astro;
const double nan = std::nan("");

// Longitudes compare on the circle: 359.9999 is close to 0.
double longitude_difference(double a, double b) {
  const double d = std::fmod(std::abs(a - b), 360.0);
  return std::min(d, 360.0 - d);
}

TEST(AstroCoordinates, GalacticCentreIsOrigin) {
  const astro::GalacticPosition centre = astro::equatorial_to_galactic(266.40499, -28.93617);
  EXPECT_LT(longitude_difference(centre.l_deg, 0.0), 1e-3) << centre.l_deg;
  EXPECT_NEAR(centre.b_deg, 0.0, 1e-3);
}

TEST(AstroCoordinates, NorthGalacticPoleIsLatitudeNinety) {
  EXPECT_NEAR(astro::equatorial_to_galactic(192.85948, 27.12825).b_deg, 90.0, 1e-9);
  // The celestial pole lies at the longitude that defines the frame, at b = Dec of the NGP.
  const astro::GalacticPosition ncp = astro::equatorial_to_galactic(0.0, 90.0);
  EXPECT_NEAR(ncp.l_deg, 122.93192, 1e-9);
  EXPECT_NEAR(ncp.b_deg, 27.12825, 1e-9);
}

TEST(AstroCoordinates, LongitudeNinetyDirection) {
  const astro::GalacticPosition p = astro::equatorial_to_galactic(318.00425, 48.32963);
  EXPECT_NEAR(p.l_deg, 90.0, 1e-3);
  EXPECT_NEAR(p.b_deg, 0.0, 1e-3);
}

TEST(AstroCoordinates, RotationMatchesHipparcosMatrix) {
  // The matrix A_G printed in the Hipparcos catalogue (ESA 1997, vol. 1, sect. 1.5.3).
  const double published[3][3] = {{-0.0548755604, -0.8734370902, -0.4838350155},
                                  {+0.4941094279, -0.4448296300, +0.7469822445},
                                  {-0.8676661490, -0.1980763734, +0.4559837762}};
  const auto& rotation = astro::galactic_rotation();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(rotation[i][j], published[i][j], 1e-8) << i << "," << j;
  }
}

TEST(AstroCoordinates, VectorisedMatchesScalarAndChecksLengths) {
  const std::vector<double> ra = {266.40499, 318.00425, 10.0}, dec = {-28.93617, 48.32963, -60.0};
  std::vector<double> l(3), b(3);
  astro::equatorial_to_galactic(ra, dec, l, b);
  for (std::size_t i = 0; i < 3; ++i) {
    const astro::GalacticPosition p = astro::equatorial_to_galactic(ra[i], dec[i]);
    EXPECT_EQ(l[i], p.l_deg);
    EXPECT_EQ(b[i], p.b_deg);
    EXPECT_GE(l[i], 0.0);
    EXPECT_LT(l[i], 360.0);
  }
  std::vector<double> short_b(2);
  EXPECT_THROW(astro::equatorial_to_galactic(ra, dec, l, short_b), nn::Error);
}

TEST(AstroCoordinates, HeliocentricAxes) {
  const astro::Cartesian centre = astro::heliocentric_cartesian(0.0, 0.0, 2.0);
  EXPECT_NEAR(centre.x, 2.0, 1e-12);
  EXPECT_NEAR(centre.y, 0.0, 1e-12);
  const astro::Cartesian rotation = astro::heliocentric_cartesian(90.0, 0.0, 1.0);
  EXPECT_NEAR(rotation.x, 0.0, 1e-12);
  EXPECT_NEAR(rotation.y, 1.0, 1e-12);
  EXPECT_NEAR(astro::heliocentric_cartesian(33.0, 90.0, 3.0).z, 3.0, 1e-12);
}

TEST(AstroCoordinates, GalactocentricCylindrical) {
  const astro::GalactocentricCylindrical sun = astro::galactocentric_cylindrical(123.0, -45.0, 0.0);
  EXPECT_EQ(sun.r_kpc, 8.122);
  EXPECT_EQ(sun.z_kpc, 0.017);
  // Towards the centre R shrinks by d, away from it it grows, and straight up Z grows.
  EXPECT_NEAR(astro::galactocentric_cylindrical(0.0, 0.0, 2.0).r_kpc, 6.122, 1e-12);
  EXPECT_NEAR(astro::galactocentric_cylindrical(180.0, 0.0, 1.0).r_kpc, 9.122, 1e-12);
  const astro::GalactocentricCylindrical up = astro::galactocentric_cylindrical(0.0, 90.0, 1.5);
  EXPECT_NEAR(up.r_kpc, 8.122, 1e-12);
  EXPECT_NEAR(up.z_kpc, 1.517, 1e-12);
  // l = 90 at 8.122 kpc: a right angle at the Sun, so R = sqrt(2) R_sun.
  EXPECT_NEAR(astro::galactocentric_cylindrical(90.0, 0.0, 8.122).r_kpc, 8.122 * std::sqrt(2.0), 1e-12);
  const astro::SunPosition other{8.0, 0.0};
  EXPECT_EQ(astro::galactocentric_cylindrical(0.0, 0.0, 0.0, other).r_kpc, 8.0);

  const std::vector<double> l = {0.0, 180.0}, b = {0.0, 0.0}, d = {2.0, 1.0};
  std::vector<double> r(2), z(2);
  astro::galactocentric_cylindrical(l, b, d, r, z);
  EXPECT_NEAR(r[0], 6.122, 1e-12);
  EXPECT_NEAR(r[1], 9.122, 1e-12);
  EXPECT_NEAR(z[1], 0.017, 1e-12);
}

TEST(AstroDistance, Mr0ByHandAtGMinusIOne) {
  // At x = 1 each polynomial is the sum of its coefficients.
  EXPECT_NEAR(astro::mr0(1.0), -5.06 + 14.32 - 12.97 + 6.127 - 1.267 + 0.0967, 1e-12);
  EXPECT_NEAR(astro::mr0(1.0), 1.2467, 1e-12);
  EXPECT_NEAR(astro::mr0(1.0, astro::AbsMagRelation::quadratic), 1.14, 1e-12);
  EXPECT_NEAR(astro::mr0(2.0, astro::AbsMagRelation::quadratic), -2.85 + 12.58 - 9.2, 1e-12);
  EXPECT_NEAR(astro::delta_mr(0.0), 4.50, 1e-12);
  EXPECT_NEAR(astro::delta_mr(-1.0), 4.50 + 1.11 - 0.18, 1e-12);
  EXPECT_NEAR(astro::absolute_magnitude_r(1.0, -1.0), 1.2467 + 5.43, 1e-12);
}

TEST(AstroDistance, RelationNames) {
  for (auto relation : {astro::AbsMagRelation::ivezic2008, astro::AbsMagRelation::quadratic}) {
    EXPECT_EQ(astro::parse_abs_mag_relation(astro::abs_mag_relation_name(relation)), relation);
  }
  EXPECT_EQ(astro::abs_mag_relation_name(astro::AbsMagRelation::ivezic2008), "ivezic2008");
  EXPECT_THROW(astro::parse_abs_mag_relation("juric2008"), nn::Error);
}

TEST(AstroDistance, DistanceModulusRoundTrips) {
  EXPECT_NEAR(astro::distance_pc_from_modulus(0.0), 10.0, 1e-12);
  EXPECT_NEAR(astro::distance_pc_from_modulus(10.0), 1000.0, 1e-9);
  for (double d : {12.0, 800.0, 2500.0, 9000.0}) {
    EXPECT_NEAR(astro::distance_pc_from_modulus(astro::distance_modulus(d)), d, 1e-9 * d);
  }
  // Place stars at known distances: r = Mr + modulus(d) must give d back.
  const std::vector<double> gi = {0.5, 1.2, 2.5}, feh = {-0.3, -1.5, 0.0}, d = {800.0, 3000.0, 150.0};
  for (auto relation : {astro::AbsMagRelation::ivezic2008, astro::AbsMagRelation::quadratic}) {
    std::vector<double> r(3);
    for (std::size_t i = 0; i < 3; ++i) {
      r[i] = astro::absolute_magnitude_r(gi[i], feh[i], relation) + astro::distance_modulus(d[i]);
    }
    const astro::PhotometricDistances out = astro::photometric_distances({r, gi, feh}, relation);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_NEAR(out.distance_pc[i], d[i], 1e-9 * d[i]);
      EXPECT_NEAR(out.abs_mag_r[i], astro::absolute_magnitude_r(gi[i], feh[i], relation), 1e-12);
      EXPECT_EQ(out.flags[i], 0);
    }
  }
}

TEST(AstroDistance, ExtinctionIsAppliedOnlyWhenGiven) {
  const std::vector<double> r = {17.0}, gi = {1.0}, feh = {-1.0};
  const double plain = astro::photometric_distances({r, gi, feh}).distance_pc[0];
  const std::vector<double> a_r = {0.5};
  astro::PhotometricInputs with_a_r{r, gi, feh};
  with_a_r.a_r = a_r;
  // 0.5 mag of extinction brings the star closer by 10^(0.5/5).
  const double closer = plain / std::pow(10.0, 0.1);
  EXPECT_NEAR(astro::photometric_distances(with_a_r).distance_pc[0], closer, 1e-9 * plain);

  const std::vector<double> ebv = {0.5 / 2.285};
  astro::PhotometricInputs with_ebv{r, gi, feh};
  with_ebv.ebv = ebv;
  EXPECT_NEAR(astro::photometric_distances(with_ebv).distance_pc[0], closer, 1e-9 * plain);

  const std::vector<double> e_gi = {0.2};
  astro::PhotometricInputs reddened{r, gi, feh};
  reddened.e_g_minus_i = e_gi;
  EXPECT_NEAR(astro::photometric_distances(reddened).abs_mag_r[0], astro::absolute_magnitude_r(0.8, -1.0), 1e-12);

  with_ebv.a_r = a_r;
  EXPECT_THROW(astro::photometric_distances(with_ebv), nn::Error);
  const std::vector<double> two = {1.0, 2.0};
  EXPECT_THROW(astro::photometric_distances({r, two, feh}), nn::Error);
}

TEST(AstroDistance, OutOfRangeStarsAreFlaggedButComputed) {
  const std::vector<double> r = {18.0, 18.0, 18.0, 18.0, 18.0, 18.0};
  const std::vector<double> gi = {1.0, 1.0, 0.1, 4.5, 0.1, nan};
  const std::vector<double> feh = {-1.0, 0.5, -1.0, -1.0, -3.0, -1.0};
  const astro::PhotometricDistances out = astro::photometric_distances({r, gi, feh});
  EXPECT_EQ(out.flags[0], 0);
  EXPECT_EQ(out.flags[1], astro::feh_out_of_range);
  EXPECT_EQ(out.flags[2], astro::g_minus_i_out_of_range);
  EXPECT_EQ(out.flags[3], astro::g_minus_i_out_of_range);
  EXPECT_EQ(out.flags[4], astro::feh_out_of_range | astro::g_minus_i_out_of_range);
  EXPECT_EQ(out.flags[5], astro::g_minus_i_out_of_range);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_TRUE(std::isfinite(out.distance_pc[i])) << i;
  EXPECT_TRUE(std::isnan(out.distance_pc[5]));
}

TEST(AstroMap, SelectionCountsEachCut) {
  //                                pass  r     r     colour colour dist  dist  NaN r  pass
  const std::vector<double> r = {16.0, 14.0, 20.5, 17.0, 17.0, 17.0, 17.0, nan, 19.9};
  const std::vector<double> gr = {0.3, 0.3, 0.3, 0.1, 0.45, 0.3, 0.3, 0.3, 0.21};
  const std::vector<double> d = {2.0, 2.0, 2.0, 2.0, 2.0, 0.5, 9.5, 2.0, 8.9};
  const astro::Selection selection = astro::select_stars(r, gr, d);
  EXPECT_EQ(selection.total, 9);
  EXPECT_EQ(selection.removed_by_r, 3);
  EXPECT_EQ(selection.removed_by_colour, 2);
  EXPECT_EQ(selection.removed_by_distance, 2);
  EXPECT_EQ(selection.kept, 2);
  EXPECT_EQ(selection.keep, (std::vector<std::uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 1}));
  // A star failing several cuts counts once, against the first.
  const astro::Selection both =
      astro::select_stars(std::vector<double>{25.0}, std::vector<double>{1.0}, std::vector<double>{20.0});
  EXPECT_EQ(both.removed_by_r, 1);
  EXPECT_EQ(both.removed_by_colour + both.removed_by_distance, 0);
}

// Stars spread over the sky out to 9 kpc, run through the coordinate chain, with [Fe/H]
// falling linearly in |Z|: the medians of the map must give that slope back.
TEST(AstroMap, RecoversLinearGradientInAbsZ) {
  const double slope = -0.25, intercept = -0.4;
  std::mt19937_64 random(20080101);
  std::uniform_real_distribution<double> ra_of(0.0, 360.0), sin_dec_of(-1.0, 1.0), d_of(0.8, 9.0);
  std::normal_distribution<double> noise(0.0, 0.2);
  const std::size_t n = 60000;
  std::vector<double> ra(n), dec(n), d(n), l(n), b(n), big_r(n), z(n), feh(n);
  for (std::size_t i = 0; i < n; ++i) {
    ra[i] = ra_of(random);
    dec[i] = std::asin(sin_dec_of(random)) * 180.0 / std::numbers::pi;
    d[i] = d_of(random);
  }
  astro::equatorial_to_galactic(ra, dec, l, b);
  astro::galactocentric_cylindrical(l, b, d, big_r, z);
  for (std::size_t i = 0; i < n; ++i) feh[i] = intercept + slope * std::abs(z[i]) + noise(random);

  astro::MapBinning binning;
  binning.r_min_kpc = 2.0;
  binning.r_max_kpc = 14.0;
  binning.r_step_kpc = 4.0;
  binning.abs_z_max_kpc = 6.0;
  binning.min_stars = 50;
  const nn::Catalog map = astro::metallicity_map(big_r, z, feh, binning);
  EXPECT_EQ(map.rows(), 3 * 12);
  EXPECT_EQ(map.names(),
            (std::vector<std::string>{"R_min", "R_max", "absZ_min", "absZ_max", "count", "feh_mean", "feh_median"}));

  // Least squares of median against pixel centre over the filled pixels.
  double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
  for (nn::Index p = 0; p < map.rows(); ++p) {
    const double median = map.column("feh_median")[p];
    if (std::isnan(median)) continue;
    const double x = 0.5 * (map.column("absZ_min")[p] + map.column("absZ_max")[p]);
    sx += x, sy += median, sxx += x * x, sxy += x * median, ++m;
  }
  ASSERT_GE(m, 20);
  const double fitted = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  EXPECT_NEAR(fitted, slope, 0.03 * std::abs(slope)) << "fitted " << fitted << " over " << m << " pixels";
  std::cout << "[ measured ] fitted slope " << fitted << " (true " << slope << ") over " << m << " pixels\n";
}

TEST(AstroMap, PixelStatisticsAndMinimumStars) {
  // Pixel (R 8-9, |Z| 0-1): five stars, one below the plane; pixel (R 9-10, |Z| 1-2): two.
  const std::vector<double> r = {8.1, 8.2, 8.5, 8.9, 8.3, 9.5, 9.6, 30.0, 8.5};
  const std::vector<double> z = {0.5, -0.2, 0.9, 0.1, 0.0, 1.5, -1.9, 0.5, 0.5};
  const std::vector<double> feh = {-1.0, -0.5, 0.0, -2.0, -0.1, -1.0, -1.2, -1.0, nan};
  astro::MapBinning binning{8.0, 10.0, 1.0, 0.0, 2.0, 1.0, 3};
  const nn::Catalog map = astro::metallicity_map(r, z, feh, binning);
  ASSERT_EQ(map.rows(), 4);
  EXPECT_EQ(map.column("R_min"), (std::vector<double>{8, 8, 9, 9}));
  EXPECT_EQ(map.column("R_max"), (std::vector<double>{9, 9, 10, 10}));
  EXPECT_EQ(map.column("absZ_min"), (std::vector<double>{0, 1, 0, 1}));
  EXPECT_EQ(map.column("count"), (std::vector<double>{5, 0, 0, 2}));
  EXPECT_NEAR(map.column("feh_mean")[0], -3.6 / 5.0, 1e-12);
  EXPECT_EQ(map.column("feh_median")[0], -0.5);
  for (nn::Index p : {1, 2, 3}) {
    EXPECT_TRUE(std::isnan(map.column("feh_mean")[p])) << p;
    EXPECT_TRUE(std::isnan(map.column("feh_median")[p])) << p;
  }
  // With the minimum lowered the two-star pixel fills, with an even-count median.
  binning.min_stars = 2;
  const nn::Catalog filled = astro::metallicity_map(r, z, feh, binning);
  EXPECT_NEAR(filled.column("feh_median")[3], -1.1, 1e-12);
  EXPECT_TRUE(std::isnan(filled.column("feh_median")[1]));
}

TEST(AstroMap, RejectsBadBinning) {
  const std::vector<double> one = {1.0};
  astro::MapBinning binning;
  binning.r_step_kpc = 0.0;
  EXPECT_THROW(astro::metallicity_map(one, one, one, binning), nn::Error);
  binning = {};
  binning.abs_z_max_kpc = binning.abs_z_min_kpc;
  EXPECT_THROW(astro::metallicity_map(one, one, one, binning), nn::Error);
  binning = {};
  binning.min_stars = 0;
  EXPECT_THROW(astro::metallicity_map(one, one, one, binning), nn::Error);
  EXPECT_THROW(astro::metallicity_map(one, std::vector<double>{}, one), nn::Error);
  // A range that is not a whole number of steps ends in a narrower pixel.
  binning = {};
  binning.r_min_kpc = 0.0;
  binning.r_max_kpc = 1.25;
  binning.r_step_kpc = 0.5;
  binning.abs_z_max_kpc = 0.5;
  const nn::Catalog map = astro::metallicity_map(one, one, one, binning);
  EXPECT_EQ(map.column("R_max"), (std::vector<double>{0.5, 1.0, 1.25}));
}

class AstroFiles : public ScratchDir {};

TEST_F(AstroFiles, MapWritesAsCsvAndFits) {
  const std::vector<double> r = {8.5, 8.6}, z = {0.3, 0.4}, feh = {-1.0, -0.5};
  const astro::MapBinning binning{8.0, 9.0, 1.0, 0.0, 1.0, 0.5, 2};
  const nn::Catalog map = astro::metallicity_map(r, z, feh, binning);
  for (const char* name : {"map.csv", "map.fits"}) {
    nn::write_catalog(path(name), map);
    const nn::Catalog back = nn::read_catalog(path(name));
    EXPECT_EQ(back.names(), map.names()) << name;
    EXPECT_EQ(back.column("count"), (std::vector<double>{2, 0})) << name;
    EXPECT_EQ(back.column("feh_median")[0], -0.75) << name;
    EXPECT_TRUE(std::isnan(back.column("feh_mean")[1])) << name;
  }
}

}  // namespace
