#include "nn/devices.h"

#include "products.h"

#if defined(STARNN_WITH_CUDA)
#include "cuda_backend.h"
#endif

namespace nn {

int cuda_device_count() {
#if defined(STARNN_WITH_CUDA)
  return cuda::device_count();
#else
  return 0;
#endif
}

DeviceSelection select_device(DeviceChoice choice) {
  // The CPU's float GEMM provider comes from STARNN_CPU_GEMM (kernels/cpu/products.h). Reading it
  // as the device is chosen stops a run with a bad value before it writes anything.
  cpu::float_gemm_provider();
  if (choice == DeviceChoice::cpu) return {Device::cpu, "cpu"};
#if defined(STARNN_WITH_CUDA)
  if (cuda_device_count() > 0) return {Device::cuda, str("cuda: ", cuda::device_description())};
  const std::string why = "the CUDA runtime finds no device";
#else
  const std::string why =
      "this build of starnn has no CUDA backend, configured with STARNN_CUDA=OFF or without the toolkit";
#endif
  if (choice == DeviceChoice::cuda) throw Error(str("device cuda: ", why));
  return {Device::cpu, str("cpu (auto: ", why, ")")};
}

}  // namespace nn
