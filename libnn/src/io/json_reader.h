#pragma once
// Strict reading of a JSON object with the path of every value in its messages:
// "net.json: $.model.backbone.depth: expected an integer >= 1, got -3".
// Each getter marks its key as used; finish() rejects the keys nobody asked for.
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "nn/error.h"

namespace nn {

// Every JSON text the library reads is parsed here: nested at most kMaxJsonDepth levels (a
// document nested 100,000 deep is refused, not a stack overflow), with every error of the parser
// (syntax, a number out of range such as 1e400, the depth) thrown as JsonSyntaxError, whose
// what() is the reason alone; the caller names the file. `watch`, when given, sees every parse
// event as nlohmann's callbacks do, and decides what is kept.
constexpr int kMaxJsonDepth = 64;
struct JsonSyntaxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The reason of a nlohmann exception without its "[json.exception...] " prefix.
std::string json_reason(const nlohmann::json::exception& e);
// Json is nlohmann::json or nlohmann::ordered_json (safetensors headers keep their order).
template <class Json = nlohmann::json>
Json parse_json(std::string_view text, const typename Json::parser_callback_t& watch = nullptr) {
  const auto bounded = [&](int depth, typename Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxJsonDepth) throw JsonSyntaxError(str("nested deeper than ", kMaxJsonDepth, " levels"));
    return watch ? watch(depth, event, parsed) : true;
  };
  try {
    return Json::parse(text, bounded);
  } catch (const nlohmann::json::exception& e) {
    throw JsonSyntaxError(json_reason(e));
  }
}

class JsonReader {
 public:
  using Json = nlohmann::json;

  // j must be an object (else an error at path).
  JsonReader(const Json& j, std::string path, std::string source);

  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  // As fail, for element k of the array at key ("$.data.inputs[2]"), after `suffix` (".column")
  // when the element is an object.
  [[noreturn]] void fail_element(const std::string& key, std::size_t k, const std::string& expected,
                                 const std::string& suffix = "") const;
  std::string path_of(const std::string& key) const;
  bool has(const std::string& key) const { return json_.contains(key); }

  // Checks "type" is one of `allowed` and returns it.
  std::string type(const std::vector<std::string>& allowed);
  std::string string(const std::string& key);
  std::string string_or(const std::string& key, const std::string& fallback);
  // A number in [low, high].
  double number_or(const std::string& key, double fallback, double low, double high);
  double number(const std::string& key, double low, double high);
  std::int64_t integer_or(const std::string& key, std::int64_t fallback, std::int64_t low, std::int64_t high);
  std::vector<std::string> strings_or(const std::string& key, std::vector<std::string> fallback);
  // A required non-empty array of integers in [low, high]; a bad element is named by its index.
  std::vector<std::int64_t> integers(const std::string& key, std::int64_t low, std::int64_t high);
  // One of `names`, returned as its index.
  std::size_t choice_or(const std::string& key, const std::vector<std::string>& names, std::size_t fallback);
  JsonReader object(const std::string& key);
  // The objects of an array, each with its indexed path.
  std::vector<JsonReader> objects(const std::string& key);
  // Rejects every key not read.
  void finish() const;

 private:
  [[noreturn]] void fail_at(const std::string& path, const std::string& expected, const std::string& got) const;
  const Json& value(const std::string& key);
  const Json& json_;
  std::string path_;
  std::string source_;
  std::set<std::string> used_;
};

}  // namespace nn
