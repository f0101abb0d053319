// Stream capture into a CUDA graph, and its replay.
#include <exception>

#include "check.h"
#include "context.h"
#include "cuda_backend.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

RecordedWork::~RecordedWork() { release(); }

void RecordedWork::release() noexcept {
  if (exec_ != nullptr) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_ != nullptr) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
  exec_ = graph_ = nullptr;
}

void RecordedWork::record(const std::function<void()>& work) {
  release();
  cudaStream_t stream = detail::stream();
  // Global mode: a call that is unsafe while capturing (cudaMalloc, a synchronisation) is an
  // error here rather than a graph that silently misses work.
  detail::check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal), "cudaStreamBeginCapture");
  cudaGraph_t graph = nullptr;
  try {
    work();
  } catch (...) {
    cudaStreamEndCapture(stream, &graph);  // closes the capture; the error that matters is the one in flight
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();
    throw;
  }
  const cudaError_t ended = cudaStreamEndCapture(stream, &graph);
  if (ended != cudaSuccess) {
    cudaGetLastError();
    throw Error(str("recording GPU work as a graph failed (", cudaGetErrorString(ended),
                    "): the work waited for the GPU or allocated memory while it was being recorded"));
  }
  graph_ = graph;
  cudaGraphExec_t exec = nullptr;
  detail::check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  exec_ = exec;
}

void RecordedWork::replay() const {
  if (exec_ == nullptr) throw Error("RecordedWork::replay: nothing was recorded");
  detail::check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), detail::stream()), "cudaGraphLaunch");
}

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
