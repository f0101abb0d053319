#include "nn/devices.h"

#include "bf16_products.h"
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

DeviceSelection select_device(DeviceChoice choice, int local_rank) {
#if defined(STARNN_WITH_CUDA)
  if (const int count = cuda_device_count(); choice != DeviceChoice::cpu && count > 0)
    cuda::use_device(local_rank % count);
#endif
  return select_device(choice);
}

const char* to_string(Precision precision) { return precision == Precision::bf16 ? "bf16" : "fp32"; }

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::fp32;
  if (name == "bf16") return Precision::bf16;
  throw Error(str("precision '", name, "': expected fp32 or bf16"));
}

std::string bf16_unavailable() { return cpu::bf16_unavailable(); }

Bf16Products::Bf16Products() { cpu::enter_bf16_products(); }
Bf16Products::~Bf16Products() { cpu::leave_bf16_products(); }

}  // namespace nn
