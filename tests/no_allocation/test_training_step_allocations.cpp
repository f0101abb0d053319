// A training step reuses the buffers that the first step sized (nn/train.h promises it), so
// once a net has seen a batch size, further steps must not touch the heap: an allocation per
// step costs little on its own but stalls every OpenMP team and fragments a long run's memory.
//
// This binary replaces the global operator new/delete with counting versions. A replacement
// holds for the whole program, so it is an executable of its own rather than part of starnn_tests.
//
// One allocation is not starnn's to remove: oneDNN's dnnl_primitive_execute, which runs the float
// products (kernels/cpu/products.h), builds a small map of its arguments on every call. An
// allocation with libdnnl on its stack is counted apart and printed, not failed.
#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <omp.h>

#include "nn/train.h"

namespace {

constexpr int kStackFrames = 12;
constexpr long kRecorded = 8;

// One allocation made while counting: its size and the call stack that asked for it.
struct Allocation {
  std::size_t bytes = 0;
  int frames = 0;
  void* stack[kStackFrames] = {};
};

std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
std::atomic<long> onednn_allocations{0};
Allocation recorded[kRecorded];
// backtrace() may allocate the first time it runs; that must not count or recurse.
thread_local bool inside_hook = false;

// Whether a frame of the stack lies in oneDNN's library.
bool inside_onednn(void* const* stack, int frames) {
  for (int f = 0; f < frames; ++f) {
    Dl_info info{};
    if (dladdr(static_cast<const char*>(stack[f]) - 1, &info) && info.dli_fname &&
        std::strstr(info.dli_fname, "libdnnl"))
      return true;
  }
  return false;
}

void note_allocation(std::size_t bytes) {
  if (!counting.load(std::memory_order_relaxed) || inside_hook) return;
  inside_hook = true;
  Allocation allocation;
  allocation.bytes = bytes;
  allocation.frames = backtrace(allocation.stack, kStackFrames);
  if (inside_onednn(allocation.stack, allocation.frames)) {
    onednn_allocations.fetch_add(1);
  } else {
    const long k = allocations.fetch_add(1);
    if (k < kRecorded) recorded[k] = allocation;
  }
  inside_hook = false;
}

void* allocate(std::size_t bytes, std::size_t alignment) {
  note_allocation(bytes);
  const std::size_t size = bytes ? bytes : 1;
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t))
    p = std::malloc(size);
  else if (posix_memalign(&p, alignment, size) != 0)
    p = nullptr;
  if (!p) throw std::bad_alloc();
  return p;
}

void* allocate_nothrow(std::size_t bytes, std::size_t alignment) noexcept {
  try {
    return allocate(bytes, alignment);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n, 0); }
void* operator new[](std::size_t n) { return allocate(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, std::size_t(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, std::size_t(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate_nothrow(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate_nothrow(n, 0); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_nothrow(n, std::size_t(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_nothrow(n, std::size_t(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using nn::Index;

template <class Work>
long count_allocations(Work&& work) {
  allocations = 0;
  onednn_allocations = 0;
  counting = true;
  work();
  counting = false;
  return allocations.load();
}

// Names each library frame by its nearest exported symbol and its offset in the library, which
// `addr2line -e LIBRARY OFFSET` turns into file:line in a build with debug information. The
// stack runs from the counting operator new (this executable) through the libraries back into
// this executable's checks; only the library part is printed.
void print_recorded(long count) {
  Dl_info self{};
  dladdr(reinterpret_cast<const void*>(&note_allocation), &self);
  for (long k = 0; k < std::min(count, kRecorded); ++k) {
    std::printf("  allocation %ld: %zu bytes\n", k + 1, recorded[k].bytes);
    bool left_self = false;
    for (int f = 0; f < recorded[k].frames; ++f) {
      // A return address points past its call; step back into the calling instruction.
      const auto* where = static_cast<const char*>(recorded[k].stack[f]) - 1;
      Dl_info info{};
      if (!dladdr(where, &info) || !info.dli_fname) continue;
      if (info.dli_fbase == self.dli_fbase) {
        if (left_self) break;
        continue;
      }
      left_self = true;
      int status = 0;
      char* demangled = nullptr;
      if (info.dli_sname) demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
      const char* name = demangled ? demangled : info.dli_sname ? info.dli_sname : "?";
      const std::ptrdiff_t offset = where - static_cast<const char*>(info.dli_fbase);
      std::printf("    %s  [%s+0x%tx]\n", name, info.dli_fname, offset);
      std::free(demangled);
    }
  }
  if (count > kRecorded) std::printf("  (%ld more not shown)\n", count - kRecorded);
}

int passed = 0, failed = 0;

template <class Work>
void expect_no_allocations(const char* what, Work&& work) {
  const long count = count_allocations(work);
  if (count == 0) {
    ++passed;
    std::printf("PASS %s", what);
    if (onednn_allocations > 0) std::printf(" (and %ld inside oneDNN's execute)", onednn_allocations.load());
    std::printf("\n");
    return;
  }
  ++failed;
  std::printf("FAIL %s: %ld heap allocations\n", what, count);
  print_recorded(count);
}

constexpr Index kInputs = 8, kTargets = 3, kBatch = 64;

// Normalised-looking inputs with errors, labels with some missing, and a class label.
nn::Dataset<float> make_dataset(Index rows, nn::Rng& rng) {
  nn::Dataset<float> d;
  d.x.resize(rows, kInputs);
  d.x_error.resize(rows, kInputs);
  d.y.resize(rows, kTargets);
  d.scale.resize(rows, kTargets);
  d.mask.resize(rows, kTargets);
  d.error.resize(rows, kTargets);
  d.label.resize(rows, 1);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < kInputs; ++j) {
      d.x(i, j) = float(rng.normal());
      d.x_error(i, j) = float(rng.uniform(0.01, 0.1));
    }
    for (Index t = 0; t < kTargets; ++t) {
      const bool labelled = rng.uniform() > 0.2;
      d.y(i, t) = labelled ? float(rng.normal()) : 0.0F;
      d.scale(i, t) = float(rng.uniform(0.5, 2.0));
      d.mask(i, t) = labelled ? 1.0F : 0.0F;
      d.error(i, t) = float(rng.uniform(0.0, 0.2));
    }
    d.label(i, 0) = rng.uniform() > 0.5 ? 1.0F : 0.0F;
  }
  return d;
}

}  // namespace

int main() {
  nn::NetSpec spec;
  spec.n_inputs = kInputs;
  spec.backbone = {16, 64, 3, nn::BlockType::aresdense, nn::Skips::additive, 0.1};
  spec.heads = {nn::HeadType::causal, kTargets, nn::Classifier::binary};
  spec.seed = 11;
  nn::Net<float> net(spec);
  nn::NetLoss<float> loss({{1.0, 0.5, 2.0}, 0.8, {}}, true);
  nn::Adam<float> adam(net.parameters(), {0.999, 1e-8, 1e-4});
  const auto schedule = nn::make_one_cycle({1e-3, 200, 0.25, 25.0, 1e4, 0.95, 0.85});
  // A row count that leaves a short last batch, so the epoch also resizes down and back up.
  nn::Rng rng(5);
  const nn::Dataset<float> data = make_dataset(5 * kBatch - 20, rng);
  nn::Trainer<float> trainer(net, loss, adam, *schedule, {kBatch, nn::Augment::from_input_errors});

  trainer.train_epoch(data, rng);
  expect_no_allocations("three training epochs after a warm-up epoch", [&] {
    for (int epoch = 0; epoch < 3; ++epoch) trainer.train_epoch(data, rng);
  });

  // A step split among two threads (nn/train.h: a net without dropout, batches of 256 rows, two
  // shards of 128): the replicas, the threads' losses and outputs and their exchange are kept
  // from the warm-up epoch.
  {
    nn::NetSpec plain = spec;
    plain.backbone.dropout = 0.0;
    nn::Net<float> split_net(plain);
    nn::Adam<float> split_adam(split_net.parameters(), {0.999, 1e-8, 1e-4});
    const int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    const nn::Dataset<float> batches_of_256 = make_dataset(5 * 256 - 20, rng);
    nn::Trainer<float> split_trainer(split_net, loss, split_adam, *schedule, {256, nn::Augment::from_input_errors});
    split_trainer.train_epoch(batches_of_256, rng);
    expect_no_allocations("three epochs split among two threads after a warm-up epoch", [&] {
      for (int epoch = 0; epoch < 3; ++epoch) split_trainer.train_epoch(batches_of_256, rng);
    });
    omp_set_num_threads(threads);
  }

  // Uncertainty heads on the Gaussian likelihood, with the labels' errors.
  nn::NetSpec uncertain = spec;
  uncertain.heads.variance = true;
  nn::Net<float> uncertain_net(uncertain);
  nn::NetLoss<float> nll({{1.0, 0.5, 2.0}, 0.8, nn::Likelihood::gaussian}, true);
  nn::Adam<float> uncertain_adam(uncertain_net.parameters(), {0.999, 1e-8, 1e-4});
  nn::Trainer<float> uncertain_trainer(uncertain_net, nll, uncertain_adam, *schedule,
                                       {kBatch, nn::Augment::from_input_errors});
  uncertain_trainer.train_epoch(data, rng);
  expect_no_allocations("three epochs of uncertainty heads after a warm-up epoch", [&] {
    for (int epoch = 0; epoch < 3; ++epoch) uncertain_trainer.train_epoch(data, rng);
  });

  // The same step by hand, one phase at a time, so a failure says which phase allocates.
  const nn::Dataset<float> batch = make_dataset(kBatch, rng);
  const nn::Targets<float> targets{batch.y.view(), batch.scale.view(), batch.mask.view(), batch.label.view(), {}};
  nn::ConstView<float> out;
  expect_no_allocations("zero_grad", [&] { net.parameters().zero_grad(); });
  expect_no_allocations("net forward (train)", [&] { out = net.forward(batch.x.view(), nn::Mode::train); });
  expect_no_allocations("loss value and gradient", [&] { loss.value_and_gradient(out, targets); });
  expect_no_allocations("net backward", [&] { net.backward(loss.gradient()); });
  expect_no_allocations("adam step", [&] {
    const nn::ScheduleValue s = schedule->at(adam.steps());
    adam.step(s.lr, s.beta1);
  });

  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
