#include "axis_label.h"

#include <array>
#include <cctype>

namespace nn::plot {

namespace {

// Matched against the start of the column name in lower case with everything but letters and
// digits dropped, so that suffixes naming the source (FEH_ADOP, TEFFA) are allowed.
struct KnownQuantity {
  std::string_view prefix;
  Quantity quantity;
};
const std::array<KnownQuantity, 7>& known_quantities() {
  static const std::array<KnownQuantity, 7> known = {{
      {"feh", {"[Fe/H]", "dex"}},
      {"mh", {"[M/H]", "dex"}},
      {"alphafe", {"[#ga/Fe]", "dex"}},
      {"alpham", {"[#ga/M]", "dex"}},
      {"afe", {"[#ga/Fe]", "dex"}},
      {"teff", {"T#deff#u", "K"}},
      {"logg", {"log #fig#fn", "dex"}},  // g in italics, as the surface gravity is set
  }};
  return known;
}

}  // namespace

std::string plain_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

Quantity target_quantity(std::string_view column) {
  std::string key;
  for (char c : column)
    if (std::isalnum(static_cast<unsigned char>(c))) key += char(std::tolower(static_cast<unsigned char>(c)));
  for (const KnownQuantity& k : known_quantities())
    if (key.starts_with(k.prefix)) return k.quantity;
  return {plain_text(column), ""};
}

std::string with_unit(std::string_view text, const Quantity& quantity) {
  std::string out(text);
  if (!quantity.unit.empty()) out += " (" + quantity.unit + ")";
  return out;
}

std::string axis_label(std::string_view words, std::string_view column) {
  const Quantity q = target_quantity(column);
  std::string text(words);
  if (!text.empty()) text += ' ';
  return with_unit(text + q.symbol, q);
}

}  // namespace nn::plot
