#pragma once
// What every fuzz target shares: the readers take paths, so each input is written to a file in a
// private scratch folder first (in memory where /dev/shm exists), under the extension that picks
// the reader. nn::Error is the readers' answer to bad input; anything else escaping (another
// exception, a crash, a sanitizer report) is a bug the fuzzer reports.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace nn::fuzz {

inline std::filesystem::path scratch_file(const std::string& name) {
  static const std::filesystem::path folder = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = (base / "starnn-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return std::filesystem::path(pattern);
  }();
  return folder / name;
}

// The input as the file `name` in the scratch folder.
inline std::filesystem::path write_input(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = scratch_file(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

}  // namespace nn::fuzz
