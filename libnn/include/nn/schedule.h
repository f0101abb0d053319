#pragma once
// Learning-rate (and Adam beta1) schedules, queried by step number 0, 1, ..., total - 1.
//   one_cycle  Smith (2018), exactly PyTorch's OneCycleLR with cosine annealing: lr rises from
//              max_lr/div to max_lr over the first pct_start of the steps, then falls to
//              max_lr/(div div_final); beta1 moves max -> min -> max inversely
//   constant   lr and beta1 fixed
//   step       lr multiplied by gamma every step_size steps
#include <cstdint>
#include <memory>

#include "nn/export.h"

namespace nn {

struct ScheduleValue {
  double lr;
  double beta1;
};

class NN_API Schedule {
 public:
  virtual ~Schedule() = default;
  virtual ScheduleValue at(std::int64_t step) const = 0;
};

struct OneCycleOptions {
  double max_lr = 1e-2;
  std::int64_t total_steps = 1;
  double pct_start = 0.25;
  double div = 25.0;
  double div_final = 1e4;
  double beta1_max = 0.95;
  double beta1_min = 0.85;
};

struct StepOptions {
  double lr = 1e-3;
  std::int64_t step_size = 1;
  double gamma = 0.1;
  double beta1 = 0.9;
};

NN_API std::unique_ptr<Schedule> make_one_cycle(const OneCycleOptions& options);
NN_API std::unique_ptr<Schedule> make_constant(double lr, double beta1 = 0.9);
NN_API std::unique_ptr<Schedule> make_step(const StepOptions& options);

}  // namespace nn
