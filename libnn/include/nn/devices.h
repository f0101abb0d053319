#pragma once
// Which device a net runs on and in what precision its predictions' products run: what this
// build of starnn and this machine have, and the choice of a network file, a --device or a
// --precision option made concrete.
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
// As select_device, for process `local_rank` of those on one node (nn::Ranks::local_rank()): the
// GPU chosen is the node's device local_rank modulo their number, so that the ranks of a node
// take one GPU each. Called before the GPU does any work.
NN_API DeviceSelection select_device(DeviceChoice choice, int local_rank);

// The products of a prediction: fp32, or bf16 (the inputs of each product and its weights
// rounded to BF16, the sums in float, everything between the products in float; on the CPU, where
// it has AVX512_BF16 or AMX: kernels/cpu/bf16_products.h). Training is always fp32.
enum class Precision { fp32, bf16 };
NN_API const char* to_string(Precision precision);
// "fp32" or "bf16"; an nn::Error naming the value otherwise.
NN_API Precision parse_precision(const std::string& name);
// Empty where this process can predict in bf16, else why it cannot.
NN_API std::string bf16_unavailable();

// While one lives, the float forward products of the calling thread run in BF16, as under
// torch.autocast (Model::predict opens one for PredictOptions::precision bf16); backward products
// throw. An nn::Error saying why where BF16 cannot run. Weights are rounded once per scope and
// packed again only when their values change.
class NN_API Bf16Products {
 public:
  Bf16Products();
  ~Bf16Products();
  Bf16Products(const Bf16Products&) = delete;
  Bf16Products& operator=(const Bf16Products&) = delete;
};

}  // namespace nn
