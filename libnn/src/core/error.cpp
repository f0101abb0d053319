#include "nn/error.h"

#include <filesystem>

namespace nn {
namespace {

std::string located(const std::string& message, const std::source_location& where) {
  return str(std::filesystem::path(where.file_name()).filename().string(), ":", where.line(), ": ", message);
}

}  // namespace

Error::Error(const std::string& message, std::source_location where)
    : std::runtime_error(located(message, where)), message_(message) {}

}  // namespace nn
