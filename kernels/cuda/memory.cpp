// Device memory and transfers, on the backend's stream.
#include <cmath>

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

void use_device(int device) { detail::check(cudaSetDevice(device), str("cudaSetDevice(", device, ")").c_str()); }

std::string device_description() {
  int device = 0;
  detail::check(cudaGetDevice(&device), "cudaGetDevice");
  cudaDeviceProp p{};
  detail::check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  const double gib = double(p.totalGlobalMem) / double(1ull << 30);
  return str(p.name, " (device ", device, ", sm_", p.major, p.minor, ", ", p.multiProcessorCount, " SMs, ",
             std::lround(gib * 10) / 10.0, " GiB)");
}

std::string backend_description() {
#if defined(STARNN_CUDA_EMULATION)
  std::string built = "the host SIMT emulation of the tests";
#else
  // STARNN_CUDA_ARCHS: the architectures of the device code, comma-separated (kernels/CMakeLists.txt).
  std::string built = str("device code for sm_", STARNN_CUDA_ARCHS);
  const std::string separator = ", sm_";
  for (std::size_t at = built.find(','); at != std::string::npos; at = built.find(',', at + separator.size()))
    built.replace(at, 1, separator);
#endif
  const int count = device_count();
  if (count == 0) return str(built, "; the runtime finds no device");
  return str(built, "; ", count, count == 1 ? " device, " : " devices, the first ", device_description());
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

void copy_on_device(void* dst, const void* src, std::size_t bytes) {
  detail::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, detail::stream()), "copy on device");
}

void fill_bytes(void* device, unsigned char value, std::size_t bytes) {
  detail::check(cudaMemsetAsync(device, value, bytes, detail::stream()), "cudaMemsetAsync");
}

void synchronize() { detail::check(cudaStreamSynchronize(detail::stream()), "cudaStreamSynchronize"); }

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
