#pragma once
// The part of the CUDA runtime that the backend calls, for emulation builds: device memory is
// host memory, a stream runs its work at once (so synchronising is a no-op), and errors are
// reported as the runtime reports them, through return codes and cudaGetLastError. The names
// live in namespace simt and are brought into scope by using-declarations, so a program that
// also links the real runtime (the tests link libstarnn) sees no clash of symbols.
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <vector>

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
  if (simt::detail::capture != nullptr) {  // unsafe while capturing (global mode), as on a GPU
    simt::detail::capture->invalidated = true;
    return cudaErrorStreamCaptureUnsupported;
  }
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
  if (bytes > 0) simt::detail::enqueue([=] { std::memmove(dst, src, bytes); });
  return cudaSuccess;
}

inline cudaError_t cudaMemsetAsync(void* dst, int value, std::size_t bytes, cudaStream_t) {
  if (bytes > 0 && dst == nullptr) return cudaErrorInvalidValue;
  if (bytes > 0) simt::detail::enqueue([=] { std::memset(dst, value, bytes); });
  return cudaSuccess;
}

inline cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  *stream = nullptr;  // every emulated stream is the one host thread that launches
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
// Waiting for a stream that is being captured is an error that also ends the capture's
// usefulness, as on a GPU: the work the host would wait for has not run.
inline cudaError_t cudaStreamSynchronize(cudaStream_t) {
  if (simt::detail::capture == nullptr) return cudaSuccess;
  simt::detail::capture->invalidated = true;
  return cudaErrorStreamCaptureUnsupported;
}

// Graphs: a capture's recorded work, and its instantiation, which the emulation runs in order.
struct Graph {
  std::vector<std::function<void()>> work;
};
using cudaGraph_t = Graph*;
using cudaGraphExec_t = Graph*;

enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
};

inline cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) {
  if (simt::detail::capture != nullptr) return cudaErrorInvalidValue;
  simt::detail::capture = new simt::detail::Capture;
  return cudaSuccess;
}

inline cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t* graph) {
  std::unique_ptr<simt::detail::Capture> capture(simt::detail::capture);
  simt::detail::capture = nullptr;
  *graph = nullptr;
  if (!capture) return cudaErrorInvalidValue;
  if (capture->invalidated) return cudaErrorStreamCaptureInvalidated;
  *graph = new Graph{std::move(capture->work)};
  return cudaSuccess;
}

inline cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long = 0) {
  if (graph == nullptr) return cudaErrorInvalidValue;
  *exec = new Graph(*graph);
  return cudaSuccess;
}

inline cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
  if (exec == nullptr) return cudaErrorInvalidValue;
  for (const auto& work : exec->work) simt::detail::enqueue(work);
  return cudaSuccess;
}

inline cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
inline cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

inline cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

inline cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

// The emulation is one device.
inline cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidValue; }

// The fields of the runtime's device properties that the backend reads.
struct cudaDeviceProp {
  char name[256] = "host SIMT emulation";
  std::size_t totalGlobalMem = 0;
  int major = 0;
  int minor = 0;
  int multiProcessorCount = 1;
};

inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int) {
  *properties = cudaDeviceProp{};
  return cudaSuccess;
}

inline cudaError_t cudaGetLastError() {
  const cudaError_t error = simt::detail::last_error;
  simt::detail::last_error = cudaSuccess;
  return error;
}

inline const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    case cudaErrorStreamCaptureUnsupported:
      return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated:
      return "operation failed due to a previous error during capture";
  }
  return "unrecognized error code";
}

}  // namespace simt::runtime

using simt::runtime::cudaDeviceProp;
using simt::runtime::cudaFree;
using simt::runtime::cudaGetDevice;
using simt::runtime::cudaGetDeviceCount;
using simt::runtime::cudaGetDeviceProperties;
using simt::runtime::cudaGetErrorString;
using simt::runtime::cudaGetLastError;
using simt::runtime::cudaGraph_t;
using simt::runtime::cudaGraphDestroy;
using simt::runtime::cudaGraphExec_t;
using simt::runtime::cudaGraphExecDestroy;
using simt::runtime::cudaGraphInstantiate;
using simt::runtime::cudaGraphLaunch;
using simt::runtime::cudaMalloc;
using simt::runtime::cudaMemcpyAsync;
using simt::runtime::cudaMemsetAsync;
using simt::runtime::cudaSetDevice;
using simt::runtime::cudaStreamBeginCapture;
using simt::runtime::cudaStreamCaptureMode;
using simt::runtime::cudaStreamCaptureModeGlobal;
using simt::runtime::cudaStreamCaptureModeRelaxed;
using simt::runtime::cudaStreamCaptureModeThreadLocal;
using simt::runtime::cudaStreamCreate;
using simt::runtime::cudaStreamDestroy;
using simt::runtime::cudaStreamEndCapture;
using simt::runtime::cudaStreamSynchronize;
