# Installs the current build into a fresh prefix, then builds and runs examples/embed
# against it: proves that the installed headers, library and package files are enough
# for another project to find_package(starnn) and use it.
#   cmake -DSTARNN_BUILD_DIR=... -DSTARNN_SOURCE_DIR=... -DSTARNN_GENERATOR=...
#         -DSTARNN_SCRATCH_DIR=... [-DSTARNN_CXX_COMPILER=...] -P embed_installed_package.cmake
foreach(var IN ITEMS STARNN_BUILD_DIR STARNN_SOURCE_DIR STARNN_GENERATOR STARNN_SCRATCH_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_installed_package: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${STARNN_SCRATCH_DIR}/prefix)
set(embed_build ${STARNN_SCRATCH_DIR}/build)
file(REMOVE_RECURSE ${STARNN_SCRATCH_DIR})
file(MAKE_DIRECTORY ${STARNN_SCRATCH_DIR})

# Runs one step and stops the test with that step's output when it fails.
function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "embed_installed_package: ${name} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${name}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("install" ${CMAKE_COMMAND} --install ${STARNN_BUILD_DIR} --prefix ${prefix})

# The same compiler as the library, so the two agree on the C++ standard library.
set(compiler_args)
if(STARNN_CXX_COMPILER)
  set(compiler_args -DCMAKE_CXX_COMPILER=${STARNN_CXX_COMPILER})
endif()
step("configure examples/embed" ${CMAKE_COMMAND} -S ${STARNN_SOURCE_DIR}/examples/embed -B ${embed_build}
     -G ${STARNN_GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} ${compiler_args})

# find_package must have taken this prefix, not a starnn installed elsewhere on the machine.
file(STRINGS ${embed_build}/CMakeCache.txt starnn_dir REGEX "^starnn_DIR:")
string(REGEX REPLACE "^starnn_DIR:[A-Z]*=" "" starnn_dir "${starnn_dir}")
file(REAL_PATH "${starnn_dir}" starnn_dir)
file(REAL_PATH "${prefix}" real_prefix)
string(FIND "${starnn_dir}" "${real_prefix}/" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "embed_installed_package: find_package(starnn) found ${starnn_dir}, not the package in ${prefix}")
endif()

step("build examples/embed" ${CMAKE_COMMAND} --build ${embed_build})
step("run starnn_embed" ${embed_build}/starnn_embed)
message(STATUS "starnn_embed output:\n${step_output}")
step("run starnn_train_and_resume" ${embed_build}/starnn_train_and_resume
     ${STARNN_SOURCE_DIR}/tests/data/nets/tiny.json ${STARNN_SCRATCH_DIR}/run)
message(STATUS "starnn_train_and_resume output:\n${step_output}")
foreach(name IN ITEMS best.safetensors last.safetensors history.csv metrics.json)
  if(NOT EXISTS ${STARNN_SCRATCH_DIR}/run/${name})
    message(FATAL_ERROR "embed_installed_package: the resumed run wrote no ${name}")
  endif()
endforeach()
if(NOT step_output MATCHES "stopped after epoch 1" OR NOT step_output MATCHES "epoch 3: [^\n]*\\(resumed\\)"
   OR NOT step_output MATCHES "3 epochs in")
  message(FATAL_ERROR "embed_installed_package: the run did not stop after epoch 1 and resume to epoch 3")
endif()
