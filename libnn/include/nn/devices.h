#pragma once
// Which device a net runs on: what this build of starnn has, and the choice of a network file
// or a --device option made concrete.
#include <string>

#include "nn/tensor.h"

namespace nn {

// Where a net should run, as a network file's "device" or a --device option says.
enum class DeviceChoice { auto_select, cpu, cuda };

// GPUs the CUDA backend can use: 0 in a build without it, or where the runtime finds none.
NN_API int cuda_device_count();

struct DeviceSelection {
  Device device = Device::cpu;
  std::string description;  // e.g. "cuda: NVIDIA H100 ... (device 0, sm_90, ...)" or "cpu (auto: no CUDA device found)"
};

// cpu is always the CPU; cuda the GPU, or an nn::Error saying why there is none; auto the GPU
// where there is one, the CPU otherwise, saying why.
NN_API DeviceSelection select_device(DeviceChoice choice);

}  // namespace nn
