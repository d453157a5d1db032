// CPU kernel of onnx_rnn::LSTM: float32, float64, and float16 (MLFloat16) computed in float32.
#ifndef ONNX_RNN_OPS_LSTM_CPU_H_
#define ONNX_RNN_OPS_LSTM_CPU_H_

#include "half_convert.h"
#include "lstm_params.h"
#include "onnxruntime_c_api.h"

namespace onnx_rnn {

// Validates the inputs, allocates the requested outputs and runs the LSTM. Never throws; returns nullptr or an
// ORT status (ORT_INVALID_ARGUMENT for bad inputs). T is the element type of the float inputs and outputs:
// float, double, or Half (float16: converted to float32, run by the float32 algorithm, outputs rounded back).
template <typename T>
OrtStatus* lstm_compute_cpu(const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs) noexcept;

extern template OrtStatus* lstm_compute_cpu<float>(const OrtApi*, OrtKernelContext*, const LstmAttrs&) noexcept;
extern template OrtStatus* lstm_compute_cpu<double>(const OrtApi*, OrtKernelContext*, const LstmAttrs&) noexcept;
extern template OrtStatus* lstm_compute_cpu<Half>(const OrtApi*, OrtKernelContext*, const LstmAttrs&) noexcept;

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_LSTM_CPU_H_
