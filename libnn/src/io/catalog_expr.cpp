// Column expressions: a column, a colour "a-b", or a comparison "a < 3.5". Photometric nets
// take colours as often as magnitudes, and classifiers take a cut on a label (giants are
// log g < 3.5), so both are computed where the catalogue is read rather than stored.
#include <algorithm>
#include <charconv>
#include <cmath>
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
std::optional<Resolved> resolve(const std::string& expression, const std::function<bool(const std::string&)>& has) {
  if (has(expression)) return Resolved{expression, ""};
  std::optional<Resolved> found;
  for (std::size_t dash = expression.find('-', 1); dash != std::string::npos; dash = expression.find('-', dash + 1)) {
    Resolved colour{catalog_detail::trim_spaces(expression.substr(0, dash)),
                    catalog_detail::trim_spaces(expression.substr(dash + 1))};
    if (colour.first.empty() || colour.second.empty() || !has(colour.first) || !has(colour.second)) continue;
    if (found) {
      throw Error(str("expression '", expression, "' is ambiguous: both '", found->first, "' - '", found->second,
                      "' and '", colour.first, "' - '", colour.second, "' are colours of existing columns"));
    }
    found = colour;
  }
  return found;
}

// "operand OP value" with OP one of < > <= >=.
struct Comparison {
  std::string operand;
  char op;
  bool or_equal;
  double value;
};

// A number never contains '<' or '>', so the last one is the operator and the operand may
// be any column or colour, even one whose name holds '<' or '>'. Nullopt when the
// expression has no operator; an operator without a column before it or a finite number
// after it is an error, since no column could be meant.
std::optional<Comparison> parse_comparison(const std::string& expression) {
  const std::size_t at = expression.find_last_of("<>");
  if (at == std::string::npos) return std::nullopt;
  Comparison c{catalog_detail::trim_spaces(expression.substr(0, at)), expression[at],
               at + 1 < expression.size() && expression[at + 1] == '=', 0.0};
  const std::string op = expression.substr(at, c.or_equal ? 2 : 1);
  if (c.operand.empty()) throw Error(str("expression '", expression, "': no column before '", op, "'"));
  const std::string number = catalog_detail::trim_spaces(expression.substr(at + op.size()));
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), c.value);
  if (number.empty() || error != std::errc() || end != number.data() + number.size() || !std::isfinite(c.value)) {
    throw Error(str("expression '", expression, "': expected a number after '", op, "', got '", number, "'"));
  }
  return c;
}

// 1 where the comparison holds, 0 where it does not, NaN where the operand is missing.
std::vector<double> compare(std::vector<double> values, const Comparison& c) {
  for (double& x : values) {
    if (std::isnan(x)) continue;
    const bool strictly = c.op == '<' ? x < c.value : x > c.value;
    x = strictly || (c.or_equal && x == c.value) ? 1.0 : 0.0;
  }
  return values;
}

// A column or a colour.
std::vector<double> evaluate_operand(const Catalog& catalog, const std::string& expression) {
  const auto resolved = resolve(expression, [&](const std::string& name) { return catalog.has(name); });
  if (!resolved) {
    throw Error(missing_column_message(catalog.source(), expression, catalog.names()));
  }
  std::vector<double> values = catalog.column(resolved->first);
  if (resolved->second.empty()) return values;
  const std::vector<double>& subtrahend = catalog.column(resolved->second);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] -= subtrahend[i];
  return values;
}

}  // namespace

std::vector<double> evaluate_column(const Catalog& catalog, const std::string& expression) {
  if (!catalog.has(expression)) {
    if (const auto comparison = parse_comparison(expression)) {
      return compare(evaluate_operand(catalog, comparison->operand), *comparison);
    }
  }
  return evaluate_operand(catalog, expression);
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
  for (std::string expression : expressions) {
    if (!has(expression)) {
      if (const auto comparison = parse_comparison(expression)) expression = comparison->operand;
    }
    const auto resolved = resolve(expression, has);
    need(resolved ? resolved->first : expression);
    if (resolved) need(resolved->second);
  }
  return needed;
}

std::vector<std::string> needed_columns(const std::filesystem::path& path, const std::vector<std::string>& expressions,
                                        const std::string& hdu) {
  return expression_columns(expressions, catalog_columns(path, {hdu, {}}));
}

}  // namespace nn
