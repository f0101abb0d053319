#pragma once
// Module: the interface every layer, block and net implements, and the parameters they own.
//
// Parameters of a whole net live in one contiguous buffer (ParameterStore); gradients and
// the Adam moments in buffers of the same layout. A module holds Param slots that the store
// points into, so Adam is one fused pass and a checkpoint one copy.
//
// Conventions for every module:
//   forward(x) returns a view of the output, owned by the module and valid until the next
//   forward; backward(dy) must follow the forward it differentiates, returns dx (owned by
//   the module, OVERWRITTEN each call) and ACCUMULATES into parameter gradients, which the
//   caller zeroes once per step (ParameterStore::zero_grad).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nn/random.h"
#include "nn/tensor.h"

namespace nn {

// train: batch statistics and dropout drawn; eval: running statistics and no dropout; sample:
// running statistics with dropout drawn (an MC-dropout pass).
enum class Mode { train, eval, sample };

template <class T>
struct Param {
  View<T> value;  // bound by ParameterStore::bind
  View<T> grad;
  Index rows = 0;
  Index cols = 0;
  // A bias or a BatchNorm scale: stored as 1-D [cols] in model files, as PyTorch holds it.
  bool vector = false;
};

// What a module shows of itself to a visitor: parameters (trained) and buffers (state that
// is saved with the model but not trained, e.g. BatchNorm running statistics).
template <class T>
class ModuleVisitor {
 public:
  virtual ~ModuleVisitor() = default;
  virtual void parameter(const std::string& name, Param<T>& param) = 0;
  virtual void buffer(const std::string& name, Tensor<T>& buffer) = 0;
};

template <class T>
class Module {
 public:
  virtual ~Module() = default;
  virtual Index in_features() const = 0;
  virtual Index out_features() const = 0;
  // x is (B, in_features); returns (B, out_features).
  virtual ConstView<T> forward(ConstView<T> x, Mode mode) = 0;
  // dy is (B, out_features); returns dx (B, in_features).
  virtual ConstView<T> backward(ConstView<T> dy) = 0;
  // Visits parameters and buffers with names like PyTorch's state_dict ("enc.0.bn1.weight").
  virtual void visit(ModuleVisitor<T>& visitor, const std::string& prefix) = 0;
  // Draws fresh initial parameters (after binding).
  virtual void reset_parameters(Rng& rng) = 0;
};

// Joins a prefix and a name with a dot, as PyTorch names nested parameters.
NN_API std::string join_name(const std::string& prefix, const std::string& name);

// One contiguous buffer for all parameters of a module tree, one for their gradients.
template <class T>
class ParameterStore {
 public:
  struct Entry {
    std::string name;
    Param<T>* param;
    Index offset;
  };

  ParameterStore() = default;
  ParameterStore(const ParameterStore&) = delete;
  ParameterStore& operator=(const ParameterStore&) = delete;

  // Lays out every parameter of root in visiting order and points the Param slots into the
  // store's buffers. Gradients start at zero.
  void bind(Module<T>& root);
  void zero_grad();
  // Moves values and gradients to `device` and points the Param slots there.
  void move_to(Device device);
  Device device() const { return values_.device(); }

  Index size() const { return values_.size(); }
  View<T> values() { return values_.view(); }
  View<T> grads() { return grads_.view(); }
  ConstView<T> values() const { return values_.view(); }
  ConstView<T> grads() const { return grads_.view(); }
  const std::vector<Entry>& entries() const { return entries_; }
  // The entry called name, or an nn::Error naming it.
  const Entry& find(const std::string& name) const;

 private:
  void point_params();
  std::vector<Entry> entries_;
  Tensor<T> values_;  // (1, total)
  Tensor<T> grads_;   // (1, total)
};

extern template class NN_API ParameterStore<float>;
extern template class NN_API ParameterStore<double>;

}  // namespace nn
