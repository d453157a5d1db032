// The F16C conversion loops (compiled with -mavx -mf16c, see CMakeLists.txt; called only when the CPU has
// F16C, half_convert.cc). Intrinsics only: no inline function shared with other translation units.
#include <immintrin.h>

#include "cpu/half_convert.h"

namespace onnx_rnn {

void half_to_float_f16c(const Half* src, float* dst, size_t n) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
}

void float_to_half_f16c(const float* src, Half* dst, size_t n) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
}

}  // namespace onnx_rnn
