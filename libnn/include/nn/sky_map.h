#pragma once
// Sky maps of predictions on HEALPix pixels (Gorski et al. 2005): equal-area pixels of the sphere,
// 12 NSIDE^2 of them, in the RING order healpy and the HEALPix libraries use by default. A map in
// Galactic coordinates holds per pixel the number of stars and the mean and median of a predicted
// column (and of its uncertainty), and is written as the FITS binary table HEALPix defines
// (PIXTYPE, ORDERING, NSIDE, ...; empty pixels hold healpy's UNSEEN), which healpy.read_map reads.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nn/catalog.h"
#include "nn/ranks.h"

namespace nn::astro {

// The RING-ordered pixel of NSIDE (a power of 2, 1 to 2^20) holding the direction of colatitude
// theta and longitude phi (radians, phi taken modulo 2 pi).
NN_API std::int64_t healpix_ring_pixel(std::int64_t nside, double theta, double phi);
// The pixel of Galactic (l, b) in degrees.
NN_API std::int64_t healpix_pixel_lb(std::int64_t nside, double l_deg, double b_deg);
// An nn::Error naming the value where nside is not a power of 2 in [1, 2^20].
NN_API void check_nside(std::int64_t nside);

// HEALPix's marker of a pixel without a value, as healpy spells it.
inline constexpr double kHealpixUnseen = -1.6375e30;

// Accumulates stars into pixels; the statistics come at the end (the medians need every value).
class NN_API SkyMap {
 public:
  // with_err: an uncertainty column is mapped too.
  SkyMap(std::int64_t nside, bool with_err);
  // A star at Galactic (l, b) with its value (and uncertainty); NaN values or positions are left out.
  void add(double l_deg, double b_deg, double value, double err = 0.0);
  std::int64_t nside() const { return nside_; }
  Index stars() const { return stars_; }
  // One row per pixel: COUNT, MEAN, MEDIAN (and ERR_MEAN, ERR_MEDIAN), UNSEEN where a pixel has
  // fewer than min_stars. `unit` is the value's unit (TUNIT).
  Catalog table(Index min_stars, const std::string& unit) const;

 private:
  std::int64_t nside_;
  bool with_err_;
  Index stars_ = 0;
  std::vector<std::vector<float>> values_, errs_;  // per pixel
};

// Where a catalogue keeps what a sky map needs: the mapped column, its uncertainty (empty: none),
// the equatorial position in degrees, and the FITS HDU (empty: the first table).
struct SkyMapColumns {
  std::string value, err, ra, dec, hdu;
};
// The sky map of the stars of `files` (expressions as catalogues allow: columns or colours): each
// rank reads its share (rank_share, nn/survey.h) and rank 0 gathers every star and maps them; the
// other ranks get an empty map. The map does not depend on how the files were shared.
NN_API SkyMap sky_map_of(const std::vector<std::filesystem::path>& files, std::int64_t nside,
                         const SkyMapColumns& columns, const Ranks& ranks);

// Writes a SkyMap::table as a HEALPix map in Galactic coordinates (atomically, FITS only).
NN_API void write_healpix_map(const std::filesystem::path& path, const Catalog& table, std::int64_t nside);

}  // namespace nn::astro
