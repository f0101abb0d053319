#pragma once
// nn::cuda, the CUDA backend: the ops of nn/ops.h with the signatures of nn::cpu (their meaning
// is documented there), device memory, and the precision of the GEMMs.
//
// Each op checks that its views live on the GPU, launches on the backend's stream and checks
// the launch; shapes are nn::ops' to check. Ops return once their work is queued, except the
// losses, which wait for their result. Symbols live in the inline namespace of flavour.h.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "flavour.h"
#include "nn/ops.h"

namespace nn::cuda::inline NN_CUDA_FLAVOUR {

template <class T>
void linear_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y);
template <class T>
void linear_backward(ConstView<T> x, ConstView<T> w, ConstView<T> dy, View<T> dx, GradWrite dx_write, View<T> dw,
                     View<T> db);
template <class T>
void linear_relu_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, View<T> y);

template <class T>
void batchnorm_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, const BatchNormOptions& options,
                             View<T> y, View<T> mean, View<T> invstd, View<T> running_mean, View<T> running_var);
template <class T>
void batchnorm_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                            ConstView<T> running_var, const BatchNormOptions& options, View<T> y);
template <class T>
void batchnorm_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma, ConstView<T> dy,
                        View<T> dx, View<T> dgamma, View<T> dbeta);

template <class T>
void relu_forward(ConstView<T> x, View<T> y);
template <class T>
void relu_backward(ConstView<T> y, ConstView<T> dy, View<T> dx);

template <class T>
void batchnorm_relu_forward_train(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta,
                                  const BatchNormOptions& options, View<T> y, View<T> mean, View<T> invstd,
                                  View<T> running_mean, View<T> running_var);
template <class T>
void batchnorm_relu_forward_eval(ConstView<T> x, ConstView<T> gamma, ConstView<T> beta, ConstView<T> running_mean,
                                 ConstView<T> running_var, const BatchNormOptions& options, View<T> y);
template <class T>
void batchnorm_relu_backward(ConstView<T> x, ConstView<T> mean, ConstView<T> invstd, ConstView<T> gamma,
                             ConstView<T> beta, ConstView<T> dy, ConstView<T> residual, View<T> dx, View<T> dgamma,
                             View<T> dbeta);
template <class T>
void linear_residual_forward(ConstView<T> x, ConstView<T> w, ConstView<T> b, ConstView<T> residual, View<T> y);
template <class T>
void batchnorm_fold_into_linear(ConstView<T> w, ConstView<T> b, ConstView<T> gamma, ConstView<T> beta,
                                ConstView<T> running_mean, ConstView<T> running_var, const BatchNormOptions& options,
                                View<T> w_folded, View<T> b_folded);
template <class T>
void dropout_forward(ConstView<T> x, double p, std::uint64_t seed, View<T> mask, View<T> y);
template <class T>
void multiply(ConstView<T> a, ConstView<T> b, View<T> out);

template <class T>
void attention_forward(ConstView<T> z, ConstView<T> h, ConstView<T> residual, View<T> a, View<T> y);
template <class T>
void attention_backward(ConstView<T> h, ConstView<T> a, ConstView<T> dy, View<T> dh, View<T> dz);

template <class T>
void copy(ConstView<T> src, View<T> dst);
template <class T>
void fill(View<T> dst, T value);
template <class T>
void add(ConstView<T> a, ConstView<T> b, View<T> out);

template <class T>
double weighted_l1_loss(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w);
template <class T>
void weighted_l1_backward(ConstView<T> yhat, ConstView<T> y, ConstView<T> s, ConstView<T> mask, ConstView<T> w,
                          View<T> dyhat);
template <class T>
double bce_with_logits_loss(ConstView<T> z, ConstView<T> t);
template <class T>
void bce_with_logits_backward(ConstView<T> z, ConstView<T> t, View<T> dz);

template <class T>
void adam_step(View<T> params, ConstView<T> grads, View<T> m, View<T> v, const AdamStep& step);

// Devices the runtime can use; 0, not an error, where it finds none or no driver.
NN_API int device_count();
// The device the backend runs on, in words: "NVIDIA H100 80GB HBM3 (device 0, sm_90, 132 SMs,
// 79.1 GiB)".
NN_API std::string device_description();

// Device memory. allocate(0) is nullptr; release(nullptr) does nothing.
NN_API void* allocate(std::size_t bytes);
NN_API void release(void* device) noexcept;
// Both wait until the copy is done, so the host buffer may be reused at once.
NN_API void copy_to_device(void* device, const void* host, std::size_t bytes);
NN_API void copy_to_host(void* host, const void* device, std::size_t bytes);
// Queued on the stream like a kernel.
NN_API void copy_on_device(void* dst, const void* src, std::size_t bytes);
NN_API void fill_bytes(void* device, unsigned char value, std::size_t bytes);
// Waits for all work queued on the backend's stream.
NN_API void synchronize();

// Work queued on the backend's stream, recorded once as a CUDA graph and replayed with one
// launch: a training step of a small net is ~100 short kernels whose launch cost exceeds their
// run time. What is recorded must not wait for the GPU (no loss values, no copies to the host)
// nor allocate; every replay runs the same kernels on the same memory with the same arguments.
class NN_API RecordedWork {
 public:
  RecordedWork() = default;
  RecordedWork(const RecordedWork&) = delete;
  RecordedWork& operator=(const RecordedWork&) = delete;
  ~RecordedWork();
  // Records what `work` queues on the stream instead of running it. An nn::Error if `work`
  // waited for the GPU; the previous recording is then gone.
  void record(const std::function<void()>& work);
  // Queues the recorded work on the stream again.
  void replay() const;
  bool recorded() const { return exec_ != nullptr; }

 private:
  void release() noexcept;
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

// TF32 rounds the float inputs of the tensor-core GEMMs to 10 mantissa bits (relative error
// about 5e-4 per product): much faster on sm_80+, so opt-in. Double GEMMs ignore it.
enum class GemmMath { fp32, tf32 };
NN_API void set_gemm_math(GemmMath math);
NN_API GemmMath gemm_math();

}  // namespace nn::cuda::inline NN_CUDA_FLAVOUR
