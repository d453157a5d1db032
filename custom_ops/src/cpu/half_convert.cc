// float16 <-> float32 in bulk (half_convert.h): the F16C loop for whole groups of 8 when the dispatched path
// has F16C, the portable scalar code for the rest.
#include "cpu/half_convert.h"

namespace onnx_rnn {

void half_to_float(const Half* src, float* dst, size_t n, bool f16c) {
  size_t i = 0;
  if (f16c) {
    i = n - n % 8;
    half_to_float_f16c(src, dst, i);
  }
  for (; i < n; ++i) dst[i] = half_bits_to_float(src[i].bits);
}

void float_to_half(const float* src, Half* dst, size_t n, bool f16c) {
  size_t i = 0;
  if (f16c) {
    i = n - n % 8;
    float_to_half_f16c(src, dst, i);
  }
  for (; i < n; ++i) dst[i].bits = float_to_half_bits(src[i]);
}

}  // namespace onnx_rnn
