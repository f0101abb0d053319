#pragma once
// The CUDA runtime, cuBLAS and cuBLASLt as the backend calls them: the toolkit's, or in
// emulation builds their host stand-ins with the same names and semantics (simt_runtime.h,
// simt_cublas.h, simt_cublaslt.h).
#if defined(STARNN_CUDA_EMULATION)
#include "simt_cublas.h"
#include "simt_cublaslt.h"
#include "simt_runtime.h"
#else
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#endif
