#pragma once
// One writer per run folder: an advisory lock (flock) on DIR/.lock, held while a TrainingRun
// lives after it starts training. A second run into the same folder, in this process or
// another, fails at once instead of mixing its checkpoints with the first one's. The kernel
// drops the lock when the holder exits, however it exits, so a killed run leaves none behind.
#include <filesystem>

namespace nn {

class RunLock {
 public:
  // Throws nn::Error naming the folder when another writer holds it.
  explicit RunLock(const std::filesystem::path& folder);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace nn
