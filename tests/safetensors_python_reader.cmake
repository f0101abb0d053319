# Writes the sample model file with the library (WRITER), reads it back with the
# standard-library-only Python reader (READER) and compares what the reader prints with
# the values tests/tools/write_safetensors_sample.cpp wrote, worked out by hand.
set(expected [=[
metadata network
metadata targets
tensor dense.weight F32 [2, 3] 8.75
tensor dense.bias F64 [3] 2.375
tensor epoch I64 [] 42.0
tensor unused F32 [0, 4] 0.0
tensor counts I64 [4] 1099511627774.0
]=])

execute_process(COMMAND ${WRITER} ${FILE} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${WRITER} ${FILE} failed: ${status}")
endif()
execute_process(COMMAND ${PYTHON} ${READER} ${FILE} RESULT_VARIABLE status OUTPUT_VARIABLE output
                ERROR_VARIABLE errors)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${READER} could not read ${FILE} (${status}):\n${errors}")
endif()
string(REPLACE "\r\n" "\n" output "${output}")
if(NOT output STREQUAL expected)
  message(FATAL_ERROR "${READER} printed\n${output}\nbut the sample holds\n${expected}")
endif()
