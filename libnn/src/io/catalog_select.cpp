// Which columns of a header to read, and the messages when a wanted one is not there:
// these name the file and the column and offer the names a typo most likely meant.
#include "catalog_format.h"

namespace nn::catalog_detail {
namespace {

// Beyond this many, a list of columns helps less than it clutters the message.
constexpr std::size_t listed_columns_max = 40;
constexpr std::size_t suggestions_max = 5;

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

bool is_close(const std::string& wanted, const std::string& candidate) {
  const std::string a = to_lower(wanted), b = to_lower(candidate);
  if (a == b) return true;
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  if (shorter.size() >= 3 && longer.find(shorter) != std::string::npos) return true;
  // A third of the letters may be wrong; very short names only differ in case.
  return edit_distance(a, b) <= a.size() / 3;
}

std::string quoted_list(const std::vector<std::string>& names, std::size_t max) {
  std::string text;
  for (std::size_t i = 0; i < std::min(names.size(), max); ++i) {
    text += str(i ? ", " : "", "'", names[i], "'");
  }
  if (names.size() > max) text += str(" and ", names.size() - max, " more");
  return text;
}

std::string suggestions(const std::string& name, const std::vector<std::string>& available) {
  std::vector<std::string> close;
  for (const std::string& candidate : available) {
    if (is_close(name, candidate)) close.push_back(candidate);
  }
  return close.empty() ? "" : str(" (did you mean ", quoted_list(close, suggestions_max), "?)");
}

// Whether names[i] already appears before position i.
bool repeats_earlier(const std::vector<std::string>& names, std::size_t i) {
  const auto end = names.begin() + static_cast<std::ptrdiff_t>(i);
  return std::find(names.begin(), end, names[i]) != end;
}

// For a name that reads like a colour with one existing side, which side is missing.
std::string colour_hint(const std::string& name, const std::vector<std::string>& available) {
  const auto exists = [&](const std::string& n) {
    return std::find(available.begin(), available.end(), n) != available.end();
  };
  for (std::size_t dash = name.find('-', 1); dash != std::string::npos; dash = name.find('-', dash + 1)) {
    const std::string left = trim_spaces(name.substr(0, dash)), right = trim_spaces(name.substr(dash + 1));
    if (left.empty() || right.empty() || exists(left) == exists(right)) continue;
    const std::string& absent = exists(left) ? right : left;
    return str("; as a colour it lacks column '", absent, "'", suggestions(absent, available));
  }
  return "";
}

std::size_t count(const std::vector<HeaderColumn>& header, const std::string& name) {
  return static_cast<std::size_t>(
      std::count_if(header.begin(), header.end(), [&](const HeaderColumn& c) { return c.name == name; }));
}

std::string repeated_message(const std::string& source, const std::string& name) {
  return str("catalogue '", source, "' repeats the column name '", name,
             "', so it is ambiguous; read the columns you need by name instead");
}

std::size_t find_requested(const std::string& source, const std::vector<HeaderColumn>& header,
                           const std::string& name) {
  const auto it = std::find_if(header.begin(), header.end(), [&](const HeaderColumn& c) { return c.name == name; });
  if (it == header.end()) {
    std::vector<std::string> names;
    for (const HeaderColumn& column : header) names.push_back(column.name);
    throw Error(missing_column_message(source, name, names));
  }
  if (count(header, name) > 1) throw Error(repeated_message(source, name));
  if (!it->unreadable.empty()) {
    throw Error(str("column '", name, "' of catalogue '", source, "' is not numeric: it ", it->unreadable));
  }
  return static_cast<std::size_t>(it - header.begin());
}

}  // namespace

}  // namespace nn::catalog_detail

namespace nn {

std::string missing_column_message(const std::string& source, const std::string& name,
                                   const std::vector<std::string>& available) {
  using namespace catalog_detail;
  return str("catalogue '", source, "' has no column '", name, "'", suggestions(name, available),
             colour_hint(name, available), "; its columns are ", quoted_list(available, listed_columns_max));
}

}  // namespace nn

namespace nn::catalog_detail {

std::vector<std::size_t> select_columns(const std::string& source, const std::vector<HeaderColumn>& header,
                                        const std::vector<std::string>& requested) {
  std::vector<std::size_t> positions;
  if (requested.empty()) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      // Unnamed FITS columns are unreadable anyway, so only real names can be ambiguous.
      if (!header[i].name.empty() && count(header, header[i].name) > 1) {
        throw Error(repeated_message(source, header[i].name));
      }
      if (header[i].unreadable.empty()) positions.push_back(i);
    }
    return positions;
  }
  for (std::size_t r = 0; r < requested.size(); ++r) {
    if (repeats_earlier(requested, r)) {
      throw Error(str("column '", requested[r], "' of catalogue '", source, "' is requested twice"));
    }
    positions.push_back(find_requested(source, header, requested[r]));
  }
  return positions;
}

void check_new_columns(const std::string& source, const std::vector<std::string>& existing,
                       const std::vector<std::string>& new_columns) {
  for (std::size_t i = 0; i < new_columns.size(); ++i) {
    const std::string& name = new_columns[i];
    if (name.empty()) throw Error(str("a new column for '", source, "' has an empty name"));
    if (std::find(existing.begin(), existing.end(), name) != existing.end()) {
      throw Error(str("catalogue '", source, "' already has a column '", name, "'; choose another name for it"));
    }
    if (repeats_earlier(new_columns, i)) {
      throw Error(str("new column '", name, "' for '", source, "' is given twice"));
    }
  }
}

}  // namespace nn::catalog_detail
