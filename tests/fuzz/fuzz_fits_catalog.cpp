// The FITS reader (over CFITSIO): any bytes are a catalogue or an nn::Error naming the file.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "nn/catalog.h"
#include "nn/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = nn::fuzz::write_input("catalog.fits", data, size);
  try {
    const nn::Catalog catalog = nn::read_catalog(path);
    nn::CatalogReader reader(path);
    nn::Catalog chunk;
    while (reader.next(5, chunk)) {
    }
  } catch (const nn::Error&) {
  }
  return 0;
}
