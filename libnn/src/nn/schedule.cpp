#include "nn/schedule.h"

#include <cmath>
#include <numbers>

#include "nn/error.h"

namespace nn {
namespace {

// From start (pct = 0) to end (pct = 1) along half a cosine.
double cosine_anneal(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
}

class OneCycle final : public Schedule {
 public:
  explicit OneCycle(const OneCycleOptions& o) : o_(o) {
    if (o.total_steps < 2) throw Error(str("one_cycle: total_steps ", o.total_steps, " must be at least 2"));
    if (!(o.pct_start > 0.0 && o.pct_start < 1.0))
      throw Error(str("one_cycle: pct_start ", o.pct_start, " is outside (0, 1)"));
    if (!(o.max_lr > 0.0 && o.div > 0.0 && o.div_final > 0.0))
      throw Error("one_cycle: max_lr, div and div_final must be positive");
    // PyTorch's phase boundaries: the peak is at step pct_start * total - 1.
    peak_step_ = o.pct_start * double(o.total_steps) - 1.0;
    last_step_ = double(o.total_steps - 1);
    if (!(peak_step_ > 0.0 && peak_step_ < last_step_))
      throw Error(
          str("one_cycle: pct_start ", o.pct_start, " leaves no warm-up or no annealing in ", o.total_steps, " steps"));
  }

  ScheduleValue at(std::int64_t step) const override {
    const double initial_lr = o_.max_lr / o_.div, final_lr = initial_lr / o_.div_final;
    const double s = double(step);
    if (s <= peak_step_) {
      const double pct = s / peak_step_;
      return {cosine_anneal(initial_lr, o_.max_lr, pct), cosine_anneal(o_.beta1_max, o_.beta1_min, pct)};
    }
    const double pct = (s - peak_step_) / (last_step_ - peak_step_);
    return {cosine_anneal(o_.max_lr, final_lr, pct), cosine_anneal(o_.beta1_min, o_.beta1_max, pct)};
  }

 private:
  OneCycleOptions o_;
  double peak_step_ = 0.0, last_step_ = 0.0;
};

class Constant final : public Schedule {
 public:
  Constant(double lr, double beta1) : value_{lr, beta1} {}
  ScheduleValue at(std::int64_t) const override { return value_; }

 private:
  ScheduleValue value_;
};

class StepDecay final : public Schedule {
 public:
  explicit StepDecay(const StepOptions& o) : o_(o) {
    if (o.step_size < 1) throw Error(str("step schedule: step_size ", o.step_size, " must be at least 1"));
  }
  ScheduleValue at(std::int64_t step) const override {
    return {o_.lr * std::pow(o_.gamma, double(step / o_.step_size)), o_.beta1};
  }

 private:
  StepOptions o_;
};

}  // namespace

std::unique_ptr<Schedule> make_one_cycle(const OneCycleOptions& options) { return std::make_unique<OneCycle>(options); }
std::unique_ptr<Schedule> make_constant(double lr, double beta1) { return std::make_unique<Constant>(lr, beta1); }
std::unique_ptr<Schedule> make_step(const StepOptions& options) { return std::make_unique<StepDecay>(options); }

}  // namespace nn
