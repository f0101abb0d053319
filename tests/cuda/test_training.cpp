// Fifty training steps of a small residual net, once with nn::cpu and once with nn::cuda, from
// the same initial parameters on the same batches. The step is one piece of code over a
// backend's op table, so both backends run the very same sequence: Linear stem, ResDense (BN, ReLU, Linear,
// BN, ReLU, Linear, skip), Linear head, masked weighted L1, backward, Adam(W).
//
// In double the losses agree within 1e-10 relative at every step. In float, within 1e-4 with
// Adam's eps at 1e-4. With eps at 1e-8 they drift apart (1e-3 by step 50) without either
// backend being wrong: the bias of the Linear that feeds BN2 has a true gradient of 0, so its
// float gradient is rounding noise, different on each backend, which Adam with a tiny eps turns
// into full steps of +-lr; float noise then grows through the ReLU kinks and the L1 signs.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "backend_testing.h"
#include "nn/op_table.h"

namespace nn::test {
namespace {

// A backend's own op table and the device its views live on.
template <class F>
struct Backend : OpTable<F> {
  Device device;
};

template <class F>
Backend<F> cpu_backend() {
  return {{cpu::op_table<F>()}, Device::cpu};
}

template <class F>
Backend<F> cuda_backend() {
  return {{cuda::op_table<F>()}, Device::cuda};
}

// Contiguous memory on one device, handed out as views.
template <class F>
class Arena {
  using V = View<F>;

 public:
  Arena(Device device, Index size)
      : device_(device), host_(device == Device::cpu ? std::size_t(size) : 0), size_(size) {
    if (device == Device::cuda) device_memory_.reset(cuda::allocate(sizeof(F) * std::size_t(size)));
  }
  V take(Index rows, Index cols) {
    V v(base() + used_, rows, cols, device_);
    used_ += rows * cols;
    EXPECT_LE(used_, size_);
    return v;
  }
  void upload(V v, const std::vector<F>& values) {
    if (device_ == Device::cpu)
      std::copy(values.begin(), values.end(), v.data);
    else
      cuda::copy_to_device(v.data, values.data(), sizeof(F) * values.size());
  }

 private:
  struct Release {
    void operator()(void* p) const { cuda::release(p); }
  };
  F* base() { return device_ == Device::cpu ? host_.data() : static_cast<F*>(device_memory_.get()); }
  Device device_;
  std::vector<F> host_;
  std::unique_ptr<void, Release> device_memory_;
  Index size_ = 0, used_ = 0;
};

constexpr Index kRows = 48, kInputs = 5, kWidth = 24, kTargets = 2, kSteps = 50;

// The net, its buffers and its training state on one backend.
template <class F>
class SmallNet {
  using CV = ConstView<F>;
  using V = View<F>;
  struct Linear {
    V w, b, dw, db;
  };
  struct Norm {
    V gamma, beta, dgamma, dbeta, running_mean, running_var, mean, invstd;
  };

 public:
  SmallNet(const Backend<F>& ops, Index parameters)
      : ops_(ops), params_(ops.device, 4 * parameters), work_(ops.device, 40 * kRows * kWidth) {
    values_ = params_.take(1, parameters);
    grads_ = params_.take(1, parameters);
    m_ = params_.take(1, parameters);
    v_ = params_.take(1, parameters);
    Index offset = 0;
    auto slice = [&](V whole, Index rows, Index cols) { return V(whole.data + offset, rows, cols, ops.device); };
    auto linear = [&](Index in, Index out) {
      Linear l{slice(values_, out, in), {}, slice(grads_, out, in), {}};
      offset += out * in;
      l.b = slice(values_, 1, out);
      l.db = slice(grads_, 1, out);
      offset += out;
      return l;
    };
    auto norm = [&](Index d) {
      Norm n{slice(values_, 1, d), {}, slice(grads_, 1, d), {}, work_.take(1, d), work_.take(1, d), work_.take(1, d),
             work_.take(1, d)};
      offset += d;
      n.beta = slice(values_, 1, d);
      n.dbeta = slice(grads_, 1, d);
      offset += d;
      return n;
    };
    stem_ = linear(kInputs, kWidth);
    bn1_ = norm(kWidth);
    l1_ = linear(kWidth, kWidth);
    bn2_ = norm(kWidth);
    l2_ = linear(kWidth, kWidth);
    head_ = linear(kWidth, kTargets);
    EXPECT_EQ(offset, parameters);
    for (V* a : {&h0_, &a1_, &r1_, &h1_, &a2_, &r2_, &h2_, &out_, &dout_, &dr2_, &dh1_, &dr1_, &dbranch_, &dh0_})
      *a = work_.take(kRows, kWidth);
    yhat_ = work_.take(kRows, kTargets);
    dyhat_ = work_.take(kRows, kTargets);
  }

  static Index parameter_count() {
    return (kInputs + 1) * kWidth + 2 * (kWidth + 1) * kWidth + 4 * kWidth + (kWidth + 1) * kTargets;
  }

  // Initial parameters, zero moments, fresh running statistics.
  void start(const std::vector<F>& initial) {
    params_.upload(values_, initial);
    ops_.fill(m_, F(0));
    ops_.fill(v_, F(0));
    for (Norm* n : {&bn1_, &bn2_}) {
      ops_.fill(n->running_mean, F(0));
      ops_.fill(n->running_var, F(1));
    }
  }

  // One step on a batch; returns the loss before the update.
  double step(CV x, CV y, CV s, CV mask, CV w, std::int64_t t, double eps) {
    const BatchNormOptions bn;
    ops_.linear_forward(x, stem_.w, stem_.b, h0_);
    ops_.batchnorm_forward_train(h0_, bn1_.gamma, bn1_.beta, bn, a1_, bn1_.mean, bn1_.invstd, bn1_.running_mean,
                                 bn1_.running_var);
    ops_.relu_forward(a1_, r1_);
    ops_.linear_forward(r1_, l1_.w, l1_.b, h1_);
    ops_.batchnorm_forward_train(h1_, bn2_.gamma, bn2_.beta, bn, a2_, bn2_.mean, bn2_.invstd, bn2_.running_mean,
                                 bn2_.running_var);
    ops_.relu_forward(a2_, r2_);
    ops_.linear_forward(r2_, l2_.w, l2_.b, h2_);
    ops_.add(h0_, h2_, out_);
    ops_.linear_forward(out_, head_.w, head_.b, yhat_);
    const double loss = ops_.weighted_l1_loss(yhat_, y, s, mask, w);

    ops_.weighted_l1_backward(yhat_, y, s, mask, w, dyhat_);
    ops_.fill(grads_, F(0));
    ops_.linear_backward(out_, head_.w, dyhat_, dout_, GradWrite::overwrite, head_.dw, head_.db);
    ops_.linear_backward(r2_, l2_.w, dout_, dr2_, GradWrite::overwrite, l2_.dw, l2_.db);
    ops_.relu_backward(r2_, dr2_, dr2_);
    ops_.batchnorm_backward(h1_, bn2_.mean, bn2_.invstd, bn2_.gamma, dr2_, dh1_, bn2_.dgamma, bn2_.dbeta);
    ops_.linear_backward(r1_, l1_.w, dh1_, dr1_, GradWrite::overwrite, l1_.dw, l1_.db);
    ops_.relu_backward(r1_, dr1_, dr1_);
    ops_.batchnorm_backward(h0_, bn1_.mean, bn1_.invstd, bn1_.gamma, dr1_, dbranch_, bn1_.dgamma, bn1_.dbeta);
    ops_.add(dbranch_, dout_, dh0_);  // the skip carries dout past the block
    ops_.linear_backward(x, stem_.w, dh0_, V(), GradWrite::overwrite, stem_.dw, stem_.db);
    ops_.adam_step(values_, grads_, m_, v_, AdamStep{.lr = 1e-3, .eps = eps, .weight_decay = 1e-4, .step = t});
    return loss;
  }

 private:
  const Backend<F>& ops_;
  Arena<F> params_, work_;
  V values_, grads_, m_, v_;
  Linear stem_, l1_, l2_, head_;
  Norm bn1_, bn2_;
  V h0_, a1_, r1_, h1_, a2_, r2_, h2_, out_, dout_, dr2_, dh1_, dr1_, dbranch_, dh0_, yhat_, dyhat_;
};

template <class T>
class CudaTraining : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};
TYPED_TEST_SUITE(CudaTraining, Types);

TYPED_TEST(CudaTraining, FiftyStepsMatchTheCpu) {
  using F = TypeParam;
  using CV = ConstView<F>;
  const double eps = limit<F>(1e-4, 1e-8), loss_limit = limit<F>(1e-4, 1e-10);
  Rng rng(81);
  const Index n = SmallNet<F>::parameter_count();
  std::vector<F> initial(static_cast<std::size_t>(n));
  for (F& p : initial) p = F(0.3 * rng.normal());
  // Three batches in turn; labels from a smooth function of the inputs, some missing.
  struct Batch {
    Tensor<F> x, y, s, mask;
  };
  std::vector<Batch> batches;
  for (int b = 0; b < 3; ++b) {
    Batch batch{random_matrix<F>(kRows, kInputs, rng), Tensor<F>(kRows, kTargets), Tensor<F>(kRows, kTargets),
                Tensor<F>(kRows, kTargets)};
    for (Index i = 0; i < kRows; ++i)
      for (Index t = 0; t < kTargets; ++t) {
        batch.y(i, t) = F(std::sin(batch.x(i, 0) + t) + 0.5 * batch.x(i, 1) * batch.x(i, 2 + t));
        batch.s(i, t) = F(0.5 + rng.uniform());
        batch.mask(i, t) = rng.uniform() < 0.15 ? F(0) : F(1);
      }
    batches.push_back(std::move(batch));
  }
  Tensor<F> weights(1, kTargets);
  weights(0, 0) = 1.0f;
  weights(0, 1) = 0.5f;

  const Backend<F> cpu_ops = cpu_backend<F>(), cuda_ops = cuda_backend<F>();
  SmallNet<F> on_cpu(cpu_ops, n), on_cuda(cuda_ops, n);
  on_cpu.start(initial);
  on_cuda.start(initial);
  std::vector<std::unique_ptr<DeviceMatrix<F>>> device_data;
  auto device_copy = [&](const Tensor<F>& t) {
    device_data.push_back(std::make_unique<DeviceMatrix<F>>(t.cview()));
    return CV(device_data.back()->view());
  };
  struct DeviceBatch {
    CV x, y, s, mask;
  };
  std::vector<DeviceBatch> device_batches;
  for (const Batch& b : batches)
    device_batches.push_back({device_copy(b.x), device_copy(b.y), device_copy(b.s), device_copy(b.mask)});
  const CV device_weights = device_copy(weights);

  double worst = 0.0, first = 0.0, last = 0.0;
  for (std::int64_t t = 1; t <= kSteps; ++t) {
    const Batch& b = batches[std::size_t(t % 3)];
    const DeviceBatch& d = device_batches[std::size_t(t % 3)];
    const double cpu_loss = on_cpu.step(b.x, b.y, b.s, b.mask, weights, t, eps);
    const double cuda_loss = on_cuda.step(d.x, d.y, d.s, d.mask, device_weights, t, eps);
    const double relative = std::abs(cuda_loss - cpu_loss) / std::abs(cpu_loss);
    worst = std::max(worst, relative);
    EXPECT_LE(relative, loss_limit) << "step " << t << ": cuda " << cuda_loss << ", cpu " << cpu_loss;
    if (t == 1) first = cpu_loss;
    last = cpu_loss;
  }
  std::cout << "[cuda vs cpu] 50 training steps (" << type_name<F>() << "): loss " << first << " -> " << last
            << ", worst relative difference " << worst << "\n";
  EXPECT_LT(last, 0.8 * first) << "the net should learn";
}

}  // namespace
}  // namespace nn::test
