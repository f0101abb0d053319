// oneDNN matmul primitives, one per shape, kept per calling thread (onednn_matmul.h).
#include "onednn_matmul.h"

#include <omp.h>

#include <array>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <unordered_map>

#include "nn/error.h"

namespace nn::cpu::onednn {
namespace {

using dnnl::memory;

// Everything a primitive is created for: two products that agree here run the same kernels.
struct Shape {
  Index m, n, k, lda, ldb, ldc, residual_ld;
  bool a_transposed, b_transposed, bias, accumulate, residual;
  int threads;
  auto tied() const {
    return std::tie(m, n, k, lda, ldb, ldc, residual_ld, a_transposed, b_transposed, bias, accumulate, residual,
                    threads);
  }
  bool operator==(const Shape& other) const { return tied() == other.tied(); }
};

struct ShapeHash {
  std::size_t operator()(const Shape& s) const {
    std::size_t h = 0;
    const auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    std::apply([&](const auto&... field) { (mix(std::size_t(field)), ...); }, s.tied());
    return h;
  }
};

// A (rows, cols) row-major matrix with row stride ld, or its transpose.
memory::desc matrix(Index rows, Index cols, Index ld, bool transposed) {
  const memory::dims strides = transposed ? memory::dims{1, ld} : memory::dims{ld, 1};
  return memory::desc({rows, cols}, memory::data_type::f32, strides);
}

// A primitive and the memory objects it runs on; each call points them at its own data.
struct Plan {
  dnnl::matmul primitive;
  memory a, b, bias, c, residual;
};

struct ThreadState {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::unordered_map<Shape, Plan, ShapeHash> plans;
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

Plan make_plan(const Shape& s, const dnnl::engine& engine) {
  const memory::desc a = matrix(s.m, s.k, s.lda, s.a_transposed), b = matrix(s.k, s.n, s.ldb, s.b_transposed);
  const memory::desc c = matrix(s.m, s.n, s.ldc, false);
  const memory::desc bias = s.bias ? matrix(1, s.n, s.n, false) : memory::desc();
  const memory::desc residual = s.residual ? matrix(s.m, s.n, s.residual_ld, false) : memory::desc();
  dnnl::post_ops post_ops;
  if (s.accumulate) post_ops.append_sum(1.0f);
  if (s.residual) post_ops.append_binary(dnnl::algorithm::binary_add, residual);
  dnnl::primitive_attr attr;
  attr.set_post_ops(post_ops);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, bias, c), attr, engine);
  return Plan{dnnl::matmul(pd),
              memory(a, engine, DNNL_MEMORY_NONE),
              memory(b, engine, DNNL_MEMORY_NONE),
              s.bias ? memory(bias, engine, DNNL_MEMORY_NONE) : memory(),
              memory(c, engine, DNNL_MEMORY_NONE),
              s.residual ? memory(residual, engine, DNNL_MEMORY_NONE) : memory()};
}

// oneDNN only reads its inputs; its handles are untyped.
void* handle(const float* p) { return const_cast<float*>(p); }

}  // namespace

void matmul(Index m, Index n, Index k, Operand a, Operand b, const Epilogue& epilogue, float* c, Index ldc) {
  if (m == 0 || n == 0) return;
  const Shape shape{m,
                    n,
                    k,
                    a.ld,
                    b.ld,
                    ldc,
                    epilogue.residual ? epilogue.residual_ld : 0,
                    a.transposed,
                    b.transposed,
                    epilogue.bias != nullptr,
                    epilogue.accumulate,
                    epilogue.residual != nullptr,
                    omp_get_max_threads()};
  ThreadState& state = thread_state();
  auto found = state.plans.find(shape);
  if (found == state.plans.end()) {
    if (state.plans.size() >= kCachedShapes) state.plans.clear();
    try {
      found = state.plans.emplace(shape, make_plan(shape, state.engine)).first;
    } catch (const dnnl::error& e) {
      throw Error(str("oneDNN has no matmul for (", m, " x ", k, ") (", k, " x ", n, "): ", e.what()));
    }
  }
  // Through the C API with an array of arguments: the C++ one builds a map for every call.
  Plan& plan = found->second;
  std::array<dnnl_exec_arg_t, 5> args{};
  int count = 0;
  const auto pass = [&](int argument, memory& memory_object, const float* data) {
    dnnl::error::wrap_c_api(dnnl_memory_set_data_handle(memory_object.get(), handle(data)), "set a matmul operand");
    args[std::size_t(count++)] = dnnl_exec_arg_t{argument, memory_object.get()};
  };
  pass(DNNL_ARG_SRC, plan.a, a.data);
  pass(DNNL_ARG_WEIGHTS, plan.b, b.data);
  pass(DNNL_ARG_DST, plan.c, c);
  if (epilogue.bias) pass(DNNL_ARG_BIAS, plan.bias, epilogue.bias);
  // The residual's place among the post-ops: after the sum when there is one.
  if (epilogue.residual)
    pass(DNNL_ARG_ATTR_MULTIPLE_POST_OP(epilogue.accumulate ? 1 : 0) | DNNL_ARG_SRC_1, plan.residual,
         epilogue.residual);
  dnnl::error::wrap_c_api(dnnl_primitive_execute(plan.primitive.get(), state.stream.get(), count, args.data()),
                          "run a matmul");
  dnnl::error::wrap_c_api(dnnl_stream_wait(state.stream.get()), "wait for a matmul");
}

std::string description() {
  const dnnl_version_t* v = dnnl_version();
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const memory::desc square = matrix(64, 64, 64, false);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(square, square, square), engine);
  return str("oneDNN ", v->major, ".", v->minor, ".", v->patch, " (float matmul kernels ", pd.impl_info_str(), ")");
}

}  // namespace nn::cpu::onednn
