# Finds every dependency and prints one found/not-found line for each.
include(CheckLanguage)
find_package(PkgConfig REQUIRED)

function(starnn_report name found detail)
  if(found)
    message(STATUS "starnn: ${name}: found ${detail}")
  else()
    message(STATUS "starnn: ${name}: NOT found ${detail}")
  endif()
endfunction()

find_program(STARNN_CCACHE ccache)
if(STARNN_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${STARNN_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${STARNN_CCACHE}")
endif()
starnn_report("ccache" "${STARNN_CCACHE}" "${STARNN_CCACHE}")

# GEMM on the CPU: OpenBLAS through its CBLAS interface, the build threaded with OpenMP
# (Debian's libopenblas-openmp-dev). The pthread build keeps its own spinning thread pool,
# which fights the library's OpenMP loops for the cores: 15x slower training steps measured
# on 2 cores. Both builds share the soname libopenblas.so.0, so libstarnn's RUNPATH points
# at the OpenMP one whatever the system's alternative says.
set(STARNN_OPENBLAS_DIR /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp)
find_library(STARNN_OPENBLAS_LIBRARY openblas PATHS ${STARNN_OPENBLAS_DIR} NO_DEFAULT_PATH REQUIRED)
find_path(STARNN_CBLAS_INCLUDE cblas.h PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp
          NO_DEFAULT_PATH REQUIRED)
starnn_report("OpenBLAS, OpenMP-threaded (CBLAS)" "${STARNN_OPENBLAS_LIBRARY}" "${STARNN_OPENBLAS_LIBRARY}")

# oneDNN (Debian's libdnnl-dev, the build PyTorch links, threaded with OpenMP as OpenBLAS is):
# the float products of the CPU backend, with their bias, ReLU and residual in the same pass
# (kernels/cpu/products.h). AUTO uses it where found, ON requires it; without it OpenBLAS runs
# every product.
set(STARNN_WITH_ONEDNN OFF)
if(NOT STARNN_ONEDNN STREQUAL "OFF")
  find_library(STARNN_DNNL_LIBRARY dnnl)
  find_path(STARNN_DNNL_INCLUDE oneapi/dnnl/dnnl.hpp)
  if(STARNN_DNNL_LIBRARY AND STARNN_DNNL_INCLUDE)
    set(STARNN_WITH_ONEDNN ON)
  elseif(STARNN_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "STARNN_ONEDNN=ON but oneDNN was not found (Debian: libdnnl-dev)")
  endif()
  starnn_report("oneDNN (float products on the CPU)" "${STARNN_WITH_ONEDNN}" "${STARNN_DNNL_LIBRARY}")
else()
  message(STATUS "starnn: oneDNN: not looked for (STARNN_ONEDNN=OFF)")
endif()

# MPI (Debian's libopenmpi-dev and openmpi-bin): the ranks of a run under mpirun or srun
# (libnn/include/nn/ranks.h), among which whole-survey prediction shares its files. AUTO uses it
# where found, ON requires it; without it a run has one rank.
set(STARNN_WITH_MPI OFF)
if(NOT STARNN_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(STARNN_WITH_MPI ON)
  elseif(STARNN_MPI STREQUAL "ON")
    message(FATAL_ERROR "STARNN_MPI=ON but MPI was not found (Debian: libopenmpi-dev openmpi-bin)")
  endif()
  starnn_report("MPI (ranks under mpirun or srun)" "${STARNN_WITH_MPI}" "${MPI_CXX_LIBRARY_VERSION_STRING}")
else()
  message(STATUS "starnn: MPI: not looked for (STARNN_MPI=OFF)")
endif()

find_package(OpenMP REQUIRED COMPONENTS CXX)
starnn_report("OpenMP" "${OpenMP_CXX_FOUND}" "${OpenMP_CXX_VERSION}")

find_package(nlohmann_json 3.10 REQUIRED CONFIG)
starnn_report("nlohmann_json" "${nlohmann_json_FOUND}" "${nlohmann_json_VERSION}")

pkg_check_modules(CFITSIO REQUIRED IMPORTED_TARGET cfitsio)
starnn_report("CFITSIO" "${CFITSIO_FOUND}" "${CFITSIO_VERSION}")

# zlib reads a gzip-compressed FITS file's headers before CFITSIO does (catalog_fits_precheck.cpp).
find_package(ZLIB REQUIRED)
starnn_report("zlib" "${ZLIB_FOUND}" "${ZLIB_VERSION_STRING}")

find_package(Threads REQUIRED)

# PLplot draws the figures of libstarnn_report and the program's maps; without it only
# libstarnn is built.
pkg_check_modules(PLPLOT QUIET IMPORTED_TARGET plplot)
starnn_report("PLplot (libstarnn_report, the starnn program)" "${PLPLOT_FOUND}" "${PLPLOT_VERSION}")

# Python: the interpreter runs the independent readers of the tests, and with its headers
# (Development.Module) builds the Python package. Debian's /usr/bin/python3 is the one with
# numpy, astropy and torch, so it comes first unless Python3_EXECUTABLE says otherwise.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python of the tests and the Python package")
endif()
if(NOT STARNN_BUILD_PYTHON STREQUAL "OFF" AND NOT STARNN_FUZZ)
  find_package(Python3 COMPONENTS Interpreter Development.Module)
  starnn_report("Python 3 headers (the Python package)" "${Python3_Development.Module_FOUND}" "${Python3_VERSION}")
elseif(STARNN_BUILD_TESTS)
  find_package(Python3 COMPONENTS Interpreter)
endif()
if(STARNN_BUILD_TESTS)
  find_package(GTest REQUIRED)
  starnn_report("GoogleTest" "${GTest_FOUND}" "${GTest_VERSION}")
  starnn_report("Python 3 (independent readers in tests)" "${Python3_FOUND}" "${Python3_EXECUTABLE}")
endif()
if(STARNN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  starnn_report("Google Benchmark" "${benchmark_FOUND}" "${benchmark_VERSION}")
endif()

# The CUDA toolkit: AUTO builds the CUDA backend when nvcc is found, ON requires it.
set(STARNN_WITH_CUDA OFF)
if(NOT STARNN_CUDA STREQUAL "OFF")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(STARNN_WITH_CUDA ON)
    # Only the architectures asked for: each one is a full device compile of every kernel.
    set(CMAKE_CUDA_ARCHITECTURES "${STARNN_CUDA_ARCHS}")
    enable_language(CUDA)
    # CMake 3.25 predates nvcc's C++20 (CUDA 12) and knows no flag for it.
    if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    find_package(CUDAToolkit REQUIRED)
    starnn_report("cuBLAS" "${CUDA_cublas_LIBRARY}" "${CUDAToolkit_VERSION} (${CUDA_cublas_LIBRARY})")
    starnn_report("cuBLASLt" "${CUDA_cublasLt_LIBRARY}" "${CUDAToolkit_VERSION} (${CUDA_cublasLt_LIBRARY})")
  elseif(STARNN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STARNN_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  endif()
  starnn_report("CUDA toolkit" "${CMAKE_CUDA_COMPILER}" "${CMAKE_CUDA_COMPILER}")
else()
  message(STATUS "starnn: CUDA toolkit: not looked for (STARNN_CUDA=OFF)")
endif()
