#pragma once
// A batch split by rows among processes for data-parallel training: shard k of K holds rows
// [k B / K, (k + 1) B / K) of a batch of B rows and runs the ops on them alone. The ops whose
// result depends on the whole batch see the split through a ShardedBatch scope, as the float
// products see a Bf16Products one:
// - BatchNorm in training sums its per-column partial sums over the shards (BatchShards::sum)
//   between its passes, so its mean, variance and gradient sums are the whole batch's;
// - dropout hashes each element by its row in the whole batch, so the masks are the ones the
//   whole batch would draw.
// Everything else is per row. The trainer (nn/train.h) sums the gradients and gathers the
// outputs for the loss; nn::Ranks (nn/ranks.h) implements the shards over MPI, tests over threads.
#include <cstdint>

#include "nn/export.h"
#include "nn/tensor.h"

namespace nn {

class NN_API BatchShards {
 public:
  virtual ~BatchShards() = default;
  virtual int count() const = 0;  // K
  virtual int index() const = 0;  // k, in [0, K)
  // values[0 .. n) of every shard summed, in place, on every shard, to the same bits on every
  // shard (MPI fixes no order of the sum; implementations give every rank the same result, as
  // the standard advises, and the shards' parameters stay the same bits only because of that).
  // Host memory.
  virtual void sum(float* values, Index n) const = 0;
  virtual void sum(double* values, Index n) const = 0;
  // Every shard's rows of a (batch_rows, cols) row-major host array, written in place into the
  // whole of `rows` on every shard; shard k's own rows are already there.
  virtual void gather_rows(float* rows, Index batch_rows, Index cols) const = 0;
  virtual void gather_rows(double* rows, Index batch_rows, Index cols) const = 0;

  // Shard k's first row of a batch of batch_rows rows; first_row(batch_rows, count, count) is
  // the end.
  static Index first_row(Index batch_rows, int k, int count) { return Index(k) * batch_rows / count; }
  Index first_row(Index batch_rows) const { return first_row(batch_rows, index(), count()); }
  Index rows(Index batch_rows) const { return first_row(batch_rows, index() + 1, count()) - first_row(batch_rows); }
};

// The split batch the ops of the calling thread run on: the shards and the rows of the whole
// batch and of this shard, or nothing (shards == nullptr) for a whole batch.
struct BatchSplit {
  const BatchShards* shards = nullptr;
  Index batch_rows = 0;  // B
  Index first_row = 0;   // this shard's first row in the batch
};
NN_API const BatchSplit& current_batch_split();

// While one lives, the calling thread's ops run on shards.index()'s rows of a batch of
// batch_rows rows.
class NN_API ShardedBatch {
 public:
  ShardedBatch(const BatchShards& shards, Index batch_rows);
  ~ShardedBatch();
  ShardedBatch(const ShardedBatch&) = delete;
  ShardedBatch& operator=(const ShardedBatch&) = delete;

 private:
  BatchSplit outer_;
};

}  // namespace nn
