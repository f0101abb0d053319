#pragma once
// The inline namespace that holds every nn::cuda symbol of this build: `gpu` for the backend
// that nvcc builds into libstarnn, `emulated` for its host emulation (STARNN_CUDA_EMULATION)
// that tests/cuda links. Source code names both nn::cuda::op; their symbols differ, so one
// test program links the two without a clash.
#if defined(STARNN_CUDA_EMULATION)
#define NN_CUDA_FLAVOUR emulated
#else
#define NN_CUDA_FLAVOUR gpu
#endif
