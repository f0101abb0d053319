// libstarnn with its GPU backend: tensors in device memory, and nn::ops dispatching views of it
// to nn::cuda. GPU builds only; skips where the runtime finds no device.
#include "backend_testing.h"
#include "nn/ops.h"

namespace nn::test {
namespace {

class CudaDispatch : public ::testing::Test {
 protected:
  void SetUp() override { NN_REQUIRE_CUDA_DEVICE(); }
};

template <class T>
Tensor<T> to_host(const Tensor<T>& device) {
  Tensor<T> host(device.rows(), device.cols());
  cuda::copy_to_host(host.data(), device.data(), sizeof(T) * std::size_t(device.size()));
  return host;
}

template <class T>
Tensor<T> to_device(const Tensor<T>& host) {
  Tensor<T> device(host.rows(), host.cols(), Device::cuda);
  cuda::copy_to_device(device.data(), host.data(), sizeof(T) * std::size_t(host.size()));
  return device;
}

TEST_F(CudaDispatch, TensorsLiveInDeviceMemory) {
  Tensor<float> values(3, 5, Device::cuda);
  values.fill(2.5f);
  for (Index k = 0; k < 15; ++k) EXPECT_EQ(to_host(values).data()[k], 2.5f);
  values.resize(40, 7);  // grows: a new allocation, freed by the backend that made it
  values.fill(-1.0f);
  EXPECT_EQ(to_host(values)(39, 6), -1.0f);
  Tensor<std::uint8_t> flags(2, 3, Device::cuda);
  flags.fill(7);
  EXPECT_EQ(to_host(flags)(1, 2), 7);
}

TEST_F(CudaDispatch, OpsRunWhereTheirArgumentsLive) {
  Rng rng(71);
  const Tensor<float> x = random_matrix<float>(33, 20, rng), w = random_matrix<float>(9, 20, rng, 0.3);
  const Tensor<float> b = random_matrix<float>(1, 9, rng);
  Tensor<float> y(33, 9), a(33, 9), out(33, 9);
  ops::linear_forward<float>(x, w, b, y);
  ops::relu_forward<float>(y, y);
  ops::attention_forward<float>(y, y, ConstView<float>(), a, out);

  const Tensor<float> x_d = to_device(x), w_d = to_device(w), b_d = to_device(b);
  Tensor<float> y_d(33, 9, Device::cuda), a_d(33, 9, Device::cuda), out_d(33, 9, Device::cuda);
  ops::linear_forward<float>(x_d, w_d, b_d, y_d);
  ops::relu_forward<float>(y_d, y_d);
  ops::attention_forward<float>(y_d, y_d, ConstView<float>(), a_d, out_d);
  expect_close<float>("nn::ops on the GPU", to_host(out_d), out, 1e-10, "(33, 20) -> 9");

  Tensor<float> t(33, 1), z = random_matrix<float>(33, 1, rng);
  t.fill(1.0f);
  EXPECT_NEAR(ops::bce_with_logits_loss<float>(to_device(z), to_device(t)), ops::bce_with_logits_loss<float>(z, t),
              1e-12);
}

TEST_F(CudaDispatch, RefusesMixedDevices) {
  Tensor<float> host(4, 4), device(4, 4, Device::cuda);
  EXPECT_THROW(ops::add<float>(host, device, device), Error);
  // nn::ops leaves a linear layer's input gradient out of its device check; the backend refuses it.
  Tensor<float> x(4, 4, Device::cuda), w(2, 4, Device::cuda), dy(4, 2, Device::cuda), dw(2, 4, Device::cuda),
      db(1, 2, Device::cuda), dx_host(4, 4);
  EXPECT_THROW(ops::linear_backward<float>(x, w, dy, dx_host, GradWrite::overwrite, dw, db), Error);
}

}  // namespace
}  // namespace nn::test
