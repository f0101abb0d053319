#pragma once
// The part of the CUDA runtime that the backend calls, for emulation builds: device memory is
// host memory, a stream runs its work at once (so synchronising is a no-op), and errors are
// reported as the runtime reports them, through return codes and cudaGetLastError. The names
// live in namespace simt and are brought into scope by using-declarations, so a program that
// also links the real runtime (the tests link libstarnn) sees no clash of symbols.
#include <cstddef>
#include <cstring>
#include <new>

#include "simt.h"

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

namespace simt::runtime {

// cudaMalloc aligns to 256 bytes; new memory holds 0xFF bytes, so an op that reads an output
// it should only write sees NaN.
inline constexpr std::align_val_t kAllocationAlignment{256};

inline cudaError_t cudaMalloc(void** pointer, std::size_t bytes) {
  if (pointer == nullptr) return cudaErrorInvalidValue;
  *pointer = ::operator new(bytes == 0 ? 1 : bytes, kAllocationAlignment, std::nothrow);
  if (*pointer == nullptr) return cudaErrorMemoryAllocation;
  std::memset(*pointer, 0xFF, bytes);
  return cudaSuccess;
}

inline cudaError_t cudaFree(void* pointer) {
  ::operator delete(pointer, kAllocationAlignment);
  return cudaSuccess;
}

inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind, cudaStream_t) {
  if (bytes > 0 && (dst == nullptr || src == nullptr)) return cudaErrorInvalidValue;
  if (bytes > 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

inline cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t) {
  if (bytes > 0 && dst == nullptr) return cudaErrorInvalidValue;
  if (bytes > 0) std::memset(dst, value, bytes);
  return cudaSuccess;
}

inline cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = nullptr;  // every emulated stream is the one host thread that launches
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

inline cudaError_t cudaGetLastError() {
  const cudaError_t error = simt::detail::last_error;
  simt::detail::last_error = cudaSuccess;
  return error;
}

inline const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unrecognized error code";
}

}  // namespace simt::runtime

using simt::runtime::cudaFree;
using simt::runtime::cudaGetDeviceCount;
using simt::runtime::cudaGetErrorString;
using simt::runtime::cudaGetLastError;
using simt::runtime::cudaMalloc;
using simt::runtime::cudaMemcpyAsync;
using simt::runtime::cudaMemsetAsync;
using simt::runtime::cudaStreamCreate;
using simt::runtime::cudaStreamDestroy;
using simt::runtime::cudaStreamSynchronize;
