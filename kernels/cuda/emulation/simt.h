#pragma once
// SIMT on the host: the kernel bodies of kernels/*.cuh compile unchanged with nvcc for the GPU
// and with a plain C++20 compiler for tests on machines without one.
//
// Under nvcc this header maps its two macros onto CUDA and does nothing else. In emulation
// builds (STARNN_CUDA_EMULATION) a launch runs the blocks of its grid one after another, and
// the threads of a block are real threads: __syncthreads is a barrier, and ThreadSanitizer sees
// the data race that a missing barrier leaves. __shared__ variables are function statics, which
// is correct because blocks never overlap and one launch runs at a time (a global lock).
//
// Rules for kernel source: launch with SIMT_LAUNCH, take dynamic shared memory with
// SIMT_DYNAMIC_SHARED, call warp shuffles from every live lane of the warp with the full mask;
// no inline PTX, atomics, CUB or cooperative groups. __fmul_rn and __dmul_rn (a product that
// nvcc never contracts into an fma) are the plain product here, as on the CPU.
//
// What emulation proves and what not: see kernels/README.md.

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#define SIMT_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  (kernel)<<<(grid), (block), (shared_bytes), (stream)>>>(__VA_ARGS__)
#define SIMT_DYNAMIC_SHARED(T, name)                                    \
  extern __shared__ __align__(16) unsigned char simt_dynamic_shared_[]; \
  T* name = reinterpret_cast<T*>(simt_dynamic_shared_)

#elif defined(STARNN_CUDA_EMULATION)

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

// The keywords first: the toolkit's headers are never included in emulation builds.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct uint3 {
  unsigned x, y, z;
};

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}  // NOLINT
};

using cudaStream_t = struct CUstream_st*;

// The runtime's status codes that emulation can produce, with the toolkit's values.
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorLaunchFailure = 719,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
};

inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};
constexpr int warpSize = 32;

namespace simt {

// The limits a launch is checked against, those of every GPU the project builds for.
inline constexpr unsigned kMaxThreadsPerBlock = 1024;
inline constexpr unsigned kMaxBlockDimZ = 64;
inline constexpr unsigned kMaxGridDimYZ = 65535;
inline constexpr std::size_t kMaxDynamicShared = 48 * 1024;  // without an opt-in attribute

namespace detail {

// What the threads of one launch share.
struct Launch {
  unsigned threads = 0;
  std::optional<std::barrier<>> block_barrier;
  std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
  // Two slots per thread, used in turn: warp shuffles exchange values here.
  std::vector<std::uint64_t> lane_slots[2];
  std::vector<unsigned char> dynamic_shared;
  std::atomic<bool> faulted{false};  // a kernel broke a rule the GPU would not forgive

  // Fresh barriers, and dynamic shared memory poisoned with 0xFF bytes (NaN floats, -1
  // integers) as a GPU leaves it uninitialised. Runs while every thread waits between blocks.
  void start_block() {
    std::fill(dynamic_shared.begin(), dynamic_shared.end(), 0xFF);
    block_barrier.emplace(static_cast<std::ptrdiff_t>(threads));
    for (unsigned w = 0; w < warp_barriers.size(); ++w)
      warp_barriers[w] = std::make_unique<std::barrier<>>(static_cast<std::ptrdiff_t>(warp_lanes_of(w)));
  }
  unsigned warp_lanes_of(unsigned warp) const { return std::min(32u, threads - 32u * warp); }
};

// An open stream capture (cudaStreamBeginCapture): work queued on the stream is recorded here
// instead of run, and runs when the graph made of it is launched. Emulation has one stream.
struct Capture {
  std::vector<std::function<void()>> work;
  bool invalidated = false;  // the host waited for the stream, which a capture cannot record
};
inline Capture* capture = nullptr;
// Queues work: recorded while a capture is open, run at once otherwise.
inline void enqueue(std::function<void()> work) {
  if (capture != nullptr)
    capture->work.push_back(std::move(work));
  else
    work();
}

inline std::mutex launch_lock;  // one launch at a time: __shared__ statics are shared
inline thread_local Launch* current = nullptr;
inline thread_local unsigned rank = 0;                     // linear thread index in the block, as CUDA numbers warps
inline thread_local unsigned exchanges = 0;                // warp shuffles this thread has made in this block
inline thread_local cudaError_t last_error = cudaSuccess;  // per host thread, as the runtime's

inline unsigned lane() { return rank & 31u; }
inline unsigned warp_lanes() { return current->warp_lanes_of(rank >> 5); }
inline unsigned live_mask() { return warp_lanes() == 32 ? 0xffffffffu : (1u << warp_lanes()) - 1u; }
inline void warp_barrier() { current->warp_barriers[rank >> 5]->arrive_and_wait(); }

// Every live lane publishes v, then reads the value of lane `source`. A lane past the end of a
// partial warp reads a NaN pattern: undefined on the GPU, so it must show up in tests. One
// barrier per shuffle: consecutive shuffles use the two slot sets in turn, and a lane can only
// publish into a set again after the next shuffle's barrier, which every lane passes after
// reading this one.
template <class T>
T exchange(T v, unsigned mask, unsigned source) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "warp shuffles move at most 8 bytes");
  if ((mask & live_mask()) != live_mask()) current->faulted = true;
  std::vector<std::uint64_t>& slots = current->lane_slots[exchanges++ & 1u];
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  slots[rank] = bits;
  warp_barrier();  // every lane has published
  bits = source < warp_lanes() ? slots[(rank & ~31u) + source] : 0xFFF8DEADFFF8DEADull;
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

// The threads that play a block's threads, kept between launches: making and joining up to
// 1024 threads per launch would cost more than most emulated kernels. Thread t of every launch
// is pool thread t, released by its own semaphore, so a launch wakes only the threads it uses.
class Pool {
 public:
  Pool() = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    stopping_ = true;
    for (auto& worker : workers_) worker->wake.release();
    for (auto& worker : workers_) worker->thread.join();
  }

  // Calls body(t) on pool thread t for t < threads and returns when all are done.
  void run(unsigned threads, const std::function<void(unsigned)>& body) {
    while (workers_.size() < threads) {
      auto worker = std::make_unique<Worker>();
      worker->thread = std::thread(&Pool::work, this, worker.get(), unsigned(workers_.size()));
      workers_.push_back(std::move(worker));
    }
    std::latch done(threads);
    body_ = &body;
    done_ = &done;
    for (unsigned t = 0; t < threads; ++t) workers_[t]->wake.release();
    done.wait();
  }

 private:
  struct Worker {
    std::binary_semaphore wake{0};
    std::thread thread;
  };

  void work(Worker* self, unsigned index) {
    for (;;) {
      self->wake.acquire();  // also makes body_ and done_ of this launch visible
      if (stopping_) return;
      (*body_)(index);
      done_->count_down();
    }
  }

  std::vector<std::unique_ptr<Worker>> workers_;
  const std::function<void(unsigned)>* body_ = nullptr;
  std::latch* done_ = nullptr;
  std::atomic<bool> stopping_{false};
};

inline Pool& pool() {
  static Pool instance;
  return instance;
}

inline bool valid(dim3 grid, dim3 block, std::size_t shared_bytes) {
  const std::uint64_t threads = std::uint64_t(block.x) * block.y * block.z;
  return threads >= 1 && threads <= kMaxThreadsPerBlock && block.z <= kMaxBlockDimZ && grid.x >= 1 && grid.y >= 1 &&
         grid.z >= 1 && grid.y <= kMaxGridDimYZ && grid.z <= kMaxGridDimYZ && shared_bytes <= kMaxDynamicShared;
}

}  // namespace detail

namespace detail {

template <class... Params>
void run(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
         const std::tuple<std::decay_t<Params>...>& params) {
  std::lock_guard<std::mutex> hold(detail::launch_lock);
  detail::Launch launch;
  launch.threads = block.x * block.y * block.z;
  launch.warp_barriers.resize((launch.threads + 31) / 32);
  for (auto& slots : launch.lane_slots) slots.assign(launch.threads, 0);
  launch.dynamic_shared.assign(shared_bytes, 0);
  launch.start_block();
  auto next_block = [&launch]() noexcept { launch.start_block(); };
  std::barrier block_end(static_cast<std::ptrdiff_t>(launch.threads), next_block);
  const unsigned blocks = grid.x * grid.y * grid.z;
  detail::pool().run(launch.threads, [&](unsigned t) {
    detail::current = &launch;
    detail::rank = t;
    threadIdx = uint3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
    blockDim = block;
    gridDim = grid;
    for (unsigned b = 0; b < blocks; ++b) {
      blockIdx = uint3{b % grid.x, (b / grid.x) % grid.y, b / (grid.x * grid.y)};
      detail::exchanges = 0;  // lanes that returned early in the last block made fewer
      std::apply(kernel, params);
      // A finished thread no longer holds back the barriers of the others, as on a GPU where
      // an early return leaves __syncthreads to the rest of the block.
      launch.block_barrier->arrive_and_drop();
      launch.warp_barriers[t >> 5]->arrive_and_drop();
      block_end.arrive_and_wait();  // nobody starts block b + 1 while b still runs
    }
  });
  if (launch.faulted) detail::last_error = cudaErrorLaunchFailure;
}

}  // namespace detail

// Runs kernel over grid x block, or records it in an open capture. A bad configuration
// launches nothing and leaves cudaErrorInvalidConfiguration for cudaGetLastError, as the
// runtime does.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, cudaStream_t, Args&&... args) {
  if (!detail::valid(grid, block, shared_bytes)) {
    detail::last_error = cudaErrorInvalidConfiguration;
    return;
  }
  // Arguments convert to the parameter types once, as cudaLaunchKernel copies them.
  std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  detail::enqueue([=] { detail::run(kernel, grid, block, shared_bytes, params); });
}

}  // namespace simt

#define SIMT_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  ::simt::launch((kernel), dim3(grid), dim3(block), (shared_bytes), (stream)__VA_OPT__(, ) __VA_ARGS__)
// std::vector storage is aligned for any fundamental type, as __align__(16) asks on the GPU.
#define SIMT_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::simt::detail::current->dynamic_shared.data())

inline void __syncthreads() { simt::detail::current->block_barrier->arrive_and_wait(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  if ((mask & simt::detail::live_mask()) != simt::detail::live_mask()) simt::detail::current->faulted = true;
  simt::detail::warp_barrier();
}

template <class T>
T __shfl_sync(unsigned mask, T v, int source, int width = warpSize) {
  const unsigned base = simt::detail::lane() & ~unsigned(width - 1);
  return simt::detail::exchange(v, mask, base + (unsigned(source) & unsigned(width - 1)));
}

template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  // A source outside the lane's own group of `width` lanes reads the lane itself, as on a GPU.
  const unsigned lane = simt::detail::lane(), end = (lane & ~unsigned(width - 1)) + unsigned(width);
  const unsigned source = lane ^ unsigned(lane_mask);
  return simt::detail::exchange(v, mask, source < end ? source : lane);
}

inline float __fmul_rn(float a, float b) { return a * b; }
inline double __dmul_rn(double a, double b) { return a * b; }

#else
#error "kernels/cuda/emulation/simt.h: compile with nvcc, or define STARNN_CUDA_EMULATION for the host emulation"
#endif
