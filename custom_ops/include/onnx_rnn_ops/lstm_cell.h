// Cell math of the onnx_rnn::LSTM custom operator (docs/custom_op.md), shared by the CPU and CUDA kernels.
//
// Everything here is a scalar, header-only, ONNX_RNN_HOST_DEVICE inline function: __host__ __device__ under
// nvcc, plain inline elsewhere. The CPU kernel vectorizes the activations itself (Eigen) and uses the clip
// functions from here in an auto-vectorized loop; a CUDA kernel can call lstm_cell_step() per (batch, unit).
#ifndef ONNX_RNN_OPS_LSTM_CELL_H_
#define ONNX_RNN_OPS_LSTM_CELL_H_

#if defined(__CUDACC__)
#define ONNX_RNN_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define ONNX_RNN_HOST_DEVICE inline
#endif

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace onnx_rnn {
namespace cell {

// Gate order inside one (batch row, hidden unit) group, as in ONNX: i, o, f, c.
enum Gate : int { kGateI = 0, kGateO = 1, kGateF = 2, kGateC = 3, kNumGates = 4 };

// Cell-state clipping, as carried by the kernels. `enabled` false means no clipping at all.
template <typename T>
struct Clip {
  bool enabled;
  bool nan_to_min;  // clip_nan = 1: NaN becomes lo (fmax/fmin semantics); 0: NaN propagates
  T lo;
  T hi;
};

ONNX_RNN_HOST_DEVICE float exp_(float x) { return expf(x); }
ONNX_RNN_HOST_DEVICE double exp_(double x) { return exp(x); }
ONNX_RNN_HOST_DEVICE float tanh_(float x) { return tanhf(x); }
ONNX_RNN_HOST_DEVICE double tanh_(double x) { return tanh(x); }

template <typename T>
ONNX_RNN_HOST_DEVICE T sigmoid(T x) {
  return T(1) / (T(1) + exp_(-x));
}

// Clamp to [lo, hi] keeping NaN: every comparison with NaN is false, so NaN falls through unchanged.
// Written with comparisons (not fmin/fmax) so that it vectorizes to compare+blend.
template <typename T>
ONNX_RNN_HOST_DEVICE T clamp_keep_nan(T c, T lo, T hi) {
  return c < lo ? lo : (c > hi ? hi : c);
}

// Clamp to [lo, hi] turning NaN into lo: the same result as fmin(fmax(c, lo), hi) for lo <= hi
// (fmax(NaN, lo) = lo), again comparison-only.
template <typename T>
ONNX_RNN_HOST_DEVICE T clamp_nan_to_min(T c, T lo, T hi) {
  return c >= lo ? (c > hi ? hi : c) : lo;
}

template <typename T>
ONNX_RNN_HOST_DEVICE T clip_cell(T c, const Clip<T>& clip) {
  if (!clip.enabled) return c;
  return clip.nan_to_min ? clamp_nan_to_min(c, clip.lo, clip.hi) : clamp_keep_nan(c, clip.lo, clip.hi);
}

// c' = clip(f * c + i * c~), from activated gates.
template <typename T>
ONNX_RNN_HOST_DEVICE T cell_update(T i, T f, T c_tilde, T c_prev, const Clip<T>& clip) {
  return clip_cell(f * c_prev + i * c_tilde, clip);
}

// One full unit from gate pre-activations (input projection + recurrent product + both biases already summed):
// writes the new cell value and the (unprojected) hidden value.
template <typename T>
ONNX_RNN_HOST_DEVICE void lstm_cell_step(T pre_i, T pre_o, T pre_f, T pre_c, T c_prev, const Clip<T>& clip, T* c_out,
                                         T* h_out) {
  const T i = sigmoid(pre_i);
  const T o = sigmoid(pre_o);
  const T f = sigmoid(pre_f);
  const T ct = tanh_(pre_c);
  const T c = cell_update(i, f, ct, c_prev, clip);
  *c_out = c;
  *h_out = o * tanh_(c);
}

}  // namespace cell
}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_LSTM_CELL_H_
