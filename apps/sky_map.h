#pragma once
// starnn map --healpix NSIDE (sky_map.cpp).
#include <cstdint>
#include <filesystem>
#include <string>

#include "nn/tensor.h"

namespace starnn {

struct SkyMapRequest {
  std::string catalog;  // a file, a glob or @LIST
  std::filesystem::path out;
  std::int64_t nside = 0;
  std::string value, err, ra, dec, hdu;  // err empty: <value>_err where there is one
  nn::Index min_stars = 1;
  double lo = -2.0, hi = 0.0;  // the colour range
};

// Writes OUT/healpix.fits and OUT/sky.png; prints what it mapped.
void sky_map(const SkyMapRequest& request);

}  // namespace starnn
