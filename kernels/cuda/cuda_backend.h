#pragma once
// nn::cuda, the CUDA backend: its op table (the ops of nn/ops.h, whose meaning is documented
// there), device memory, and the precision of the GEMMs.
//
// Each op checks that its views live on the GPU, launches on the backend's stream and checks
// the launch; shapes are nn::ops' to check. Ops return once their work is queued, except the
// losses, which wait for their result. Symbols live in the inline namespace of flavour.h.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "flavour.h"
#include "nn/op_table.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

// The CUDA backend's table: every slot filled (op_table.cpp, from the fill_*_ops of each family's
// .cu file).
template <class T>
NN_API const OpTable<T>& op_table();

template <class T>
void fill_adam_ops(OpTable<T>& table);
template <class T>
void fill_attention_ops(OpTable<T>& table);
template <class T>
void fill_batchnorm_ops(OpTable<T>& table);
template <class T>
void fill_elementwise_ops(OpTable<T>& table);
template <class T>
void fill_fused_block_ops(OpTable<T>& table);
template <class T>
void fill_linear_ops(OpTable<T>& table);
template <class T>
void fill_loss_ops(OpTable<T>& table);

// The backend as this build and machine have it, in words (nn/version.h): the architectures
// built for and the devices found.
NN_API std::string backend_description();

// Devices the runtime can use; 0, not an error, where it finds none or no driver.
NN_API int device_count();
// The device the backend runs on, in words: "NVIDIA H100 80GB HBM3 (device 0, sm_90, 132 SMs,
// 79.1 GiB)".
NN_API std::string device_description();

// Makes `device` (0 .. device_count() - 1) the one this thread's work goes to; called before any
// other work, since the backend's stream and handles belong to the device that was current then.
NN_API void use_device(int device);

// Device memory. allocate(0) is nullptr; release(nullptr) does nothing.
NN_API void* allocate(std::size_t bytes);
NN_API void release(void* device) noexcept;
// Both wait until the copy is done, so the host buffer may be reused at once.
NN_API void copy_to_device(void* device, const void* host, std::size_t bytes);
NN_API void copy_to_host(void* host, const void* device, std::size_t bytes);
// Queued on the stream like a kernel.
NN_API void copy_on_device(void* dst, const void* src, std::size_t bytes);
NN_API void fill_bytes(void* device, unsigned char value, std::size_t bytes);
// Waits for all work queued on the backend's stream.
NN_API void synchronize();

// Work queued on the backend's stream, recorded once as a CUDA graph and replayed with one
// launch: a training step of a small net is ~100 short kernels whose launch cost exceeds their
// run time. What is recorded must not wait for the GPU (no loss values, no copies to the host)
// nor allocate; every replay runs the same kernels on the same memory with the same arguments.
class NN_API RecordedWork {
 public:
  RecordedWork() = default;
  RecordedWork(const RecordedWork&) = delete;
  RecordedWork& operator=(const RecordedWork&) = delete;
  ~RecordedWork();
  // Records what `work` queues on the stream instead of running it. An nn::Error if `work`
  // waited for the GPU; the previous recording is then gone.
  void record(const std::function<void()>& work);
  // Queues the recorded work on the stream again.
  void replay() const;
  bool recorded() const { return exec_ != nullptr; }

 private:
  void release() noexcept;
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

// TF32 rounds the float inputs of the tensor-core GEMMs to 10 mantissa bits (relative error
// about 5e-4 per product): much faster on sm_80+, so opt-in. Double GEMMs ignore it.
enum class GemmMath { fp32, tf32 };
NN_API void set_gemm_math(GemmMath math);
NN_API GemmMath gemm_math();

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
