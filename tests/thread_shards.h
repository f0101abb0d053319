#pragma once
// The shards of a data-parallel batch (nn/shards.h) as threads of one process, for tests without
// MPI: each thread holds a ThreadShards over one ShardExchange, and they meet at its barrier,
// every shard summing the posted values in shard order, so all get the same bits. With a `turn` mutex the threads take
// turns on a device they share (the emulated GPU, one stream and one scratch buffer for the process): each holds it
// while it runs ops and lets go of it while it waits for the others.
#include <barrier>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "nn/shards.h"

namespace nn::test {

class ShardExchange {
 public:
  explicit ShardExchange(int count, std::mutex* turn = nullptr)
      : count_(count), turn_(turn), barrier_(count), slots_(std::size_t(count)) {}
  int count() const { return count_; }

  template <class T>
  void sum(int index, T* values, Index n) {
    meet(index, values, n, [&] {
      for (Index i = 0; i < n; ++i) {
        T total = T(slots_[0][std::size_t(i)]);
        for (int k = 1; k < count_; ++k) total += T(slots_[std::size_t(k)][std::size_t(i)]);
        values[i] = total;
      }
    });
  }

  template <class T>
  void gather_rows(int index, T* rows, Index batch_rows, Index cols) {
    const Index first = BatchShards::first_row(batch_rows, index, count_) * cols;
    const Index end = BatchShards::first_row(batch_rows, index + 1, count_) * cols;
    meet(index, rows + first, end - first, [&] {
      for (int k = 0; k < count_; ++k) {
        const Index from = BatchShards::first_row(batch_rows, k, count_) * cols;
        for (std::size_t i = 0; i < slots_[std::size_t(k)].size(); ++i)
          rows[from + Index(i)] = T(slots_[std::size_t(k)][i]);
      }
    });
  }

  // A shard whose thread failed leaves, so the others are not kept waiting for it.
  void leave() { barrier_.arrive_and_drop(); }

 private:
  // Shard `index` posts values[0 .. n) (exactly, as doubles), and once every shard has, `read`
  // takes what all posted; then every shard waits for all to have read.
  template <class T, class Read>
  void meet(int index, const T* values, Index n, Read&& read) {
    if (turn_) turn_->unlock();
    slots_[std::size_t(index)].assign(values, values + n);
    barrier_.arrive_and_wait();
    read();
    barrier_.arrive_and_wait();
    if (turn_) turn_->lock();
  }

  int count_;
  std::mutex* turn_;
  std::barrier<> barrier_;
  std::vector<std::vector<double>> slots_;
};

class ThreadShards final : public BatchShards {
 public:
  ThreadShards(ShardExchange& exchange, int index) : exchange_(exchange), index_(index) {}
  int count() const override { return exchange_.count(); }
  int index() const override { return index_; }
  void sum(float* values, Index n) const override { exchange_.sum(index_, values, n); }
  void sum(double* values, Index n) const override { exchange_.sum(index_, values, n); }
  void gather_rows(float* rows, Index batch_rows, Index cols) const override {
    exchange_.gather_rows(index_, rows, batch_rows, cols);
  }
  void gather_rows(double* rows, Index batch_rows, Index cols) const override {
    exchange_.gather_rows(index_, rows, batch_rows, cols);
  }

 private:
  ShardExchange& exchange_;
  int index_;
};

// body(shards) on `count` threads, shard k on thread k, each holding `turn` (if any) while it
// runs; the first exception any of them threw is rethrown once all have stopped.
inline void run_on_shards(int count, const std::function<void(const BatchShards&)>& body, std::mutex* turn = nullptr) {
  ShardExchange exchange(count, turn);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
  std::vector<std::thread> threads;
  for (int k = 0; k < count; ++k)
    threads.emplace_back([&, k] {
      std::unique_lock<std::mutex> hold;
      if (turn) hold = std::unique_lock<std::mutex>(*turn);
      try {
        body(ThreadShards(exchange, k));
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
