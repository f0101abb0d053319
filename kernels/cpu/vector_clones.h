#pragma once
// STARNN_VECTOR_CLONES, written after a loop body's parameter list, builds the body twice: for
// baseline x86-64 (SSE2, 4 floats a vector) and for x86-64-v3 (AVX2, 8), and the dynamic loader
// picks the one the machine runs (GCC's target_clones, resolved once through an ifunc). OpenBLAS
// and PyTorch choose their kernels at run time the same way; without it the library's own loops
// would run at SSE2 width on every machine.
//
// It goes on the body a parallel region calls, not on the function that opens the region: the
// region's outlined function is made before the clones, and would stay baseline in both.
//
// kernels/cpu is built with -ffp-contract=off, so the AVX2 build fuses no multiply and add that the
// baseline one keeps apart: the loops it marks are elementwise or per column (no reduction the
// vector width could reorder), and compute the same roundings in either build.
//
// Off where there are no ifuncs, and under ThreadSanitizer, whose runtime is not up yet when
// the resolvers run.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__)
#define STARNN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#define STARNN_HAS_VECTOR_CLONES 1
#else
#define STARNN_VECTOR_CLONES
#define STARNN_HAS_VECTOR_CLONES 0
#endif
