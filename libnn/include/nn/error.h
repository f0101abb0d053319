#pragma once
// nn::Error: the one exception type of the library. It carries the file:line where the
// problem was found and a message meant for the person who gave the input.
#include <source_location>
#include <sstream>
#include <stdexcept>
#include <string>

#include "nn/export.h"

namespace nn {

class NN_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::source_location where = std::source_location::current());
  // The message alone, without the source location (for user-facing output).
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

// Joins its arguments with operator<<: nn::str("width ", w, " is not positive").
template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace nn
