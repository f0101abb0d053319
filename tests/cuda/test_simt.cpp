// The host emulation itself (kernels/cuda/emulation/simt.h, simt_runtime.h): that it runs CUDA kernels with
// CUDA's semantics, and reports what a GPU would report. Emulation builds only.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

#include "check.h"
#include "reduce.cuh"
#include "simt.h"

namespace nn::test {
namespace {

__global__ void shuffle_probe(int* out, int width) {
  // out is (3, blockDim.x): xor 5, broadcast of lane 9, xor 1 within `width` lanes.
  const int lane = int(threadIdx.x);
  out[lane] = __shfl_xor_sync(0xffffffffu, lane, 5, width);
  out[blockDim.x + lane] = __shfl_sync(0xffffffffu, lane, 9, width);
  out[2 * blockDim.x + lane] = __shfl_xor_sync(0xffffffffu, lane, 1, width);
}

TEST(SimtEmulation, ShufflesFollowCuda) {
  for (const int width : {32, 16, 8}) {
    std::vector<int> out(3 * 64, -1);
    SIMT_LAUNCH(shuffle_probe, 1, 64, 0, nullptr, out.data(), width);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    for (int t = 0; t < 64; ++t) {
      const int warp_base = t & ~31, lane = t & 31, group = lane & ~(width - 1);
      const int x5 = lane ^ 5;
      // A source outside the lane's group of `width` returns the lane's own value.
      EXPECT_EQ(out[t], x5 < group + width ? warp_base + x5 : t) << "width " << width << ", thread " << t;
      EXPECT_EQ(out[64 + t], warp_base + group + 9 % width) << "width " << width << ", thread " << t;
      EXPECT_EQ(out[128 + t], warp_base + (lane ^ 1)) << "width " << width << ", thread " << t;
    }
  }
}

__global__ void warp_reductions(const float* in, float* sums, float* maxima) {
  const float v = in[threadIdx.x];
  sums[threadIdx.x] = cuda::warp_sum(v);
  maxima[threadIdx.x] = cuda::warp_max(v);
}

TEST(SimtEmulation, WarpReductionsAndPartialWarps) {
  // 40 threads: a full warp, then one of 8 lanes whose butterfly reads lanes that do not exist.
  std::vector<float> in(40), sums(40), maxima(40);
  for (int t = 0; t < 40; ++t) in[t] = float((t * 7) % 11) - 3.0f;
  SIMT_LAUNCH(warp_reductions, 1, 40, 0, nullptr, in.data(), sums.data(), maxima.data());
  float sum = 0, top = in[0];
  for (int t = 0; t < 32; ++t) {
    sum += in[t];
    top = std::max(top, in[t]);
  }
  for (int t = 0; t < 32; ++t) {
    EXPECT_EQ(sums[t], sum);
    EXPECT_EQ(maxima[t], top);
  }
  for (int t = 32; t < 40; ++t) EXPECT_TRUE(std::isnan(sums[t])) << "a partial warp must not look reduced";
}

__global__ void tile_sums(const double* in, double* out, int rows) {
  // in is (rows, blockDim.x), out (1, blockDim.x): the column sums of one tile.
  SIMT_DYNAMIC_SHARED(double, buffer);
  double v = 0;
  for (int i = int(threadIdx.y); i < rows; i += int(blockDim.y)) v += in[i * blockDim.x + threadIdx.x];
  v = cuda::column_tile_sum(v, buffer);
  if (threadIdx.y == blockDim.y - 1) out[threadIdx.x] = v;  // every stripe holds the total
}

TEST(SimtEmulation, ColumnTileSumForAnyHeight) {
  for (const unsigned width : {1u, 3u, 32u})
    for (const unsigned height : {1u, 2u, 5u, 7u, 16u, 31u}) {
      const int rows = 45;
      std::vector<double> in(std::size_t(rows) * width), out(width, -1.0), expected(width, 0.0);
      for (std::size_t k = 0; k < in.size(); ++k) in[k] = double(k % 13) + 0.25;
      for (int i = 0; i < rows; ++i)
        for (unsigned j = 0; j < width; ++j) expected[j] += in[i * width + j];
      SIMT_LAUNCH(tile_sums, 1, dim3(width, height), sizeof(double) * width * height, nullptr, in.data(), out.data(),
                  rows);
      ASSERT_EQ(cudaGetLastError(), cudaSuccess);
      for (unsigned j = 0; j < width; ++j) EXPECT_EQ(out[j], expected[j]) << width << " x " << height;
    }
}

__global__ void early_return(const int* in, int* out, int live) {
  // Threads past `live` leave at once; the rest still meet at their barriers.
  __shared__ int staged[64];
  if (int(threadIdx.x) >= live) return;
  staged[threadIdx.x] = in[blockIdx.x * live + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * live + threadIdx.x] = staged[(threadIdx.x + 1) % unsigned(live)];
}

TEST(SimtEmulation, ReturnedThreadsLeaveBarriersToTheOthers) {
  const int live = 10, blocks = 3;
  std::vector<int> in(live * blocks), out(live * blocks, -1);
  for (int k = 0; k < live * blocks; ++k) in[k] = k;
  SIMT_LAUNCH(early_return, blocks, 64, 0, nullptr, in.data(), out.data(), live);
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < live; ++t) EXPECT_EQ(out[b * live + t], b * live + (t + 1) % live);
}

__global__ void read_dynamic_shared(std::uint32_t* seen) {
  // Reads before writing: the pattern a fresh block finds, then dirties it for the next block.
  SIMT_DYNAMIC_SHARED(std::uint32_t, scratch);
  seen[blockIdx.x * blockDim.x + threadIdx.x] = scratch[threadIdx.x];
  __syncthreads();
  scratch[threadIdx.x] = 0;
}

TEST(SimtEmulation, DynamicSharedMemoryStartsPoisoned) {
  std::vector<std::uint32_t> seen(4 * 8, 0);
  SIMT_LAUNCH(read_dynamic_shared, 4, 8, 8 * sizeof(std::uint32_t), nullptr, seen.data());
  for (const std::uint32_t v : seen) EXPECT_EQ(v, 0xFFFFFFFFu);
}

__global__ void wrong_mask(float* out) { out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, 1.0f, 1); }

TEST(SimtEmulation, ReportsWhatAGpuReports) {
  std::vector<float> out(32);
  // Too many threads, a grid too tall, too much shared memory: nothing runs, the launch check says why.
  for (const auto& [grid, block, shared] :
       {std::tuple{dim3(1), dim3(1025), std::size_t(0)}, std::tuple{dim3(1, 70000), dim3(32), std::size_t(0)},
        std::tuple{dim3(1), dim3(32), std::size_t(64 * 1024)}}) {
    out[0] = 0;
    SIMT_LAUNCH(wrong_mask, grid, block, shared, nullptr, out.data());
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_THROW(cuda::detail::check_launch("wrong_mask"), Error);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the error is reported once";
  }
  // A shuffle whose mask leaves out live lanes: undefined on a GPU, a launch failure here.
  SIMT_LAUNCH(wrong_mask, 1, 32, 0, nullptr, out.data());
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
}

TEST(SimtEmulation, DeviceMemoryIsPoisoned) {
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 16), cudaSuccess);
  float first;
  std::memcpy(&first, p, sizeof(float));
  EXPECT_TRUE(std::isnan(first)) << "fresh device memory reads as NaN, as an output never written would";
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 256, 0u) << "cudaMalloc aligns to 256 bytes";
  EXPECT_EQ(cudaFree(p), cudaSuccess);
}

}  // namespace
}  // namespace nn::test
