// Column expressions: a column, or a colour "a-b". Photometric nets take colours as often
// as magnitudes, so the colour is computed where the catalogue is read rather than stored.
#include <algorithm>
#include <functional>
#include <optional>

#include "catalog_format.h"

namespace nn {
namespace {

// A plain column (second empty) or the two sides of a colour.
struct Resolved {
  std::string first;
  std::string second;
};

// Tries every '-' as the colour's minus, so that names containing '-' still work; more
// than one reading is an error rather than a guess.
std::optional<Resolved> resolve(const std::string& expression,
                                const std::function<bool(const std::string&)>& has) {
  if (has(expression)) return Resolved{expression, ""};
  std::optional<Resolved> found;
  for (std::size_t dash = expression.find('-', 1); dash != std::string::npos;
       dash = expression.find('-', dash + 1)) {
    Resolved colour{catalog_detail::trim_spaces(expression.substr(0, dash)),
                    catalog_detail::trim_spaces(expression.substr(dash + 1))};
    if (colour.first.empty() || colour.second.empty() || !has(colour.first) || !has(colour.second)) continue;
    if (found) {
      throw Error(str("expression '", expression, "' is ambiguous: both '", found->first, "' - '",
                      found->second, "' and '", colour.first, "' - '", colour.second,
                      "' are colours of existing columns"));
    }
    found = colour;
  }
  return found;
}

}  // namespace

std::vector<double> evaluate_column(const Catalog& catalog, const std::string& expression) {
  const auto resolved = resolve(expression, [&](const std::string& name) { return catalog.has(name); });
  if (!resolved) {
    throw Error(catalog_detail::missing_column_message(catalog.source(), expression, catalog.names()));
  }
  std::vector<double> values = catalog.column(resolved->first);
  if (resolved->second.empty()) return values;
  const std::vector<double>& subtrahend = catalog.column(resolved->second);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] -= subtrahend[i];
  return values;
}

std::vector<std::string> expression_columns(const std::vector<std::string>& expressions,
                                            const std::vector<std::string>& available) {
  const auto has = [&](const std::string& name) {
    return std::find(available.begin(), available.end(), name) != available.end();
  };
  std::vector<std::string> needed;
  const auto need = [&](const std::string& name) {
    if (!name.empty() && std::find(needed.begin(), needed.end(), name) == needed.end()) {
      needed.push_back(name);
    }
  };
  for (const std::string& expression : expressions) {
    const auto resolved = resolve(expression, has);
    need(resolved ? resolved->first : expression);
    if (resolved) need(resolved->second);
  }
  return needed;
}

}  // namespace nn
