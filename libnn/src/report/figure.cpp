#include "nn/figure.h"

#include <plplot.h>

#include <algorithm>
#include <fstream>

#include "nn/error.h"
#include "temporary_file.h"

namespace fs = std::filesystem;

namespace nn::plot {

// Kept out of the public header, which includes only the standard library.
struct PngFigure::Target {
  explicit Target(const fs::path& png) : file(png) {}
  TemporaryFile file;
};

PngFigure::PngFigure(const fs::path& png, int width, int height) : target_(std::make_unique<Target>(png)) {
  plsdev("pngcairo");
  plsfnam(target_->file.path().c_str());
  plsetopt("geometry", str(width, "x", height).c_str());
  plscol0(background, 255, 255, 255);
  plscol0(ink, 0, 0, 0);
  plscol0(blue, 31, 119, 180);
  plscol0(orange, 255, 127, 14);
  plscol0(red, 214, 39, 40);
  plscol0(light_grey, 200, 200, 200);
  // A perceptually uniform palette (viridis), so that brighter reads as more.
  PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
  PLFLT r[] = {0.267, 0.230, 0.128, 0.369, 0.993};
  PLFLT g[] = {0.005, 0.322, 0.567, 0.789, 0.906};
  PLFLT b[] = {0.329, 0.546, 0.551, 0.383, 0.144};
  plscmap1n(256);
  plscmap1l(1, 5, pos, r, g, b, nullptr);
  plinit();
  pladv(0);
  plschr(0, 1.1);
  // Tick labels as plain numbers up to 5 digits (-5000, 0.0001): beyond PLplot's default of 4
  // it writes a common factor "(x10^3)" past the end of the axis, at the edge of the image.
  plsxax(5, 0);
  plsyax(5, 0);
}

PngFigure::~PngFigure() {
  // The temporary goes with target_.
  if (open_) plend();
}

namespace {

// PLplot's cairo driver ignores failed writes (a full disk): the image is complete only if it
// ends with the PNG's closing chunk, IEND (length 0, type, CRC).
bool ends_a_png(const fs::path& path) {
  static constexpr char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', '\xAE', '\x42', '\x60', '\x82'};
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() < std::streamoff(8 + sizeof iend)) return false;
  in.seekg(-std::streamoff(sizeof iend), std::ios::end);
  char tail[sizeof iend] = {};
  return bool(in.read(tail, sizeof tail)) && std::equal(tail, tail + sizeof tail, iend);
}

}  // namespace

void PngFigure::finish() {
  plend();
  open_ = false;
  const fs::path& written = target_->file.path();
  if (!ends_a_png(written))
    throw Error(str("cannot write figure '", target_->file.target().string(), "': PLplot left an incomplete image in '",
                    written.string(), "' (is the disk full?)"));
  target_->file.commit();
}

void label_axes(const char* x_label, const char* y_label, const char* title) {
  pllab(x_label, "", title);
  // plbox leaves the length of its longest y tick label in plgyax's digits. pllab sets the y
  // label 5 character heights out, room for 4 characters of tick label (the labels end half a
  // character height from the axis, a digit is about 0.65 of one wide, and the label's own
  // height reaches 1.9 in).
  PLINT digmax = 0, digits = 0;
  plgyax(&digmax, &digits);
  plmtex("l", std::max(5.0, 0.5 + 0.65 * double(digits) + 1.9), 0.5, 0.5, y_label);
}

void draw_colour_bar(double lo, double hi, const char* label) {
  PLFLT bar_width = 0, bar_height = 0;
  PLINT label_opts[] = {PL_COLORBAR_LABEL_RIGHT};
  const char* labels[] = {label};
  const char* axis_opts[] = {"bcvtm"};
  PLFLT ticks[] = {0.0};
  PLINT sub_ticks[] = {0};
  PLINT n_values[] = {2};
  PLFLT range[] = {lo, hi};
  const PLFLT* values[] = {range};
  plcolorbar(&bar_width, &bar_height, PL_COLORBAR_GRADIENT, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.03, 0.0, 0.04,
             1.0, 0, 1, 1, 0.0, 0.0, 1, 1.0, 1, label_opts, labels, 1, axis_opts, ticks, sub_ticks, n_values, values);
}

}  // namespace nn::plot
