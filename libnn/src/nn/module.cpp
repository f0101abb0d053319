#include "nn/module.h"

namespace nn {

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

namespace {

// Collects the parameters of a module tree in visiting order.
template <class T>
class ParameterCollector : public ModuleVisitor<T> {
 public:
  std::vector<typename ParameterStore<T>::Entry> entries;
  Index total = 0;
  void parameter(const std::string& name, Param<T>& param) override {
    entries.push_back({name, &param, total});
    total += param.rows * param.cols;
  }
  void buffer(const std::string&, Tensor<T>&) override {}
};

}  // namespace

template <class T>
void ParameterStore<T>::bind(Module<T>& root) {
  ParameterCollector<T> collector;
  root.visit(collector, "");
  entries_ = std::move(collector.entries);
  values_.assign(1, collector.total, T(0));
  grads_.assign(1, collector.total, T(0));
  point_params();
}

template <class T>
void ParameterStore<T>::point_params() {
  for (const Entry& e : entries_) {
    Param<T>& p = *e.param;
    p.value = View<T>(values_.data() + e.offset, p.rows, p.cols, values_.device());
    p.grad = View<T>(grads_.data() + e.offset, p.rows, p.cols, grads_.device());
  }
}

template <class T>
void ParameterStore<T>::move_to(Device device) {
  values_.move_to(device);
  grads_.move_to(device);
  point_params();
}

template <class T>
void ParameterStore<T>::zero_grad() {
  grads_.fill(T(0));
}

template <class T>
const typename ParameterStore<T>::Entry& ParameterStore<T>::find(const std::string& name) const {
  for (const Entry& e : entries_)
    if (e.name == name) return e;
  throw Error(str("no parameter called '", name, "'"));
}

template class ParameterStore<float>;
template class ParameterStore<double>;

}  // namespace nn
