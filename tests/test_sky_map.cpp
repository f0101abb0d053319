// HEALPix pixels and sky maps (nn/sky_map.h) against closed forms: the pixel centres of NSIDE 1
// and 2 (Gorski et al. 2005, figure 4), the poles, the pixel count; a map's statistics per pixel.
// tests/tools/check_healpix_map.py compares whole maps with healpy.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "nn/error.h"
#include "nn/sky_map.h"

namespace nn::test {
namespace {

using astro::healpix_ring_pixel;
constexpr double pi = std::numbers::pi;

TEST(HealpixRing, PixelCentresOfNside1) {
  // North cap 0..3 centred at theta = acos(2/3), the belt 4..7 on the equator, south cap 8..11.
  const double north = std::acos(2.0 / 3.0), south = pi - north;
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(healpix_ring_pixel(1, north, pi / 4 + k * pi / 2), k);
    EXPECT_EQ(healpix_ring_pixel(1, pi / 2, k * pi / 2 + 0.01), 4 + k);
    EXPECT_EQ(healpix_ring_pixel(1, south, pi / 4 + k * pi / 2), 8 + k);
  }
  // A longitude is taken modulo 2 pi.
  EXPECT_EQ(healpix_ring_pixel(1, pi / 2, 0.01 - 2 * pi), 4);
  EXPECT_EQ(healpix_ring_pixel(1, pi / 2, 0.01 + 4 * pi), 4);
}

TEST(HealpixRing, PolesAndRingsOfNside2) {
  EXPECT_EQ(healpix_ring_pixel(2, 1e-6, 0.1), 0);
  EXPECT_EQ(healpix_ring_pixel(2, 1e-6, 2 * pi - 0.1), 3);
  EXPECT_EQ(healpix_ring_pixel(2, pi - 1e-6, 0.1), 44);
  EXPECT_EQ(healpix_ring_pixel(2, pi - 1e-6, 2 * pi - 0.1), 47);
  // The belt's rings lie at z = 4/3 - 2 i / (3 nside), 8 pixels each after the cap's 4: z = 0.5 is
  // nearest the third ring (z = 1/3, pixels 12..19), the equator is the fourth (20..27).
  EXPECT_EQ(healpix_ring_pixel(2, std::acos(0.5), 0.01), 12);
  EXPECT_EQ(healpix_ring_pixel(2, pi / 2, 0.01), 20);
}

TEST(HealpixRing, NsideMustBeAPowerOfTwo) {
  EXPECT_NO_THROW(astro::check_nside(1024));
  for (const std::int64_t bad : std::vector<std::int64_t>{0, 3, 12, -4, std::int64_t(1) << 21}) {
    try {
      astro::check_nside(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(std::to_string(bad)), std::string::npos) << e.message();
    }
  }
}

TEST(SkyMap, CountsMeansAndMediansPerPixel) {
  astro::SkyMap map(1, true);
  // Three stars near the north Galactic pole (pixel 0..3 region), one without a value.
  map.add(45.0, 80.0, -1.0, 0.2);
  map.add(45.0, 85.0, -0.5, 0.1);
  map.add(45.0, 75.0, -2.0, 0.3);
  map.add(45.0, 75.0, std::nan(""), 0.3);
  EXPECT_EQ(map.stars(), 3);
  const Catalog table = map.table(1, "dex");
  ASSERT_EQ(table.rows(), 12);
  const std::int64_t p = astro::healpix_pixel_lb(1, 45.0, 80.0);
  EXPECT_EQ(table.column("COUNT")[std::size_t(p)], 3);
  EXPECT_DOUBLE_EQ(table.column("MEAN")[std::size_t(p)], -3.5 / 3);
  EXPECT_EQ(table.column("MEDIAN")[std::size_t(p)], -1.0);
  EXPECT_NEAR(table.column("ERR_MEDIAN")[std::size_t(p)], 0.2, 1e-7);
  // Empty pixels, and all of them under a minimum of 4 stars, are UNSEEN.
  EXPECT_EQ(table.column("MEDIAN")[std::size_t((p + 6) % 12)], astro::kHealpixUnseen);
  EXPECT_EQ(map.table(4, "dex").column("MEAN")[std::size_t(p)], astro::kHealpixUnseen);
}

}  // namespace
}  // namespace nn::test
