// float32 GEMM on operands packed ahead of time, with a register-blocked AVX2/FMA micro-kernel.
//
// Same interface and semantics as PackedGemm<float> (packed_gemm.h), which is the portable fallback:
//   out (n x m, row-major, leading dimension ldo) += B (n x k) * A^T, with A (m x k) the weights, packed once,
//   and B (n x k) the state h (n = batch, e.g. 8) or the input rows X, packed per step / per call.
// Eigen's gebp has the same 4 x 24 register blocking but, compiled by GCC, reads A with memory-operand FMAs
// (12 vector loads + 4 broadcasts per 12 FMAs: load-port bound, ~70 GFLOP/s per core on Zen 3). This kernel
// holds the 3 vectors of A in registers (3 loads + 4 broadcasts per 12 FMAs) and prefetches the A panel,
// ~95 GFLOP/s per core (numbers in custom_ops/README.md).
//
// Packed formats (float elements; panel sizes are multiples of 8, so 32-byte alignment carries through):
//   A: panels of kPanel = 24 columns (rows of A), the last one zero-padded to a multiple of 8 columns; panel
//      `q` starts at q * 24 * k and holds, for each depth p, its (padded) width of A[i][p] values.
//   B: groups of 4 rows, the last one zero-padded; group g starts at g * 4 * k and holds B[4g + r][p] at
//      p * 4 + r.
// Per (panel, depth block of kDepthBlock, row group) the micro-kernel loads the panel's 1-3 vectors of A per
// depth step, broadcasts the group's 1-4 B values and accumulates with FMA; the depth block keeps the panel
// in L1 while every row group walks it.
#ifndef ONNX_RNN_OPS_SGEMM_AVX2_H_
#define ONNX_RNN_OPS_SGEMM_AVX2_H_

#if defined(__AVX2__) && defined(__FMA__)
#define ONNX_RNN_SGEMM_AVX2 1

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace onnx_rnn {

struct Avx2PackedGemm {
  using Index = std::ptrdiff_t;
  static constexpr Index kPanel = 24;       // columns (rows of A) per panel: 3 ymm vectors
  static constexpr Index kGroup = 4;        // rows of B per group
  static constexpr Index kDepthBlock = 256;  // depth per pass: a 24-wide panel block is 24 KiB
  // Depth steps ahead that the A panel is prefetched (~1.5 KiB). The weights stream from L3 at every time
  // step and the hardware prefetcher alone leaves the kernel at ~45 GFLOP/s instead of ~90 (Zen 3 VM).
  // Prefetching past the panel's end is harmless (a hint, no fault).
  static constexpr Index kPrefetch = 16;

  static Index round8(Index n) { return (n + 7) / 8 * 8; }

  // Elements needed to hold `rows` rows of A or of B of depth k, packed (either format fits).
  static size_t packed_size(Index rows, Index k) { return static_cast<size_t>(round8(rows) * k + 16); }

  // Packs A (m x k, row-major, leading dimension lda) into dst (packed_size(m, k) elements).
  static void pack_a(float* dst, const float* A, Index lda, Index m, Index k) {
    for (Index i0 = 0; i0 < m; i0 += kPanel) {
      const Index cols = std::min(kPanel, m - i0), w = round8(cols);
      float* panel = dst + i0 * k;
      for (Index p = 0; p < k; ++p) {
        float* row = panel + p * w;
        for (Index c = 0; c < cols; ++c) row[c] = A[(i0 + c) * lda + p];
        for (Index c = cols; c < w; ++c) row[c] = 0.0f;
      }
    }
  }

  // Packs B (n x k, row-major, leading dimension ldb) into dst (packed_size(n, k) elements).
  static void pack_b(float* dst, const float* B, Index ldb, Index n, Index k) {
    for (Index r0 = 0; r0 < n; r0 += kGroup) {
      const Index rows = std::min(kGroup, n - r0);
      float* group = dst + r0 * k;
      if (rows == kGroup) {
        const float* b0 = B + r0 * ldb;
        const float* b1 = b0 + ldb;
        const float* b2 = b1 + ldb;
        const float* b3 = b2 + ldb;
        Index p = 0;
        for (; p + 4 <= k; p += 4) {  // 4 x 4 transpose
          __m128 x0 = _mm_loadu_ps(b0 + p), x1 = _mm_loadu_ps(b1 + p);
          __m128 x2 = _mm_loadu_ps(b2 + p), x3 = _mm_loadu_ps(b3 + p);
          _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
          _mm_storeu_ps(group + p * 4, x0);
          _mm_storeu_ps(group + p * 4 + 4, x1);
          _mm_storeu_ps(group + p * 4 + 8, x2);
          _mm_storeu_ps(group + p * 4 + 12, x3);
        }
        for (; p < k; ++p) {
          group[p * 4 + 0] = b0[p];
          group[p * 4 + 1] = b1[p];
          group[p * 4 + 2] = b2[p];
          group[p * 4 + 3] = b3[p];
        }
      } else {
        for (Index p = 0; p < k; ++p)
          for (Index r = 0; r < kGroup; ++r) group[p * 4 + r] = r < rows ? B[(r0 + r) * ldb + p] : 0.0f;
      }
    }
  }

  // out += B * A^T from packed operands (m rows of A, n rows of B, depth k).
  static void run(float* out, Index ldo, const float* packed_a, const float* packed_b, Index m, Index n, Index k) {
    for (Index i0 = 0; i0 < m; i0 += kPanel) {
      const Index cols = std::min(kPanel, m - i0);
      const int nv = static_cast<int>((cols + 7) / 8);
      const float* panel = packed_a + i0 * k;
      for (Index k0 = 0; k0 < k; k0 += kDepthBlock) {
        const Index kc = std::min(kDepthBlock, k - k0);
        const float* a = panel + k0 * nv * 8;
        for (Index r0 = 0; r0 < n; r0 += kGroup) {
          const int rows = static_cast<int>(std::min(kGroup, n - r0));
          const float* b = packed_b + r0 * k + k0 * kGroup;
          float* o = out + r0 * ldo + i0;
          const int c = static_cast<int>(cols);
          switch (nv * 4 + rows - 1) {
            case 4 + 0: tile<1, 1>(a, b, kc, o, ldo, c); break;
            case 4 + 1: tile<2, 1>(a, b, kc, o, ldo, c); break;
            case 4 + 2: tile<3, 1>(a, b, kc, o, ldo, c); break;
            case 4 + 3: tile<4, 1>(a, b, kc, o, ldo, c); break;
            case 8 + 0: tile<1, 2>(a, b, kc, o, ldo, c); break;
            case 8 + 1: tile<2, 2>(a, b, kc, o, ldo, c); break;
            case 8 + 2: tile<3, 2>(a, b, kc, o, ldo, c); break;
            case 8 + 3: tile<4, 2>(a, b, kc, o, ldo, c); break;
            case 12 + 0: tile<1, 3>(a, b, kc, o, ldo, c); break;
            case 12 + 1: tile<2, 3>(a, b, kc, o, ldo, c); break;
            case 12 + 2: tile<3, 3>(a, b, kc, o, ldo, c); break;
            default: tile<4, 3>(a, b, kc, o, ldo, c); break;
          }
        }
      }
    }
  }

 private:
  // Accumulators of one depth step: rows r < MR of B times the NV vectors of A at ap (bp: the group's 4 values).
  // Named variables, not an array: GCC 12 keeps a 3 x 4 __m256 array in memory inside the loop.
  template <int MR, int NV>
  struct Acc {
    __m256 c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
    Acc() {
      c00 = c01 = c02 = c10 = c11 = c12 = c20 = c21 = c22 = c30 = c31 = c32 = _mm256_setzero_ps();
    }
    __attribute__((always_inline)) inline void step(const float* ap, const float* bp) {
      __m256 a0 = _mm256_loadu_ps(ap);
      __m256 a1 = NV > 1 ? _mm256_loadu_ps(ap + 8) : a0;
      __m256 a2 = NV > 2 ? _mm256_loadu_ps(ap + 16) : a0;
      // Keep A in registers: GCC otherwise folds each load into its FMAs (vfmadd231ps mem, ...), 12 vector
      // loads + 4 broadcasts per 12 FMAs, and the load ports, not the FMA units, set the pace (72 vs 86
      // GFLOP/s per core in L1 on Zen 3).
      asm("" : "+x"(a0), "+x"(a1), "+x"(a2));
      row(c00, c01, c02, a0, a1, a2, bp[0]);
      if (MR > 1) row(c10, c11, c12, a0, a1, a2, bp[1]);
      if (MR > 2) row(c20, c21, c22, a0, a1, a2, bp[2]);
      if (MR > 3) row(c30, c31, c32, a0, a1, a2, bp[3]);
    }
    __attribute__((always_inline)) static inline void row(__m256& x0, __m256& x1, __m256& x2, __m256 a0, __m256 a1,
                                                          __m256 a2, float bv) {
      const __m256 b = _mm256_set1_ps(bv);
      x0 = _mm256_fmadd_ps(a0, b, x0);
      if (NV > 1) x1 = _mm256_fmadd_ps(a1, b, x1);
      if (NV > 2) x2 = _mm256_fmadd_ps(a2, b, x2);
    }
    void add(const Acc& o) {
      c00 = _mm256_add_ps(c00, o.c00), c01 = _mm256_add_ps(c01, o.c01), c02 = _mm256_add_ps(c02, o.c02);
      c10 = _mm256_add_ps(c10, o.c10), c11 = _mm256_add_ps(c11, o.c11), c12 = _mm256_add_ps(c12, o.c12);
      c20 = _mm256_add_ps(c20, o.c20), c21 = _mm256_add_ps(c21, o.c21), c22 = _mm256_add_ps(c22, o.c22);
      c30 = _mm256_add_ps(c30, o.c30), c31 = _mm256_add_ps(c31, o.c31), c32 = _mm256_add_ps(c32, o.c32);
    }
  };

  // o[r][c] += sum_p b[p * 4 + r] * a[p * NV * 8 + c] for r < MR, c < cols (cols in (8 (NV - 1), 8 NV]).
  // With fewer than 8 accumulators the depth is split over two accumulator sets (even and odd p) so that the
  // FMA latency is covered.
  template <int MR, int NV>
  static inline void tile(const float* a, const float* b, Index kc, float* o, Index ldo, int cols) {
    constexpr int W = NV * 8;
    Acc<MR, NV> x;
    Index p = 0;
    if (MR * NV < 8) {
      Acc<MR, NV> y;
      for (; p + 2 <= kc; p += 2) {
        _mm_prefetch(reinterpret_cast<const char*>(a + (p + kPrefetch) * W), _MM_HINT_T0);
        x.step(a + p * W, b + p * kGroup);
        y.step(a + (p + 1) * W, b + (p + 1) * kGroup);
      }
      x.add(y);
    }
    for (; p < kc; ++p) {
      _mm_prefetch(reinterpret_cast<const char*>(a + (p + kPrefetch) * W), _MM_HINT_T0);
      x.step(a + p * W, b + p * kGroup);
    }

    const __m256 acc[4][3] = {{x.c00, x.c01, x.c02}, {x.c10, x.c11, x.c12}, {x.c20, x.c21, x.c22}, {x.c30, x.c31, x.c32}};
    const int full = cols == W ? NV : NV - 1;  // vectors stored whole
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < full; ++v) {
        float* dst = o + r * ldo + v * 8;
        _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), acc[r][v]));
      }
    if (full < NV) {
      const int tail = cols - (NV - 1) * 8;  // 1..7 columns in the last vector
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      for (int r = 0; r < MR; ++r) {
        float* dst = o + r * ldo + (NV - 1) * 8;
        _mm256_maskstore_ps(dst, mask, _mm256_add_ps(_mm256_maskload_ps(dst, mask), acc[r][NV - 1]));
      }
    }
  }
};

}  // namespace onnx_rnn

#endif  // __AVX2__ && __FMA__
#endif  // ONNX_RNN_OPS_SGEMM_AVX2_H_
