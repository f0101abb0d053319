#include "cli.h"

#include "nn/error.h"

namespace starnn {

Arguments::Arguments(int argc, char** argv, int first, const std::set<std::string>& value_options,
                     const std::set<std::string>& flags) {
  for (int k = first; k < argc; ++k) {
    const std::string arg = argv[k];
    if (arg.rfind("--", 0) != 0) {
      positionals_.push_back(arg);
      continue;
    }
    const std::string name = arg.substr(2);
    if (flags.count(name)) {
      flags_.insert(name);
    } else if (value_options.count(name)) {
      if (k + 1 >= argc) throw nn::Error(nn::str("option ", arg, " needs a value"));
      values_[name] = argv[++k];
    } else {
      throw nn::Error(nn::str("unknown option ", arg));
    }
  }
}

void Arguments::expect_positionals(std::size_t count, const std::string& usage) const {
  if (positionals_.size() == count) return;
  if (count == 0) throw nn::Error(nn::str("unexpected argument '", positionals_[0], "' (usage: ", usage, ")"));
  throw nn::Error(nn::str("expected ", count, " argument", count == 1 ? "" : "s", ", got ", positionals_.size(),
                          " (usage: ", usage, ")"));
}

std::optional<std::string> Arguments::get(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::string Arguments::require(const std::string& name) const {
  const auto value = get(name);
  if (!value) throw nn::Error(nn::str("option --", name, " is required"));
  return *value;
}

long long Arguments::integer(const std::string& name, long long fallback) const {
  const auto value = get(name);
  if (!value) return fallback;
  try {
    std::size_t used = 0;
    const long long x = std::stoll(*value, &used);
    if (used == value->size()) return x;
  } catch (const std::exception&) {
  }
  throw nn::Error(nn::str("option --", name, ": '", *value, "' is not an integer"));
}

nn::DeviceChoice Arguments::device(nn::DeviceChoice fallback) const {
  const auto value = get("device");
  return value ? nn::parse_device_choice(*value, "--device") : fallback;
}

nn::PredictOptions Arguments::predict_options() const {
  nn::PredictOptions options;
  options.mc_samples = integer("mc-samples", 0);
  options.precision = nn::parse_precision(get("precision").value_or("fp32"));
  if (options.mc_samples < 0 || options.mc_samples == 1)
    throw nn::Error(nn::str("--mc-samples ", options.mc_samples, ": expected 2 or more passes (0: no MC dropout)"));
  return options;
}

}  // namespace starnn
