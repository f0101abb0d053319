#pragma once
// Command-line arguments of a subcommand: positionals and --name value options, checked
// against what the subcommand accepts so that a typo is an error, not a silent default.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nn/model.h"
#include "nn/network_file.h"

namespace starnn {

class Arguments {
 public:
  // value_options take a value (--out DIR); flags do not (--quiet).
  Arguments(int argc, char** argv, int first, const std::set<std::string>& value_options,
            const std::set<std::string>& flags);
  const std::vector<std::string>& positionals() const { return positionals_; }
  // Throws unless exactly `count` positionals were given; usage says which.
  void expect_positionals(std::size_t count, const std::string& usage) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  long long integer(const std::string& name, long long fallback) const;
  // --device auto|cpu|cuda, or fallback when not given.
  nn::DeviceChoice device(nn::DeviceChoice fallback) const;
  // --mc-samples K (2 or more; 0, the default, for no MC dropout) as prediction options.
  nn::PredictOptions predict_options() const;

 private:
  std::vector<std::string> positionals_;
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
};

// The subcommands; each returns the process exit code.
int train_command(int argc, char** argv);
int predict_command(int argc, char** argv);
int evaluate_command(int argc, char** argv);
int convert_command(int argc, char** argv);
int show_command(int argc, char** argv);
int map_command(int argc, char** argv);

}  // namespace starnn
