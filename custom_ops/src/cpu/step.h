// The step pass of the CPU kernel: one layer direction, from packed weights to Y, Y_h and Y_c.
#ifndef ONNX_RNN_OPS_CPU_STEP_H_
#define ONNX_RNN_OPS_CPU_STEP_H_

#include <cstdint>

#include "cpu/gemm.h"
#include "cpu/runner.h"
#include "lstm_params.h"

namespace onnx_rnn {

// One direction's inputs and outputs, all raw pointers already offset to the direction.
template <typename T>
struct DirectionJob {
  const T* X = nullptr;    // (T, N, I)
  const T* W = nullptr;    // (4H, I), or null when packW is given
  const T* R = nullptr;    // (4H, S), or null when packR is given
  const T* B = nullptr;    // (8H) or null
  const T* h0 = nullptr;   // (N, S) or null
  const T* c0 = nullptr;   // (N, H) or null
  const T* Pw = nullptr;   // (P, H) or null
  const int32_t* lens = nullptr;  // (N) or null
  // Packed at kernel creation (constant inputs, WeightLayout order) or null: then W, R, Pw and B are packed
  // (bias summed) per call.
  const T* packW = nullptr;
  const T* packR = nullptr;
  const T* packP = nullptr;
  const T* bias = nullptr;  // (4H) Wb + Rb in chunk order
  T* Y = nullptr;          // (T, D, N, S) base + d * N * S, or null
  T* Yh = nullptr;         // (N, S) or null
  T* Yc = nullptr;         // (N, H) or null
  bool reverse = false;
};

// Runs one direction (README "The CPU kernel"): packs what is not packed yet and X, the input-projection
// GEMM for all steps, then per step the recurrent GEMM + gate pass per unit chunk (and the projection GEMM).
// Errors are recorded in `runner` (check runner.failed()).
template <typename T>
void run_direction(const GemmKernel<T>& gemm, const LstmDims& dims, const LstmAttrs& attrs, Runner& runner,
                   const DirectionJob<T>& job);

extern template void run_direction<float>(const GemmKernel<float>&, const LstmDims&, const LstmAttrs&, Runner&,
                                          const DirectionJob<float>&);
extern template void run_direction<double>(const GemmKernel<double>&, const LstmDims&, const LstmAttrs&, Runner&,
                                           const DirectionJob<double>&);

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_STEP_H_
