#pragma once
// The table-driven check of the CUDA backend against the CPU, as ggml's test-backend-ops: a case
// names an op's operands with their values before the call, says how to call the op through a
// backend's op table (the same call for both backends) and, optionally, through its launcher in
// named variants (launch shapes, GEMM routes); check_op runs it on the CPU, the reference, then
// through the CUDA table's entry point and each variant, every run on fresh operands, and compares
// every operand the op writes with the reference's. Operands the op only reads must come back
// unchanged, and DeviceMatrix's padding catches writes past a row.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend_testing.h"
#include "nn/op_table.h"

namespace nn::test {

// How an op uses an operand. `written` starts as NaN on the device (a missed element shows) and
// as zeros on the CPU; `updated` (accumulated gradients, running statistics, in-place outputs)
// starts from its value on both.
enum class Access { read, updated, written };

template <class T>
struct Operand {
  Operand(std::string name_in, Access access_in, Tensor<T> value_in, std::optional<double> nmse_limit_in)
      : name(std::move(name_in)), access(access_in), value(std::move(value_in)), nmse_limit(nmse_limit_in) {}
  // Copies hold their own values (a case is written as a list of operands).
  Operand(const Operand& o) : name(o.name), access(o.access), value(copy_of<T>(o.value)), nmse_limit(o.nmse_limit) {}
  Operand(Operand&&) = default;

  std::string name;
  Access access;
  Tensor<T> value;                   // for a written operand only its shape counts
  std::optional<double> nmse_limit;  // this operand's, where it differs from the case's
};

template <class T>
Operand<T> read(std::string name, const Tensor<T>& value) {
  return {std::move(name), Access::read, copy_of<T>(value), std::nullopt};
}
template <class T>
Operand<T> updated(std::string name, const Tensor<T>& value, std::optional<double> nmse_limit = std::nullopt) {
  return {std::move(name), Access::updated, copy_of<T>(value), nmse_limit};
}
template <class T>
Operand<T> written(std::string name, Index rows, Index cols, std::optional<double> nmse_limit = std::nullopt) {
  return {std::move(name), Access::written, Tensor<T>(rows, cols), nmse_limit};
}

// One run's copies of a case's operands: host tensors for the CPU, DeviceMatrix on the device.
template <class T>
class Operands {
 public:
  Operands(const std::vector<Operand<T>>& operands, Device device) : operands_(operands), device_(device) {
    for (const Operand<T>& o : operands) {
      if (device == Device::cpu) {
        host_.push_back(copy_of<T>(o.value));
        if (o.access == Access::written) host_.back().fill(T(0));
      } else {
        device_values_.push_back(o.access == Access::written
                                     ? std::make_unique<DeviceMatrix<T>>(o.value.rows(), o.value.cols())
                                     : std::make_unique<DeviceMatrix<T>>(o.value.cview()));
      }
    }
  }

  View<T> operator[](std::string_view name) {
    const std::size_t k = index(name);
    return device_ == Device::cpu ? host_[k].view() : device_values_[k]->view();
  }
  // The launchers' raw operands (device runs only).
  T* data(std::string_view name) { return device_values_.at(index(name))->data(); }
  Index stride(std::string_view name) { return device_values_.at(index(name))->stride(); }

  // What an op returns (a loss), where it returns something: set by the case's call.
  std::optional<double> scalar;

  // Operand k's values after the run.
  Tensor<T> value(std::size_t k) const {
    return device_ == Device::cpu ? copy_of<T>(host_[k].cview()) : device_values_[k]->get();
  }

 private:
  std::size_t index(std::string_view name) const {
    for (std::size_t k = 0; k < operands_.size(); ++k)
      if (operands_[k].name == name) return k;
    ADD_FAILURE() << "no operand '" << name << "'";
    throw Error(str("no operand '", name, "'"));
  }

  const std::vector<Operand<T>>& operands_;
  Device device_;
  std::vector<Tensor<T>> host_;
  std::vector<std::unique_ptr<DeviceMatrix<T>>> device_values_;
};

// A way to run the op on the device besides its entry point; label ends the failure messages.
template <class T>
struct Variant {
  std::string label;
  std::function<void(Operands<T>&)> run;
};

template <class T>
struct OpCase {
  std::string op;     // names the op in messages and in the error log
  std::string where;  // the problem: sizes and anything else the case varies
  std::vector<Operand<T>> operands;
  double nmse_limit = 0.0;  // of each written or updated operand; 0 asks for identical values
  // The op through a backend's table, on the operands of one run.
  std::function<void(const OpTable<T>&, Operands<T>&)> call;
  std::string entry_label = " (entry point)";  // what the entry point's messages end with
  std::vector<Variant<T>> variants;
  bool run_entry_point = true;  // false: the variants alone (a check that counts what they launch)
  double scalar_limit = 0.0;    // relative error of a returned value (Operands::scalar)
};

// The label of a launch shape: " block (x, y) max_blocks n".
inline std::string shape_label(const cuda::LaunchShape& shape) {
  return " block (" + std::to_string(shape.block.x) + ", " + std::to_string(shape.block.y) + ") max_blocks " +
         std::to_string(shape.max_blocks);
}

// Variants that run `launch` with each shape (and the label's suffix, e.g. the GEMM route).
template <class T>
std::vector<Variant<T>> with_shapes(const std::vector<cuda::LaunchShape>& shapes,
                                    std::function<void(Operands<T>&, const cuda::LaunchShape&)> launch,
                                    const std::string& suffix = "") {
  std::vector<Variant<T>> variants;
  for (const cuda::LaunchShape& shape : shapes)
    variants.push_back({shape_label(shape) + suffix, [launch, shape](Operands<T>& o) { launch(o, shape); }});
  return variants;
}

template <class T>
void check_op(const OpCase<T>& c) {
  Operands<T> reference(c.operands, Device::cpu);
  c.call(cpu::op_table<T>(), reference);
  auto compare_run = [&](Operands<T>& run, const std::string& label) {
    const std::string where = c.where + label;
    ASSERT_EQ(run.scalar.has_value(), reference.scalar.has_value()) << c.op << " " << where << ": returned value";
    if (reference.scalar)
      expect_close_scalar(c.op, type_name<T>(), *run.scalar, *reference.scalar, c.scalar_limit, where);
    for (std::size_t k = 0; k < c.operands.size(); ++k) {
      const Operand<T>& o = c.operands[k];
      const Tensor<T> actual = run.value(k);
      if (o.access == Access::read)
        EXPECT_EQ(compare<T>(actual, o.value).max_error, 0.0) << c.op << " " << where << ": changed " << o.name;
      else
        expect_close<T>(c.op + " (" + o.name + ")", actual, reference.value(k), o.nmse_limit.value_or(c.nmse_limit),
                        where);
    }
  };
  if (c.run_entry_point) {
    Operands<T> device(c.operands, Device::cuda);
    c.call(cuda::op_table<T>(), device);
    compare_run(device, c.entry_label);
  }
  for (const Variant<T>& variant : c.variants) {
    Operands<T> device(c.operands, Device::cuda);
    variant.run(device);
    compare_run(device, variant.label);
  }
}

// The size part of a case's `where`: "(rows, cols)".
inline std::string describe(const Size& size) {
  return "(" + std::to_string(size.rows) + ", " + std::to_string(size.cols) + ")";
}

}  // namespace nn::test
