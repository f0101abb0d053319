#pragma once
// One epoch of every member of an ensemble: one after another on every thread, or side by side,
// one member per core on one thread each (nn::EnsembleSchedule). Each member draws its own
// shuffle from its seed, so the schedule changes only which thread does the work.
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nn/data.h"
#include "nn/loss.h"
#include "nn/network_file.h"
#include "nn/optim.h"
#include "nn/train.h"

namespace nn {

// One member's loss, optimiser and trainer over its net in the run's model. Trainer holds the
// others by reference: a MemberTraining never moves.
struct MemberTraining {
  NetLoss<float> loss;
  Adam<float> adam;
  Trainer<float> trainer;
  MemberTraining(NetLoss<float> loss_in, Net<float>& net, const AdamOptions& adam_options, const Schedule& schedule,
                 const TrainOptions& options)
      : loss(std::move(loss_in)), adam(net.parameters(), adam_options), trainer(net, loss, adam, schedule, options) {}
};

// A member's epoch: its mean training loss (nothing when a stop was requested) and its
// validation loss.
struct MemberEpoch {
  std::optional<double> train_loss;
  double validation_loss = 0.0;
};

// The hooks are called one at a time, whichever thread a member runs on: stop_requested before
// every batch of every member, batch_done(done, total) with the batches all members have done
// this epoch (of `batches` each). An exception in a member's epoch is rethrown here once every
// member has stopped.
std::vector<MemberEpoch> train_member_epochs(std::vector<std::unique_ptr<MemberTraining>>& members,
                                             const PreparedData& data, Index batches, std::uint64_t seed, Index epoch,
                                             EnsembleSchedule schedule, bool on_cpu, const EpochHooks& hooks);

}  // namespace nn
