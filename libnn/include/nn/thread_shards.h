#pragma once
// The threads of one process as the shards of a batch (nn/shards.h): the trainer splits a
// training step among its OpenMP threads with them (each thread a shard that runs the net alone on
// its rows, as ranks do over MPI), and the tests run shards on threads without MPI.
//
// The shards meet at a barrier that spins briefly before it sleeps: a step meets there a few
// times a BatchNorm layer, with the threads a few microseconds apart, where waking a sleeping
// thread would cost tens of microseconds.
#include <atomic>
#include <vector>

#include "nn/export.h"
#include "nn/shards.h"

namespace nn {

// What `count` threads share to meet: each holds a ThreadShard over it, and every shard must make
// the same calls in the same order.
class NN_API ThreadExchange {
 public:
  explicit ThreadExchange(int count);
  int count() const { return count_; }

  // values[0 .. n) of every shard summed in shard order, written into every shard's values: each
  // shard adds up its share of the elements, so the sum runs on all threads at once.
  template <class T>
  void sum(int index, T* values, Index n);
  // Every shard's rows of a (batch_rows, cols) row-major array copied into every shard's `rows`.
  template <class T>
  void gather_rows(int index, T* rows, Index batch_rows, Index cols);
  // Waits until every shard has come here.
  void barrier();
  // Called by a shard that failed: every meeting from then on passes at once and leaves the
  // values as they are, so no thread waits for one that will not come, and the caller rethrows.
  void leave();

 private:
  int count_;
  std::vector<void*> posted_;  // each shard's array, between the two barriers of a meeting
  std::atomic<int> arrived_{0};
  std::atomic<unsigned> generation_{0};
  std::atomic<bool> failed_{false};
};

class NN_API ThreadShard final : public BatchShards {
 public:
  ThreadShard(ThreadExchange& exchange, int index) : exchange_(exchange), index_(index) {}
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
  ThreadExchange& exchange_;
  int index_;
};

}  // namespace nn
