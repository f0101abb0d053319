#include "nn/devices.h"

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
