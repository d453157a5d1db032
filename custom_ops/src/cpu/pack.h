// Weight packing of the CPU kernel: where each unit chunk's gate rows (W, R) and each projection tile lie in
// a direction's packed buffers, and the packs made once at kernel creation for constant weights.
//
// W and R rows are put in "unit-chunk interleaved" order: hidden units are cut into chunks of kChunk units,
// and each chunk's i, o, f, c gate rows lie next to each other, so one column block of the gate matrix holds
// every gate of a set of units and the step pass (step.h) runs a chunk's recurrent GEMM and gate math in one
// task. The summed bias (Wb + Rb) is laid out the same way. The packed format itself is the GEMM table's
// (gemm.h): packs are only ever used with the table that made them.
#ifndef ONNX_RNN_OPS_CPU_PACK_H_
#define ONNX_RNN_OPS_CPU_PACK_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu/aligned_buffer.h"
#include "cpu/gemm.h"
#include "cpu/runner.h"

namespace onnx_rnn {

// Hidden units per chunk (a task of the step pass). 64 units -> 256 gate rows; with S = 256 a packed float R
// chunk is 256 KiB, half a Zen 3 L2. (Measured: 48..120 units per chunk run at the same GEMM speed.)
constexpr int64_t kChunk = 64;
// Columns of P per task of the projection GEMM.
constexpr int64_t kProjCols = 64;

// The W offsets depend only on (H, I), the R offsets on (H, S), the projection's on (H, P), so packs made at
// kernel creation (where some sizes may be unknown, passed as 0) and per call agree whenever the packed
// input's shape does.
template <typename T>
struct WeightLayout {
  const GemmKernel<T>& gemm;
  Blocks units, ptiles;
  std::vector<size_t> w_off, r_off, p_off;  // count + 1 entries; back() is the total

  WeightLayout(const GemmKernel<T>& g, int64_t H, int64_t I, int64_t S, int64_t P)
      : gemm(g), units(H, kChunk), ptiles(P, kProjCols) {
    w_off.assign(static_cast<size_t>(units.count) + 1, 0);
    r_off = w_off;
    for (int64_t k = 0; k < units.count; ++k) {
      w_off[k + 1] = w_off[k] + gemm.packed_size(4 * units.size(k), I);
      r_off[k + 1] = r_off[k] + gemm.packed_size(4 * units.size(k), S);
    }
    p_off.assign(static_cast<size_t>(ptiles.count) + 1, 0);
    for (int64_t t = 0; t < ptiles.count; ++t) p_off[t + 1] = p_off[t] + gemm.packed_size(ptiles.size(t), H);
  }

  // Packs the rows of gates i, o, f, c of unit chunk k of M (4H, K) -- W (K = I) or R (K = S) -- into dst
  // (the chunk's block). tmp is scratch.
  void pack_chunk(T* dst, const T* M, int64_t K, int64_t k, std::vector<T>& tmp) const {
    if (K == 0) return;
    const int64_t H = units.n, j0 = units.begin(k), w = units.size(k);
    tmp.resize(static_cast<size_t>(4 * w * K));
    for (int g = 0; g < 4; ++g) std::copy(M + (g * H + j0) * K, M + (g * H + j0 + w) * K, tmp.data() + g * w * K);
    gemm.pack_a(dst, tmp.data(), K, 4 * w, K);
  }

  // bias (4H, chunk order) for unit chunk k: Wb + Rb of B (8H).
  void chunk_bias(T* bias, const T* B, int64_t k) const {
    const int64_t H = units.n, j0 = units.begin(k), w = units.size(k);
    for (int g = 0; g < 4; ++g) {
      for (int64_t u = 0; u < w; ++u) bias[4 * j0 + g * w + u] = B[g * H + j0 + u] + B[4 * H + g * H + j0 + u];
    }
  }

  // Packs column tile t of the projection Pw (P, H) into dst (the tile's block).
  void pack_tile(T* dst, const T* Pw, int64_t t) const {
    const int64_t H = units.n;
    gemm.pack_a(dst, Pw + ptiles.begin(t) * H, H, ptiles.size(t), H);
  }

  // All of one direction's W (or R) chunks, single-threaded (kernel creation).
  void pack_all_chunks(AlignedBuffer<T>& dst, const std::vector<size_t>& off, const T* M, int64_t K) const {
    std::vector<T> tmp;
    dst.resize(off.back());
    for (int64_t k = 0; k < units.count; ++k) pack_chunk(dst.data() + off[k], M, K, k, tmp);
  }
};

// W, R, B and the projection packed once, at kernel creation, for those that are constant initializers.
// Written only by CpuKernel::init(); read-only afterwards, so concurrent compute() calls share it safely.
template <typename T>
struct ConstPacks {
  struct Input {
    bool cached = false;
    std::vector<int64_t> dims;  // the constant's shape: a call uses the pack only when its input has this shape
  };
  Input W, R, B, P;
  struct Direction {
    AlignedBuffer<T> W, R, P;  // WeightLayout order
    std::vector<T> bias;       // (4H) Wb + Rb in chunk order
  };
  std::vector<Direction> dirs;
};

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_PACK_H_
