#pragma once
// What this build of starnn is: its version, and the backends it has as they find this machine
// (`starnn --version` prints both).
#include <string>
#include <vector>

#include "nn/export.h"

namespace nn {

// The library's version, "major.minor.patch".
NN_API const char* version();

// One line per backend: "cpu: ..." (its BLAS and which build of its own loops this CPU runs),
// "cuda: ..." (the architectures built for and the devices found, or why there is none).
NN_API std::vector<std::string> backend_descriptions();

}  // namespace nn
