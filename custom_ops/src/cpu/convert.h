// Type conversion of the CPU kernel: float16 inputs into float32 scratch and float32 results back, on the
// thread pool (float32 and float64 pass through untouched).
#ifndef ONNX_RNN_OPS_CPU_CONVERT_H_
#define ONNX_RNN_OPS_CPU_CONVERT_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "cpu/aligned_buffer.h"
#include "cpu/half_convert.h"
#include "cpu/runner.h"
#include "onnxruntime_c_api.h"

namespace onnx_rnn {

// The element type of a kernel's float inputs and outputs (IO), the type the algorithm computes in (Compute),
// and the ONNX element type validated against. float16 is computed in float32: inputs are converted into
// float32 scratch, the float32 algorithm runs on it (the state, c included, stays float32 for the whole call),
// and only the outputs are rounded back to float16.
template <typename IO>
struct IoType;
template <>
struct IoType<float> {
  using Compute = float;
  static constexpr int32_t kOnnx = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
};
template <>
struct IoType<double> {
  using Compute = double;
  static constexpr int32_t kOnnx = ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
};
template <>
struct IoType<Half> {
  using Compute = float;
  static constexpr int32_t kOnnx = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
};

// Elements per conversion task (64K: ~1/4 MiB of float32 written per task).
constexpr int64_t kConvertBlock = int64_t{64} * 1024;

// An input in the compute type: the tensor itself when IO is the compute type, else converted into scratch
// (on the thread pool, in blocks).
template <typename IO, typename T>
const T* as_compute(const void* data, int64_t n, std::vector<AlignedBuffer<T>>& scratch, Runner& runner, bool f16c) {
  if (!data) return nullptr;
  if constexpr (std::is_same<IO, T>::value) {
    return static_cast<const T*>(data);
  } else {
    const IO* src = static_cast<const IO*>(data);
    scratch.emplace_back(static_cast<size_t>(std::max<int64_t>(n, 1)));
    T* dst = scratch.back().data();
    const Blocks blocks(n, kConvertBlock);
    auto task = [&](size_t k) {
      const int64_t b = static_cast<int64_t>(k);
      half_to_float(src + blocks.begin(b), dst + blocks.begin(b), static_cast<size_t>(blocks.size(b)), f16c);
    };
    runner.run(static_cast<size_t>(blocks.count), task);
    return dst;
  }
}

// An output in the compute type: the tensor itself, or float32 scratch that from_compute() writes back.
template <typename IO, typename T>
T* out_compute(void* data, int64_t n, std::vector<AlignedBuffer<T>>& scratch) {
  if (!data) return nullptr;
  if constexpr (std::is_same<IO, T>::value) {
    return static_cast<T*>(data);
  } else {
    scratch.emplace_back(static_cast<size_t>(std::max<int64_t>(n, 1)));
    return scratch.back().data();
  }
}

template <typename IO, typename T>
void from_compute(const T* src, void* data, int64_t n, Runner& runner, bool f16c) {
  if constexpr (!std::is_same<IO, T>::value) {
    if (!data) return;
    IO* dst = static_cast<IO*>(data);
    const Blocks blocks(n, kConvertBlock);
    auto task = [&](size_t k) {
      const int64_t b = static_cast<int64_t>(k);
      float_to_half(src + blocks.begin(b), dst + blocks.begin(b), static_cast<size_t>(blocks.size(b)), f16c);
    };
    runner.run(static_cast<size_t>(blocks.count), task);
  }
}

// `n` elements at element offset `offset` of a constant in the compute type: the data itself, or converted
// into buf (float16).
template <typename IO, typename T>
const T* const_as_compute(const void* data, int64_t offset, int64_t n, std::vector<T>& buf, bool f16c) {
  if constexpr (std::is_same<IO, T>::value) {
    return static_cast<const T*>(data) + offset;
  } else {
    buf.resize(static_cast<size_t>(n));
    half_to_float(static_cast<const IO*>(data) + offset, buf.data(), static_cast<size_t>(n), f16c);
    return buf.data();
  }
}

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_CONVERT_H_
