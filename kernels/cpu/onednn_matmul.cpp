// oneDNN matmul primitives, one per shape, kept per calling thread (onednn_matmul.h).
#include "onednn_matmul.h"

#include <omp.h>

#include <array>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "bf16_products.h"
#include "nn/error.h"

namespace nn::cpu::onednn {
namespace {

using dnnl::memory;

// Everything a primitive is created for: two products that agree here run the same kernels.
struct Shape {
  Index m, n, k, lda, ldb, ldc, residual_ld;
  bool a_transposed, b_transposed, bias, accumulate, residual;
  bool bf16;  // a in BF16 and b a packed BF16 weight (ldb and b_transposed unused)
  int threads;
  auto tied() const {
    return std::tie(m, n, k, lda, ldb, ldc, residual_ld, a_transposed, b_transposed, bias, accumulate, residual, bf16,
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
memory::desc matrix(Index rows, Index cols, Index ld, bool transposed,
                    memory::data_type type = memory::data_type::f32) {
  const memory::dims strides = transposed ? memory::dims{1, ld} : memory::dims{ld, 1};
  return memory::desc({rows, cols}, type, strides);
}

// A primitive and the memory objects it runs on; each call points them at its own data.
struct Plan {
  dnnl::matmul primitive;
  memory a, b, bias, c, residual;
  memory::desc packed_weights;  // BF16 plans: the layout their weights are packed in
};

// A weight rounded to BF16 and packed for a plan, with the float values it was made from.
struct PackedWeight {
  std::vector<float> source;  // (n, k), rows contiguous
  memory packed;
};

struct ThreadState {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::unordered_map<Shape, Plan, ShapeHash> plans;
  std::unordered_map<const float*, PackedWeight> bf16_weights;  // by the float weight's address
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

Plan make_plan(const Shape& s, const dnnl::engine& engine) {
  using type = memory::data_type;
  // A BF16 plan's weights are in the layout its kernel chooses (format any), packed once per weight.
  const memory::desc a = matrix(s.m, s.k, s.lda, s.a_transposed, s.bf16 ? type::bf16 : type::f32),
                     b = s.bf16 ? memory::desc({s.k, s.n}, type::bf16, memory::format_tag::any)
                                : matrix(s.k, s.n, s.ldb, s.b_transposed);
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
              s.bf16 ? memory() : memory(b, engine, DNNL_MEMORY_NONE),
              s.bias ? memory(bias, engine, DNNL_MEMORY_NONE) : memory(),
              memory(c, engine, DNNL_MEMORY_NONE),
              s.residual ? memory(residual, engine, DNNL_MEMORY_NONE) : memory(),
              s.bf16 ? pd.weights_desc() : memory::desc()};
}

// oneDNN only reads its inputs; its handles are untyped.
void* handle(const void* p) { return const_cast<void*>(p); }

Plan& plan_for(const Shape& shape, ThreadState& state) {
  auto found = state.plans.find(shape);
  if (found != state.plans.end()) return found->second;
  if (state.plans.size() >= kCachedShapes) state.plans.clear();
  try {
    return state.plans.emplace(shape, make_plan(shape, state.engine)).first->second;
  } catch (const dnnl::error& e) {
    throw Error(str("oneDNN has no ", shape.bf16 ? "BF16 " : "", "matmul for (", shape.m, " x ", shape.k, ") (",
                    shape.k, " x ", shape.n, "): ", e.what()));
  }
}

Shape shape_of(Index m, Index n, Index k, Operand a, Operand b, const Epilogue& epilogue, Index ldc, bool bf16) {
  return Shape{m,
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
               bf16,
               omp_get_max_threads()};
}

// Runs a plan on a, its weights (b), c and the epilogue's operands.
void execute(Plan& plan, ThreadState& state, const void* a, dnnl_memory_t b, const Epilogue& epilogue, float* c) {
  // Through the C API with an array of arguments: the C++ one builds a map for every call.
  std::array<dnnl_exec_arg_t, 5> args{};
  int count = 0;
  const auto pass = [&](int argument, memory& memory_object, const void* data) {
    dnnl::error::wrap_c_api(dnnl_memory_set_data_handle(memory_object.get(), handle(data)), "set a matmul operand");
    args[std::size_t(count++)] = dnnl_exec_arg_t{argument, memory_object.get()};
  };
  pass(DNNL_ARG_SRC, plan.a, a);
  args[std::size_t(count++)] = dnnl_exec_arg_t{DNNL_ARG_WEIGHTS, b};
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

bool same_values(const std::vector<float>& source, ConstView<float> w) {
  if (source.size() != std::size_t(w.rows * w.cols)) return false;
  for (Index j = 0; j < w.rows; ++j)
    if (std::memcmp(source.data() + j * w.cols, w.row(j), std::size_t(w.cols) * sizeof(float)) != 0) return false;
  return true;
}

// w (n, k) rounded to BF16 and reordered into the plan's layout, as the (k, n) operand w^T.
PackedWeight pack(ConstView<float> w, const memory::desc& layout, ThreadState& state) {
  PackedWeight packed{std::vector<float>(std::size_t(w.rows * w.cols)), memory(layout, state.engine)};
  std::vector<std::uint16_t> rounded(packed.source.size());
  for (Index j = 0; j < w.rows; ++j)
    for (Index i = 0; i < w.cols; ++i) {
      packed.source[std::size_t(j * w.cols + i)] = w(j, i);
      rounded[std::size_t(j * w.cols + i)] = to_bf16(w(j, i));
    }
  memory plain(matrix(w.cols, w.rows, w.cols, true, memory::data_type::bf16), state.engine, rounded.data());
  dnnl::reorder(plain, packed.packed).execute(state.stream, plain, packed.packed);
  state.stream.wait();
  return packed;
}

}  // namespace

void matmul(Index m, Index n, Index k, Operand a, Operand b, const Epilogue& epilogue, float* c, Index ldc) {
  if (m == 0 || n == 0) return;
  ThreadState& state = thread_state();
  Plan& plan = plan_for(shape_of(m, n, k, a, b, epilogue, ldc, false), state);
  dnnl::error::wrap_c_api(dnnl_memory_set_data_handle(plan.b.get(), handle(b.data)), "set a matmul operand");
  execute(plan, state, a.data, plan.b.get(), epilogue, c);
}

void matmul_bf16(Index m, Index n, Index k, const std::uint16_t* a, Index lda, ConstView<float> w,
                 const Epilogue& epilogue, float* c, Index ldc) {
  if (m == 0 || n == 0) return;
  ThreadState& state = thread_state();
  Plan& plan = plan_for(shape_of(m, n, k, {nullptr, lda, false}, {}, epilogue, ldc, true), state);
  if (state.bf16_weights.size() >= kCachedShapes && !state.bf16_weights.contains(w.data)) state.bf16_weights.clear();
  PackedWeight& weight = state.bf16_weights[w.data];
  if (!weight.packed || weight.packed.get_desc() != plan.packed_weights || !same_values(weight.source, w))
    weight = pack(w, plan.packed_weights, state);
  execute(plan, state, a, weight.packed.get(), epilogue, c);
}

void release_bf16_weights() { thread_state().bf16_weights.clear(); }

std::string description() {
  const dnnl_version_t* v = dnnl_version();
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const memory::desc square = matrix(64, 64, 64, false);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(square, square, square), engine);
  return str("oneDNN ", v->major, ".", v->minor, ".", v->patch, " (float matmul kernels ", pd.impl_info_str(), ")");
}

}  // namespace nn::cpu::onednn
