// Reading a kernel's inputs and allocating its outputs through the ONNX Runtime C API: shared by the CPU and
// CUDA kernels, so both see inputs (shape, element type, data pointer) the same way.
#ifndef ONNX_RNN_OPS_KERNEL_IO_H_
#define ONNX_RNN_OPS_KERNEL_IO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lstm_params.h"
#include "onnxruntime_c_api.h"
#include "ort_util.h"

namespace onnx_rnn {

// One input as the kernel sees it; `present` in `desc` is false for an omitted optional input.
struct InputView {
  TensorDesc desc;
  const OrtValue* value = nullptr;
  const void* data = nullptr;
};

// Fills `out` for input `index`; leaves it absent when the input is omitted.
inline OrtStatus* read_input(const OrtApi* api, OrtKernelContext* ctx, size_t index, InputView* out) {
  const OrtValue* v = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetInput(ctx, index, &v));
  if (!v) return nullptr;
  OrtTensorTypeAndShapeInfo* info = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->GetTensorTypeAndShape(v, &info));
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  size_t rank = 0;
  OrtStatus* st = api->GetTensorElementType(info, &type);
  if (!st) st = api->GetDimensionsCount(info, &rank);
  if (!st) {
    out->desc.dims.assign(rank, 0);
    st = api->GetDimensions(info, out->desc.dims.data(), rank);
  }
  api->ReleaseTensorTypeAndShapeInfo(info);
  if (st) return st;
  out->desc.present = true;
  out->desc.elem_type = static_cast<int32_t>(type);
  out->value = v;
  void* data = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->GetTensorMutableData(const_cast<OrtValue*>(v), &data));
  out->data = data;
  return nullptr;
}

// The data pointer of output `index` with `shape`; null when the node omits that output.
inline OrtStatus* get_output(const OrtApi* api, OrtKernelContext* ctx, size_t count, size_t index,
                             const std::vector<int64_t>& shape, void** data) {
  *data = nullptr;
  if (index >= count) return nullptr;
  OrtValue* v = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetOutput(ctx, index, shape.data(), shape.size(), &v));
  if (!v) return nullptr;  // output omitted by an empty name
  return api->GetTensorMutableData(v, data);
}

// Reads every input of onnx_rnn.LSTM and validates them against the attributes and each other
// (docs/custom_op.md), as both kernels must before touching data; `num_outputs` is the node's output count.
inline OrtStatus* read_lstm_inputs(const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs, int32_t elem_type,
                                   InputView (&in)[kNumInputs], LstmDims* dims, size_t* num_outputs) {
  size_t nin = 0;
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetInputCount(ctx, &nin));
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetOutputCount(ctx, num_outputs));
  if (nin > kNumInputs) {
    return make_status(api, ORT_INVALID_ARGUMENT, "onnx_rnn.LSTM: at most 8 inputs, got " + std::to_string(nin));
  }
  TensorDesc desc[kNumInputs];
  for (size_t k = 0; k < nin; ++k) {
    ONNX_RNN_RETURN_IF_ERROR(read_input(api, ctx, k, &in[k]));
    desc[k] = in[k].desc;
  }
  const std::string err = validate_lstm_inputs(attrs, desc, kNumInputs, elem_type, dims);
  if (!err.empty()) return make_status(api, ORT_INVALID_ARGUMENT, err);
  return nullptr;
}

// Allocates the outputs the node has: Y (T, D, N, S), Y_h (D, N, S), Y_c (D, N, H); null for omitted ones.
inline OrtStatus* get_lstm_outputs(const OrtApi* api, OrtKernelContext* ctx, size_t num_outputs, const LstmDims& d,
                                   void** y, void** y_h, void** y_c) {
  ONNX_RNN_RETURN_IF_ERROR(get_output(api, ctx, num_outputs, kY, {d.T, d.D, d.N, d.S}, y));
  ONNX_RNN_RETURN_IF_ERROR(get_output(api, ctx, num_outputs, kYh, {d.D, d.N, d.S}, y_h));
  return get_output(api, ctx, num_outputs, kYc, {d.D, d.N, d.H}, y_c);
}

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_KERNEL_IO_H_
