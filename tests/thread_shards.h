#pragma once
// The shards of a data-parallel batch (nn/shards.h) as threads of one process, for tests without
// MPI: nn::ThreadShard (nn/thread_shards.h) on std::threads. With a `turn` mutex the threads take
// turns on a device they share (the emulated GPU, one stream and one scratch buffer for the
// process): each holds it while it runs ops and lets go of it while it meets the others.
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "nn/thread_shards.h"

namespace nn::test {

class TurnTakingShard final : public BatchShards {
 public:
  TurnTakingShard(ThreadExchange& exchange, int index, std::mutex* turn) : shard_(exchange, index), turn_(turn) {}
  int count() const override { return shard_.count(); }
  int index() const override { return shard_.index(); }
  void sum(float* values, Index n) const override {
    meet([&] { shard_.sum(values, n); });
  }
  void sum(double* values, Index n) const override {
    meet([&] { shard_.sum(values, n); });
  }
  void gather_rows(float* rows, Index batch_rows, Index cols) const override {
    meet([&] { shard_.gather_rows(rows, batch_rows, cols); });
  }
  void gather_rows(double* rows, Index batch_rows, Index cols) const override {
    meet([&] { shard_.gather_rows(rows, batch_rows, cols); });
  }

 private:
  template <class Meeting>
  void meet(Meeting&& meeting) const {
    if (turn_) turn_->unlock();
    meeting();
    if (turn_) turn_->lock();
  }
  ThreadShard shard_;
  std::mutex* turn_;
};

// body(shards) on `count` threads, shard k on thread k, each holding `turn` (if any) while it
// runs; the first exception any of them threw is rethrown once all have stopped.
inline void run_on_shards(int count, const std::function<void(const BatchShards&)>& body, std::mutex* turn = nullptr) {
  ThreadExchange exchange(count);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
  std::vector<std::thread> threads;
  for (int k = 0; k < count; ++k)
    threads.emplace_back([&, k] {
      std::unique_lock<std::mutex> hold;
      if (turn) hold = std::unique_lock<std::mutex>(*turn);
      try {
        body(TurnTakingShard(exchange, k, turn));
      } catch (...) {
        errors[std::size_t(k)] = std::current_exception();
        exchange.leave();
      }
    });
  for (std::thread& thread : threads) thread.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace nn::test
