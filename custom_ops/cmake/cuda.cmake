# The optional CUDA kernel library, libonnx_rnn_ops_cuda.so (included from custom_ops/CMakeLists.txt).
#
# ONNX_RNN_CUDA=AUTO builds it when a CUDA compiler (nvcc) and cuBLAS (headers + library) are found, ON requires
# them, OFF skips it. cuBLAS is looked up in: CUBLAS_ROOT (cache or environment variable); the nvidia-cublas wheel
# importable by the building Python (site-packages/nvidia/cu13 for CUDA 13, nvidia/cublas for CUDA 12) or in
# $VIRTUAL_ENV; the CUDA toolkit.
#
# The library links the CUDA runtime statically and libcublas dynamically; its RUNPATH finds libcublas in the
# nvidia-cublas wheel beside the installed package ($ORIGIN-relative), then where it was found at build time,
# then on the system's search path.

string(TOUPPER "${ONNX_RNN_CUDA}" _onnx_rnn_cuda_mode)
if(NOT _onnx_rnn_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "ONNX_RNN_CUDA must be AUTO, ON or OFF, got '${ONNX_RNN_CUDA}'")
endif()

# Sets _onnx_rnn_cuda_missing to why the CUDA library cannot be built, or to "" when it can.
function(_onnx_rnn_find_cuda)
  set(_onnx_rnn_cuda_missing "" PARENT_SCOPE)
  include(CheckLanguage)
  # Turing (sm_75, CUDA 13's oldest) to Blackwell; SASS for each, plus PTX of the newest for later GPUs.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "${ONNX_RNN_CUDA_ARCHITECTURES_DEFAULT}" CACHE STRING "CUDA architectures")
  endif()
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    set(_onnx_rnn_cuda_missing "no CUDA compiler (nvcc) found; set CUDACXX or CMAKE_CUDA_COMPILER" PARENT_SCOPE)
    return()
  endif()
  set(CMAKE_CUDA_COMPILER "${CMAKE_CUDA_COMPILER}" PARENT_SCOPE)

  set(_hints "")
  if(CUBLAS_ROOT)
    list(APPEND _hints "${CUBLAS_ROOT}")
  endif()
  if(DEFINED ENV{CUBLAS_ROOT})
    list(APPEND _hints "$ENV{CUBLAS_ROOT}")
  endif()
  set(_py "${Python_EXECUTABLE}")
  if(NOT _py)
    set(_py "${Python3_EXECUTABLE}")
  endif()
  if(_py)
    execute_process(
      COMMAND "${_py}" -c
        "import os, nvidia; print(';'.join(os.path.join(p, d) for p in nvidia.__path__ for d in ('cu13', 'cublas')))"
      OUTPUT_VARIABLE _wheel_dirs OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
    if(_rc EQUAL 0)
      list(APPEND _hints ${_wheel_dirs})
    endif()
  endif()
  if(DEFINED ENV{VIRTUAL_ENV})
    file(GLOB _venv_dirs "$ENV{VIRTUAL_ENV}/lib/python*/site-packages/nvidia/cu13"
                         "$ENV{VIRTUAL_ENV}/lib/python*/site-packages/nvidia/cublas")
    list(APPEND _hints ${_venv_dirs})
  endif()
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    list(APPEND _hints "${CUDAToolkit_LIBRARY_ROOT}" ${CUDAToolkit_INCLUDE_DIRS} "${CUDAToolkit_LIBRARY_DIR}")
  endif()

  find_path(CUBLAS_INCLUDE_DIR cublas_v2.h HINTS ${_hints} PATH_SUFFIXES include NO_DEFAULT_PATH)
  find_path(CUBLAS_INCLUDE_DIR cublas_v2.h)
  find_library(CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12
               HINTS ${_hints} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
  find_library(CUBLAS_LIBRARY NAMES cublas libcublas.so.13 libcublas.so.12)
  if(NOT CUBLAS_INCLUDE_DIR OR NOT CUBLAS_LIBRARY)
    set(_why "cuBLAS not found (headers: '${CUBLAS_INCLUDE_DIR}', library: '${CUBLAS_LIBRARY}'); ")
    string(APPEND _why "`pip install nvidia-cublas` into the building Python or pass -DCUBLAS_ROOT=<dir with include/ and lib/>")
    set(_onnx_rnn_cuda_missing "${_why}" PARENT_SCOPE)
  endif()
endfunction()

set(ONNX_RNN_CUDA_ARCHITECTURES_DEFAULT "75-real;80-real;86-real;89-real;90-real;100-real;120")
set(_onnx_rnn_cuda_missing "ONNX_RNN_CUDA=OFF")
if(_onnx_rnn_cuda_mode STREQUAL "OFF")
  # nothing to look for
elseif(ONNX_RNN_SANITIZE AND _onnx_rnn_cuda_mode STREQUAL "AUTO")
  set(_onnx_rnn_cuda_missing "a sanitizer build (pass -DONNX_RNN_CUDA=ON to build it anyway)")
else()
  _onnx_rnn_find_cuda()
endif()

if(_onnx_rnn_cuda_missing)
  if(_onnx_rnn_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "onnx_rnn: ONNX_RNN_CUDA=ON but the CUDA kernel cannot be built: ${_onnx_rnn_cuda_missing}")
  endif()
  message(STATUS "onnx_rnn: CUDA kernel: NOT built (CPU-only plugin): ${_onnx_rnn_cuda_missing}")
  return()
endif()

enable_language(CUDA)
get_filename_component(_cublas_lib_dir "${CUBLAS_LIBRARY}" DIRECTORY)
message(STATUS "onnx_rnn: CUDA kernel: built (libonnx_rnn_ops_cuda.so) with ${CMAKE_CUDA_COMPILER} "
               "${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")
message(STATUS "onnx_rnn: cuBLAS: ${CUBLAS_INCLUDE_DIR}, ${CUBLAS_LIBRARY}")

add_library(onnx_rnn_ops_cuda SHARED
  src/lstm_cuda.cu
  src/lstm_params.cc
)
set_target_properties(onnx_rnn_ops_cuda PROPERTIES
  OUTPUT_NAME onnx_rnn_ops_cuda
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_RUNTIME_LIBRARY Static
  CXX_VISIBILITY_PRESET hidden
  CUDA_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  POSITION_INDEPENDENT_CODE ON
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}"
  # installed in site-packages/onnx_rnn/lib: the wheel's libcublas is in site-packages/nvidia/{cu13,cublas}/lib
  INSTALL_RPATH "\$ORIGIN/../../nvidia/cu13/lib;\$ORIGIN/../../nvidia/cublas/lib;${_cublas_lib_dir}"
  BUILD_RPATH "${_cublas_lib_dir}"
)
target_include_directories(onnx_rnn_ops_cuda PRIVATE
  "${CMAKE_CURRENT_SOURCE_DIR}/include"
  "${CMAKE_CURRENT_SOURCE_DIR}/src"
)
target_include_directories(onnx_rnn_ops_cuda SYSTEM PRIVATE "${ONNXRUNTIME_INCLUDE_DIR}" "${CUBLAS_INCLUDE_DIR}")
target_compile_definitions(onnx_rnn_ops_cuda PRIVATE ORT_API_MANUAL_INIT)
target_compile_options(onnx_rnn_ops_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall>
)
target_link_libraries(onnx_rnn_ops_cuda PRIVATE "${CUBLAS_LIBRARY}" ${CMAKE_DL_LIBS})
target_link_options(onnx_rnn_ops_cuda PRIVATE
  "LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/src/cuda_exports.map"
  "LINKER:--no-undefined"
  "LINKER:-z,defs"
)
install(TARGETS onnx_rnn_ops_cuda LIBRARY DESTINATION onnx_rnn/lib)
