// The model reader, and below it the safetensors reader: any bytes are a model or an nn::Error.
// A model that loads must predict finite-or-NaN values without crashing.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "nn/error.h"
#include "nn/io.h"
#include "nn/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path path = nn::fuzz::write_input("model.safetensors", data, size);
  try {
    nn::read_safetensors(path);
  } catch (const nn::Error&) {
    return 0;
  }
  try {
    nn::Model model = nn::Model::load(path);
    nn::Catalog stars("fuzz");
    for (const std::string& input : model.file().data.inputs) stars.add_column(input, {0.0, 1.0, -1.0});
    model.predict(stars);
  } catch (const nn::Error&) {
  }
  return 0;
}
