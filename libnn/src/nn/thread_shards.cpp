#include "nn/thread_shards.h"

#include <algorithm>

#include "nn/error.h"

namespace nn {

namespace {
// About 50 microseconds of pause instructions before a waiting thread sleeps.
constexpr int kSpins = 4096;

// Tells the core that this is a spin-wait loop (less power, the other hyperthread runs).
inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

ThreadExchange::ThreadExchange(int count) : count_(count), posted_(std::size_t(std::max(count, 0))) {
  if (count < 1) throw Error(str("thread shards: ", count, " threads"));
}

void ThreadExchange::barrier() {
  if (failed_.load(std::memory_order_acquire)) return;
  const unsigned generation = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
    arrived_.store(0, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    return;
  }
  for (int spin = 0; generation_.load(std::memory_order_acquire) == generation; ++spin) {
    if (failed_.load(std::memory_order_acquire)) return;
    if (spin < kSpins)
      pause();
    else
      generation_.wait(generation, std::memory_order_acquire);
  }
}

void ThreadExchange::leave() {
  failed_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
}

template <class T>
void ThreadExchange::sum(int index, T* values, Index n) {
  posted_[std::size_t(index)] = values;
  barrier();
  if (failed_.load(std::memory_order_acquire)) return;
  // This shard's share of the elements: added up into shard 0's array (((v0 + v1) + v2) ...,
  // shard after shard, in loops the compiler vectorises), then copied into the others'.
  const Index first = BatchShards::first_row(n, index, count_), last = BatchShards::first_row(n, index + 1, count_);
  T* const total = static_cast<T*>(posted_[0]);
  for (int k = 1; k < count_; ++k) {
    const T* const theirs = static_cast<const T*>(posted_[std::size_t(k)]);
#pragma omp simd
    for (Index i = first; i < last; ++i) total[i] += theirs[i];
  }
  for (int k = 1; k < count_; ++k)
    std::copy(total + first, total + last, static_cast<T*>(posted_[std::size_t(k)]) + first);
  barrier();
}

template <class T>
void ThreadExchange::gather_rows(int index, T* rows, Index batch_rows, Index cols) {
  posted_[std::size_t(index)] = rows;
  barrier();
  if (failed_.load(std::memory_order_acquire)) return;
  for (int k = 0; k < count_; ++k) {
    if (k == index) continue;
    const Index from = BatchShards::first_row(batch_rows, k, count_) * cols;
    const Index to = BatchShards::first_row(batch_rows, k + 1, count_) * cols;
    const T* theirs = static_cast<const T*>(posted_[std::size_t(k)]);
    std::copy(theirs + from, theirs + to, rows + from);
  }
  barrier();
}

template NN_API void ThreadExchange::sum(int, float*, Index);
template NN_API void ThreadExchange::sum(int, double*, Index);
template NN_API void ThreadExchange::gather_rows(int, float*, Index, Index);
template NN_API void ThreadExchange::gather_rows(int, double*, Index, Index);

}  // namespace nn
