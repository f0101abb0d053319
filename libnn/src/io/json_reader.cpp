#include "json_reader.h"

#include <limits>

namespace nn {

std::string json_reason(const nlohmann::json::exception& e) {
  const std::string_view what = e.what();
  const auto end = what.find("] ");
  return std::string(end == std::string_view::npos ? what : what.substr(end + 2));
}

JsonReader::JsonReader(const Json& j, std::string path, std::string source)
    : json_(j), path_(std::move(path)), source_(std::move(source)) {
  if (!j.is_object()) throw Error(str(source_, ": ", path_, ": expected an object, got ", j.dump()));
}

std::string JsonReader::path_of(const std::string& key) const { return path_ + "." + key; }

void JsonReader::fail(const std::string& key, const std::string& expected) const {
  fail_at(path_of(key), expected, json_.contains(key) ? json_.at(key).dump() : "nothing");
}

void JsonReader::fail_element(const std::string& key, std::size_t k, const std::string& expected,
                              const std::string& suffix) const {
  Json element = json_.at(key).at(k);
  if (!suffix.empty()) element = element.at(suffix.substr(1));
  fail_at(str(path_of(key), "[", k, "]", suffix), expected, element.dump());
}

void JsonReader::fail_at(const std::string& path, const std::string& expected, const std::string& got) const {
  throw Error(str(source_, ": ", path, ": expected ", expected, ", got ", got));
}

const JsonReader::Json& JsonReader::value(const std::string& key) {
  if (!json_.contains(key)) fail(key, "a value (the key is required)");
  used_.insert(key);
  return json_.at(key);
}

std::string JsonReader::type(const std::vector<std::string>& allowed) {
  const std::string t = string("type");
  for (const auto& a : allowed)
    if (t == a) return t;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
  fail("type", "one of " + list);
}

std::string JsonReader::string(const std::string& key) {
  const Json& v = value(key);
  if (!v.is_string()) fail(key, "a string");
  return v.get<std::string>();
}

std::string JsonReader::string_or(const std::string& key, const std::string& fallback) {
  return has(key) ? string(key) : fallback;
}

double JsonReader::number(const std::string& key, double low, double high) {
  const Json& v = value(key);
  if (!v.is_number()) fail(key, "a number");
  const double x = v.get<double>();
  if (!(x >= low && x <= high)) fail(key, str("a number in [", low, ", ", high, "]"));
  return x;
}

double JsonReader::number_or(const std::string& key, double fallback, double low, double high) {
  return has(key) ? number(key, low, high) : fallback;
}

std::int64_t JsonReader::integer_or(const std::string& key, std::int64_t fallback, std::int64_t low,
                                    std::int64_t high) {
  if (!has(key)) return fallback;
  const Json& v = value(key);
  if (!v.is_number_integer()) fail(key, "an integer");
  const std::int64_t x = v.get<std::int64_t>();
  if (x < low || x > high) {
    if (high == std::numeric_limits<std::int64_t>::max()) fail(key, str("an integer >= ", low));
    fail(key, str("an integer in [", low, ", ", high, "]"));
  }
  return x;
}

std::vector<std::string> JsonReader::strings_or(const std::string& key, std::vector<std::string> fallback) {
  if (!has(key)) return fallback;
  const Json& v = value(key);
  if (!v.is_array()) fail(key, "an array of strings");
  std::vector<std::string> out;
  for (const Json& item : v) {
    if (!item.is_string() || item.get<std::string>().empty()) fail(key, "an array of non-empty strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::int64_t> JsonReader::integers(const std::string& key, std::int64_t low, std::int64_t high) {
  const Json& v = value(key);
  const std::string range = str("[", low, ", ", high, "]");
  if (!v.is_array() || v.empty()) fail(key, "a non-empty array of integers in " + range);
  std::vector<std::int64_t> out;
  for (std::size_t k = 0; k < v.size(); ++k) {
    const Json& item = v[k];
    // An unsigned value beyond int64 reads as negative, and so fails the range check too.
    if (!item.is_number_integer() || item.get<std::int64_t>() < low || item.get<std::int64_t>() > high)
      fail_at(str(path_of(key), "[", k, "]"), "an integer in " + range, item.dump());
    out.push_back(item.get<std::int64_t>());
  }
  return out;
}

std::size_t JsonReader::choice_or(const std::string& key, const std::vector<std::string>& names, std::size_t fallback) {
  if (!has(key)) return fallback;
  const std::string s = string(key);
  for (std::size_t k = 0; k < names.size(); ++k)
    if (s == names[k]) return k;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "\"" : ", \"") + n + "\"";
  fail(key, "one of " + list);
}

JsonReader JsonReader::object(const std::string& key) {
  const Json& v = value(key);
  if (!v.is_object()) fail(key, "an object");
  return JsonReader(v, path_of(key), source_);
}

std::vector<JsonReader> JsonReader::objects(const std::string& key) {
  const Json& v = value(key);
  if (!v.is_array() || v.empty()) fail(key, "a non-empty array of objects");
  std::vector<JsonReader> out;
  for (std::size_t k = 0; k < v.size(); ++k) out.emplace_back(v[k], str(path_of(key), "[", k, "]"), source_);
  return out;
}

void JsonReader::finish() const {
  for (const auto& [key, unused] : json_.items())
    if (!used_.count(key)) throw Error(str(source_, ": ", path_of(key), ": unknown key"));
}

}  // namespace nn
