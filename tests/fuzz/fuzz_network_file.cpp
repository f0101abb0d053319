// The network-file parser: any text is a NetworkFile or an nn::Error naming the JSON path.
#include <cstddef>
#include <cstdint>
#include <string>

#include "nn/error.h"
#include "nn/network_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const nn::NetworkFile file = nn::parse_network_file(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    // What parses must print and parse back to the same file.
    const std::string once = nn::to_json(file);
    if (nn::to_json(nn::parse_network_file(once, "printed")) != once) __builtin_trap();
  } catch (const nn::Error&) {
  }
  return 0;
}
