// Device memory and transfers, on the backend's stream.
#include "check.h"
#include "context.h"
#include "cuda_backend.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no device is an answer here, not an error for the next launch check
    return 0;
  }
  return count;
}

void* allocate(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  void* device = nullptr;
  detail::check(cudaMalloc(&device, bytes), str("cudaMalloc of ", bytes, " bytes").c_str());
  return device;
}

void release(void* device) noexcept {
  if (device != nullptr && cudaFree(device) != cudaSuccess) cudaGetLastError();
}

void copy_to_device(void* device, const void* host, std::size_t bytes) {
  detail::check(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, detail::stream()), "copy to device");
  synchronize();
}

void copy_to_host(void* host, const void* device, std::size_t bytes) {
  detail::check(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, detail::stream()), "copy to host");
  synchronize();
}

void fill_bytes(void* device, unsigned char value, std::size_t bytes) {
  detail::check(cudaMemsetAsync(device, value, bytes, detail::stream()), "cudaMemsetAsync");
}

void synchronize() { detail::check(cudaStreamSynchronize(detail::stream()), "cudaStreamSynchronize"); }

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
