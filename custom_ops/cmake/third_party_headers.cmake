# Third-party headers of the plugin build (included from custom_ops/CMakeLists.txt): ONNX Runtime's C/C++ API
# (only headers: the library is never linked) and Eigen 3. Neither is committed; the onnxruntime wheels ship no
# headers, so they come from Debian's packages (libonnxruntime-dev, libeigen3-dev), fetched at configure time.
#
# Looked up in order, for each of the two:
#   1. -DONNXRUNTIME_INCLUDE_DIR=<dir> / -DEIGEN3_INCLUDE_DIR=<dir> (always wins);
#   2. <checkout>/build/ort-headers, where `make setup` (tools/fetch_ort_headers.sh) puts them;
#   3. <build dir>/ort-headers: fetched there now by tools/fetch_ort_headers.sh (pip install of a bare checkout,
#      of a git URL or of the sdist: nothing needs preparing). ONNX_RNN_FETCH_HEADERS=OFF forbids the download;
#   4. the system's /usr/include (Debian/Ubuntu: apt-get install libonnxruntime-dev libeigen3-dev), for Eigen only
#      after 3: the system's Eigen may be any version, ours is Debian trixie's.

option(ONNX_RNN_FETCH_HEADERS "Download the headers from Debian's archive when not found (tools/fetch_ort_headers.sh)" ON)
set(ONNXRUNTIME_INCLUDE_DIR "" CACHE PATH "Directory holding onnxruntime_c_api.h (default: fetched)")
set(EIGEN3_INCLUDE_DIR "" CACHE PATH "Directory holding Eigen/Core (default: fetched)")

get_filename_component(_onnx_rnn_repo "${CMAKE_CURRENT_SOURCE_DIR}/.." ABSOLUTE)
set(_onnx_rnn_fetch_script "${_onnx_rnn_repo}/tools/fetch_ort_headers.sh")
set(_onnx_rnn_checkout_headers "${_onnx_rnn_repo}/build/ort-headers/usr/include")
set(_onnx_rnn_build_headers "${CMAKE_BINARY_DIR}/ort-headers/usr/include")

# Sets VAR to the first of CANDIDATES (directories) holding FILE, when VAR is not set already.
function(_onnx_rnn_pick var file)
  if(${var})
    return()
  endif()
  foreach(_dir ${ARGN})
    if(EXISTS "${_dir}/${file}")
      set(${var} "${_dir}" CACHE PATH "Directory holding ${file}" FORCE)
      return()
    endif()
  endforeach()
endfunction()

_onnx_rnn_pick(ONNXRUNTIME_INCLUDE_DIR onnxruntime_c_api.h
  "${_onnx_rnn_checkout_headers}/onnxruntime" "${_onnx_rnn_build_headers}/onnxruntime")
_onnx_rnn_pick(EIGEN3_INCLUDE_DIR Eigen/Core "${_onnx_rnn_checkout_headers}/eigen3" "${_onnx_rnn_build_headers}/eigen3")

if((NOT ONNXRUNTIME_INCLUDE_DIR OR NOT EIGEN3_INCLUDE_DIR) AND ONNX_RNN_FETCH_HEADERS)
  if(NOT EXISTS "${_onnx_rnn_fetch_script}")
    set(_onnx_rnn_fetch_error "${_onnx_rnn_fetch_script} is missing from the source tree")
  else()
    message(STATUS "onnx_rnn: fetching ONNX Runtime and Eigen headers from Debian's archive into ${CMAKE_BINARY_DIR}/ort-headers")
    execute_process(
      COMMAND bash "${_onnx_rnn_fetch_script}" "${CMAKE_BINARY_DIR}/ort-headers"
      RESULT_VARIABLE _onnx_rnn_fetch_status
      OUTPUT_VARIABLE _onnx_rnn_fetch_out
      ERROR_VARIABLE _onnx_rnn_fetch_err)
    if(NOT _onnx_rnn_fetch_status EQUAL 0)
      # The script's last line of complaint, as one line.
      string(STRIP "${_onnx_rnn_fetch_err}" _onnx_rnn_fetch_err)
      string(REGEX REPLACE ".*\n" "" _onnx_rnn_fetch_error "${_onnx_rnn_fetch_err}")
      if(NOT _onnx_rnn_fetch_error)
        set(_onnx_rnn_fetch_error "tools/fetch_ort_headers.sh exited with ${_onnx_rnn_fetch_status}")
      endif()
    endif()
  endif()
  _onnx_rnn_pick(ONNXRUNTIME_INCLUDE_DIR onnxruntime_c_api.h "${_onnx_rnn_build_headers}/onnxruntime")
  _onnx_rnn_pick(EIGEN3_INCLUDE_DIR Eigen/Core "${_onnx_rnn_build_headers}/eigen3")
endif()
_onnx_rnn_pick(ONNXRUNTIME_INCLUDE_DIR onnxruntime_c_api.h "/usr/include/onnxruntime" "/usr/local/include/onnxruntime")
_onnx_rnn_pick(EIGEN3_INCLUDE_DIR Eigen/Core "/usr/include/eigen3" "/usr/local/include/eigen3")

foreach(_pair "ONNXRUNTIME_INCLUDE_DIR;onnxruntime_c_api.h;ONNX Runtime C API" "EIGEN3_INCLUDE_DIR;Eigen/Core;Eigen 3")
  list(GET _pair 0 _var)
  list(GET _pair 1 _file)
  list(GET _pair 2 _what)
  if(NOT ${_var} OR NOT EXISTS "${${_var}}/${_file}")
    if(NOT ONNX_RNN_FETCH_HEADERS)
      set(_onnx_rnn_fetch_error "ONNX_RNN_FETCH_HEADERS=OFF")
    endif()
    message(FATAL_ERROR
      "onnx_rnn: ${_what} headers not found (${_file}) and not fetched from Debian's archive "
      "(${_onnx_rnn_fetch_error}): give -D${_var}=<dir>, or install Debian's libonnxruntime-dev and libeigen3-dev")
  endif()
endforeach()
message(STATUS "onnx_rnn: ONNX Runtime headers: ${ONNXRUNTIME_INCLUDE_DIR}")
message(STATUS "onnx_rnn: Eigen headers: ${EIGEN3_INCLUDE_DIR}")
