// The interface between the plugin (libonnx_rnn_ops.so) and its optional CUDA kernel library
// (libonnx_rnn_ops_cuda.so), which the plugin dlopen()s from its own directory. See custom_ops/CUDA.md.
//
// Both libraries come from one build of this source tree; the ABI version only guards against a stale CUDA
// library left beside a newer plugin. No CUDA header is included here: the plugin itself never depends on CUDA.
#ifndef ONNX_RNN_OPS_CUDA_ABI_H_
#define ONNX_RNN_OPS_CUDA_ABI_H_

#include <cstdint>

#include "lstm_params.h"
#include "onnxruntime_c_api.h"

// Bump when OnnxRnnCudaKernels, LstmAttrs or the meaning of a field changes.
#define ONNX_RNN_CUDA_ABI_VERSION 1

// File name of the CUDA library, looked up in the directory of libonnx_rnn_ops.so.
#define ONNX_RNN_CUDA_LIBRARY_NAME "libonnx_rnn_ops_cuda.so"
// The one symbol that library exports.
#define ONNX_RNN_CUDA_ENTRY_POINT "OnnxRnnCudaKernelTable"

extern "C" {

struct OnnxRnnCudaKernels {
  int abi_version;      // ONNX_RNN_CUDA_ABI_VERSION of the CUDA library
  int ort_api_version;  // ORT_API_VERSION it was compiled with
  // Element types of the float inputs/outputs it has kernels for (ONNXTensorElementDataType values).
  const int32_t* float_types;
  int num_float_types;
  // Per kernel instance (one per node of a session): created with the kernel, destroyed with it. Returns null on
  // failure (out of memory); holds the lazily created cuBLAS handle(s).
  void* (*create)(int32_t float_type);
  void (*destroy)(void* state);
  // Validates the inputs exactly as the CPU kernel does and enqueues the LSTM on ORT's compute stream.
  // Returns nullptr or an ORT status; never throws.
  OrtStatus* (*compute)(void* state, const OrtApi* api, OrtKernelContext* ctx, const onnx_rnn::LstmAttrs* attrs);
};

typedef const OnnxRnnCudaKernels* (*OnnxRnnCudaKernelTableFn)(void);

}  // extern "C"

namespace onnx_rnn {

// The CUDA kernels when libonnx_rnn_ops_cuda.so exists beside this library and loads (its libcublas resolves),
// else null. Loaded once per process; never unloaded (sessions keep pointers into it).
const OnnxRnnCudaKernels* cuda_kernels();

// One line on the CUDA library: "loaded <path>", "not built ...", or why loading it failed.
const char* cuda_status();

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CUDA_ABI_H_
