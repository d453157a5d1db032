// CPU kernel of onnx_rnn::LSTM: float32, float64, and float16 (MLFloat16) computed in float32.
#ifndef ONNX_RNN_OPS_LSTM_CPU_H_
#define ONNX_RNN_OPS_LSTM_CPU_H_

#include "cpu/half_convert.h"
#include "lstm_params.h"
#include "onnxruntime_c_api.h"

namespace onnx_rnn {

// One kernel instance (one node of a session). Created in the op's CreateKernel: W, R, B and the projection,
// when they are constant initializers, are packed there once; compute() uses those packs (read-only) and packs
// only the inputs that are not constant. compute() may run concurrently on one instance (per-call scratch).
class LstmCpuKernel {
 public:
  virtual ~LstmCpuKernel() = default;
  // Validates the inputs, allocates the requested outputs and runs the LSTM. Never throws; returns nullptr or
  // an ORT status (ORT_INVALID_ARGUMENT for bad inputs).
  virtual OrtStatus* compute(const OrtApi* api, OrtKernelContext* ctx) const noexcept = 0;
};

// Creates the kernel for element type T (float, double, or Half: float16 converted to float32, run by the
// float32 algorithm, outputs rounded back). Never throws; *out is null when a status is returned.
template <typename T>
OrtStatus* lstm_create_cpu(const OrtApi* api, const OrtKernelInfo* info, const LstmAttrs& attrs,
                           LstmCpuKernel** out) noexcept;

using LstmCpuCreateFn = OrtStatus* (*)(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                       LstmCpuKernel**) noexcept;

extern template OrtStatus* lstm_create_cpu<float>(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                                  LstmCpuKernel**) noexcept;
extern template OrtStatus* lstm_create_cpu<double>(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                                   LstmCpuKernel**) noexcept;
extern template OrtStatus* lstm_create_cpu<Half>(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                                 LstmCpuKernel**) noexcept;

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_LSTM_CPU_H_
