#pragma once
// Axis labels as a paper prints them: the quantity a target column holds, with its unit, in
// PLplot's text escapes ("T#deff#u (K)" sets "eff" as a subscript).
#include <string>
#include <string_view>

namespace nn::plot {

struct Quantity {
  std::string symbol;  // "[Fe/H]", "T#deff#u"; the column's own name where no quantity is known
  std::string unit;    // "dex", "K"; empty where not known
};

// What a target column holds, recognised from its name whatever its case and separators:
// feh, FEH_ADOP, fe_h and [Fe/H] are all [Fe/H] in dex; TEFF* is T_eff in K; LOGG* is log g
// in dex (also [M/H], [alpha/Fe] and [alpha/M]). Any other name stands for itself, unitless.
Quantity target_quantity(std::string_view column);

// '#' starts a PLplot text escape: text from outside (a column name) shows as it is with each
// '#' doubled.
std::string plain_text(std::string_view text);

// "<text> (<unit>)", or the text alone where the unit is not known.
std::string with_unit(std::string_view text, const Quantity& quantity);

// The axis label of a target column's values: "<words> <symbol> (<unit>)", so that
// axis_label("true", "FEH_ADOP") is "true [Fe/H] (dex)"; words may be empty.
std::string axis_label(std::string_view words, std::string_view column);

}  // namespace nn::plot
