// IEEE 754 binary16 (ONNX float16, ONNX Runtime's MLFloat16) <-> float32 conversion for the CPU kernel.
//
// Scalar functions are portable integer code: half -> float is exact; float -> half rounds to nearest, ties to
// even, overflows to infinity (|x| >= 65520), produces half subnormals, and keeps NaN a (quiet) NaN with the sign
// and the top payload bits. Neither depends on the floating-point environment (rounding mode, FTZ/DAZ).
// The bulk functions (half_convert.cc) use the F16C instructions (vcvtph2ps / vcvtps2ph, the same IEEE
// conversions; half_convert_f16c.cc, compiled with -mf16c) when asked to (the dispatched path has F16C,
// gemm_dispatch.h), else the scalar code.
#ifndef ONNX_RNN_OPS_CPU_HALF_CONVERT_H_
#define ONNX_RNN_OPS_CPU_HALF_CONVERT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace onnx_rnn {

// One float16 value (its bits): the element type of the CPU float16 kernel's inputs and outputs.
struct Half {
  uint16_t bits;
};
static_assert(sizeof(Half) == 2, "Half must be 2 bytes (ONNX Runtime's MLFloat16 layout)");

inline float half_bits_to_float(uint16_t h) {
  const uint32_t hb = h;  // unsigned before any bit operation (h alone promotes to int)
  const uint32_t sign = (hb & 0x8000u) << 16;
  const uint32_t exp = (hb >> 10) & 0x1fu;
  uint32_t mant = hb & 0x3ffu;
  uint32_t bits = 0;
  if (exp == 0x1f) {  // infinity, or NaN: quiet (as vcvtph2ps does), payload kept
    bits = sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0u);
  } else if (exp != 0) {  // normal: rebias the exponent from 15 to 127
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {  // signed zero
    bits = sign;
  } else {             // subnormal mant * 2^-24: normalize (a normal float)
    uint32_t e = 113;  // the float exponent field of 2^-14, before the shifts
    while (!(mant & 0x400u)) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  float f = 0.f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint16_t float_to_half_bits(float f) {
  uint32_t x = 0;
  std::memcpy(&x, &f, sizeof x);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) {  // NaN: quiet, top payload bits kept
    return static_cast<uint16_t>(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
  }
  if (x >= 0x477ff000u) {  // >= 65520 = 65504 + half an ulp (the tie goes to the even neighbour, 2^16) or inf
    return static_cast<uint16_t>(sign | 0x7c00u);
  }
  if (x >= 0x38800000u) {  // >= 2^-14: a normal half. Rebias 127 -> 15, round 23 -> 10 mantissa bits (RNE);
    x -= 0x38000000u;      // a mantissa carry moves into the exponent, which is what rounding up means
    x += 0xfffu + ((x >> 13) & 1u);
    return static_cast<uint16_t>(sign | (x >> 13));
  }
  if (x < 0x33000000u) {  // < 2^-25: below half the smallest subnormal, rounds to zero
    return sign;
  }
  // A half subnormal r * 2^-24: r = round(m * 2^(e - 150) / 2^-24) = round(m >> (126 - e)), shift in [14, 24].
  const uint32_t e = x >> 23;
  const uint32_t m = (x & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - e;
  uint32_t r = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  if (rem > halfway || (rem == halfway && (r & 1u))) ++r;  // r = 0x400 is the smallest normal: also right
  return static_cast<uint16_t>(sign | r);
}

// n values; with f16c the F16C instructions (the caller checked that the CPU has them), else scalar code. Same
// results either way.
void half_to_float(const Half* src, float* dst, size_t n, bool f16c);
void float_to_half(const float* src, Half* dst, size_t n, bool f16c);

// The F16C loops (half_convert_f16c.cc): the first n - n % 8 values.
void half_to_float_f16c(const Half* src, float* dst, size_t n);
void float_to_half_f16c(const float* src, Half* dst, size_t n);

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_HALF_CONVERT_H_
