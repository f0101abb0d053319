#include "nn/version.h"

#include "backend.h"
#include "nn/error.h"
#if defined(STARNN_WITH_CUDA)
#include "cuda_backend.h"
#endif

#if !defined(STARNN_VERSION)
#error "STARNN_VERSION is set by libnn/CMakeLists.txt from the project's version"
#endif

namespace nn {

const char* version() { return STARNN_VERSION; }

std::vector<std::string> backend_descriptions() {
  std::vector<std::string> lines{str("cpu: ", cpu::backend_description())};
#if defined(STARNN_WITH_CUDA)
  lines.push_back(str("cuda: ", cuda::backend_description()));
#else
  lines.push_back("cuda: not built (configured with STARNN_CUDA=OFF or without the CUDA toolkit)");
#endif
  return lines;
}

}  // namespace nn
