// Writes a model file with known contents to argv[1], for the test that opens it with an
// independent Python reader (tests/read_safetensors.py). The expected reader output lives
// in tests/safetensors_python_reader.cmake; change both together.
#include <cstdint>
#include <iostream>
#include <vector>

#include "nn/error.h"
#include "nn/io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_safetensors_sample FILE\n";
    return 2;
  }
  nn::SafetensorsFile file;
  file.metadata["network"] = R"({"format": "starnn-net/1", "model": {"type": "mlp", "widths": [64, 64]}})";
  file.metadata["targets"] = "teff,logg,feh";
  file.tensors.push_back(
      nn::make_tensor("dense.weight", {2, 3}, std::vector<float>{0.5F, -1.0F, 2.0F, 3.25F, 0.0F, 4.0F}));
  file.tensors.push_back(nn::make_tensor("dense.bias", {3}, std::vector<double>{0.125, -0.25, 2.5}));
  file.tensors.push_back(nn::make_tensor("epoch", {}, std::vector<std::int64_t>{42}));
  file.tensors.push_back(nn::make_tensor("unused", {0, 4}, std::vector<float>{}));
  file.tensors.push_back(nn::make_tensor("counts", {4}, std::vector<std::int64_t>{-3, 1099511627776, 1, 0}));
  try {
    nn::write_safetensors(argv[1], file);
  } catch (const nn::Error& e) {
    std::cerr << "write_safetensors_sample: " << e.message() << '\n';
    return 1;
  }
  return 0;
}
