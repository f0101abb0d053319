#include "member_epochs.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

namespace nn {

std::vector<MemberEpoch> train_member_epochs(std::vector<std::unique_ptr<MemberTraining>>& members,
                                             const PreparedData& data, Index batches, std::uint64_t seed, Index epoch,
                                             EnsembleSchedule schedule, bool on_cpu, const EpochHooks& hooks) {
  const Index n_members = Index(members.size());
  std::vector<MemberEpoch> results(members.size());
  std::mutex hooks_mutex;  // the caller's hooks never run concurrently
  Index batches_done = 0;
  std::atomic<bool> stopped = false;
  EpochHooks member_hooks;
  member_hooks.stop_requested = [&] {
    if (stopped) return true;
    const std::lock_guard lock(hooks_mutex);
    if (hooks.stop_requested && hooks.stop_requested()) stopped = true;
    return bool(stopped);
  };
  member_hooks.batch_done = [&](Index, Index) {
    const std::lock_guard lock(hooks_mutex);
    ++batches_done;
    if (hooks.batch_done) hooks.batch_done(batches_done, n_members * batches);
  };
  const auto train_member = [&](Index m) {
    MemberTraining& member = *members[std::size_t(m)];
    Rng rng = Rng::derive(member_seed(seed, m), std::uint64_t(epoch));
    MemberEpoch& result = results[std::size_t(m)];
    result.train_loss = member.trainer.train_epoch(data.train, rng, member_hooks);
    if (result.train_loss)
      result.validation_loss = member.trainer.evaluate(data.validation);
    else
      stopped = true;  // also where the ranks agreed on a stop that another rank was asked for
  };

  const int lanes = schedule == EnsembleSchedule::side_by_side && on_cpu
                        ? int(std::min<Index>(n_members, Index(omp_get_max_threads())))
                        : 1;
  if (lanes <= 1) {
    for (Index m = 0; m < n_members && !stopped; ++m) train_member(m);
    return results;
  }
  // Each lane is a thread of its own that takes the next member in turn. On one OpenMP thread,
  // the backend's loops and OpenBLAS (whose OpenMP build follows omp_get_max_threads) run on it
  // alone and leave the process's thread counts as they were.
  std::atomic<Index> next = 0;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(lanes));
  std::vector<std::thread> threads;
  for (int lane = 0; lane < lanes; ++lane)
    threads.emplace_back([&, lane] {
      omp_set_num_threads(1);
      try {
        for (Index m = next++; m < n_members && !stopped; m = next++) train_member(m);
      } catch (...) {
        errors[std::size_t(lane)] = std::current_exception();
        stopped = true;
      }
    });
  for (std::thread& thread : threads) thread.join();
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);
  return results;
}

}  // namespace nn
