// Atomic catalogue writes: the temporary lives in the target's directory because rename()
// is atomic only within one file system.
#include <random>

#include "catalog_format.h"

namespace nn::catalog_detail {
namespace {

std::string random_suffix() {
  std::random_device device;
  return str(std::hex, device(), device());
}

}  // namespace

TempFile::TempFile(std::filesystem::path target) : target_(std::move(target)) {
  std::filesystem::path directory = target_.parent_path();
  if (directory.empty()) directory = ".";
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw Error(
        str("cannot write '", target_.string(), "': directory '", directory.string(), "' does not exist"));
  }
  if (std::filesystem::is_directory(target_, error)) {
    throw Error(str("cannot write '", target_.string(), "': it is a directory"));
  }
  temp_ = directory / str(".", target_.filename().string(), ".tmp-", random_suffix());
}

TempFile::~TempFile() {
  if (committed_) return;
  std::error_code ignored;
  std::filesystem::remove(temp_, ignored);
}

void TempFile::commit() {
  std::error_code error;
  std::filesystem::rename(temp_, target_, error);
  if (error) throw Error(str("cannot write '", target_.string(), "': ", error.message()));
  committed_ = true;
}

}  // namespace nn::catalog_detail
