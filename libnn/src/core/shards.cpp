// The split batch of the calling thread (nn/shards.h).
#include "nn/shards.h"

namespace nn {
namespace {
thread_local BatchSplit split;
}  // namespace

const BatchSplit& current_batch_split() { return split; }

ShardedBatch::ShardedBatch(const BatchShards& shards, Index batch_rows) : outer_(split) {
  split = {&shards, batch_rows, shards.first_row(batch_rows)};
}

ShardedBatch::~ShardedBatch() { split = outer_; }

}  // namespace nn
