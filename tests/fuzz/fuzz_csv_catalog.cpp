// The CSV reader: any bytes are a catalogue or an nn::Error naming the file, line and column;
// whole-file and chunked reading agree.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz_input.h"
#include "nn/catalog.h"
#include "nn/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = nn::fuzz::write_input("catalog.csv", data, size);
  nn::Catalog whole;
  try {
    whole = nn::read_catalog(path);
  } catch (const nn::Error&) {
    return 0;
  }
  try {
    nn::CatalogReader reader(path);
    nn::Catalog chunk;
    nn::Index rows = 0;
    while (reader.next(7, chunk)) rows += chunk.rows();
    if (rows != whole.rows()) __builtin_trap();
  } catch (const nn::Error&) {
    __builtin_trap();  // the whole file read, so its chunks must too
  }
  return 0;
}
