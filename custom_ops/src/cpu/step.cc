// The step pass of the CPU kernel (step.h). Per layer direction:
//   1. W, R and P are packed (pack.h) unless packed at kernel creation, and X is packed, in one parallel pass.
//   2. XW = X (T*N, I) x W^T + (Wb + Rb): one GEMM for all time steps, tiled in (row block, unit chunk) tasks.
//   3. Per step: h is packed once; one parallel pass over unit chunks: G = XW[t] + h (N, S) x R_chunk^T, then
//      activations + clip + state update + sequence-length masking for those units (the cell math of
//      onnx_rnn_ops/lstm_cell.h, vectorized with Eigen's logistic/tanh); with projection a second pass over
//      column tiles of P: h = h_full (N, H) x P_tile^T.
// The GEMMs are the dispatched table's (gemm_dispatch.h), single-threaded; all parallelism comes from ONNX
// Runtime's intra-op pool (Runner).
#include "cpu/step.h"

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "cpu/aligned_buffer.h"
#include "cpu/pack.h"
#include "onnx_rnn_ops/lstm_cell.h"

namespace onnx_rnn {
namespace {

template <typename T>
using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using MapArr = Eigen::Map<Arr<T>>;

// Rows of X per task of the input-projection GEMM.
constexpr int64_t kXRows = 256;

template <typename T>
class LstmDirection {
 public:
  LstmDirection(const GemmKernel<T>& gemm, const LstmDims& dims, const LstmAttrs& attrs, Runner& runner)
      : gemm_(gemm), d_(dims), runner_(runner), layout_(gemm, dims.H, dims.I, dims.S, dims.has_proj ? dims.P : 0) {
    clip_.enabled = attrs.has_clip;
    clip_.nan_to_min = attrs.clip_nan;
    clip_.lo = static_cast<T>(attrs.clip_min);
    clip_.hi = static_cast<T>(attrs.clip_max);
  }

  void run(const DirectionJob<T>& job) {
    const int64_t N = d_.N, I = d_.I, H = d_.H, S = d_.S, G4 = 4 * H;
    const Blocks& units = layout_.units;
    const Blocks& ptiles = layout_.ptiles;
    job_ = &job;
    lens_.assign(static_cast<size_t>(N), static_cast<int32_t>(d_.T));
    if (job.lens) std::copy(job.lens, job.lens + N, lens_.begin());
    max_len_ = 0;
    for (int32_t l : lens_) max_len_ = std::max<int64_t>(max_len_, l);
    const int64_t rows = max_len_ * N;  // rows of X any batch element uses
    xblocks_ = Blocks(rows, kXRows);
    x_off_.assign(static_cast<size_t>(xblocks_.count) + 1, 0);
    for (int64_t b = 0; b < xblocks_.count; ++b) x_off_[b + 1] = x_off_[b] + gemm_.packed_size(xblocks_.size(b), I);
    packX_.resize(x_off_.back());

    // The weights packed at kernel creation are used as they are; the others are packed here (per call).
    const bool own_w = !job.packW, own_r = !job.packR, own_p = d_.has_proj && !job.packP, own_b = !job.bias;
    if (own_w) packW_.resize(layout_.w_off.back());
    if (own_r) packR_.resize(layout_.r_off.back());
    if (own_p) packP_.resize(layout_.p_off.back());
    if (own_b) bias_.assign(static_cast<size_t>(G4), T(0));
    pw_ = own_w ? packW_.data() : job.packW;
    pr_ = own_r ? packR_.data() : job.packR;
    pp_ = own_p ? packP_.data() : job.packP;
    bp_ = own_b ? bias_.data() : job.bias;

    // 1. Pack what is not packed yet (W and R rows reordered unit-chunk interleaved, P) and X, in one parallel
    //    pass.
    const int64_t chunk_tasks = (own_w || own_r || (own_b && job.B)) ? units.count : 0;
    const int64_t tile_tasks = own_p ? ptiles.count : 0;
    auto pack_task = [&](size_t task) {
      int64_t k = static_cast<int64_t>(task);
      if (k < chunk_tasks) {
        std::vector<T> tmp;
        if (own_w) layout_.pack_chunk(packW_.data() + layout_.w_off[k], job.W, I, k, tmp);
        if (own_r) layout_.pack_chunk(packR_.data() + layout_.r_off[k], job.R, S, k, tmp);
        if (own_b && job.B) layout_.chunk_bias(bias_.data(), job.B, k);
        return;
      }
      k -= chunk_tasks;
      if (k < tile_tasks) {
        layout_.pack_tile(packP_.data() + layout_.p_off[k], job.Pw, k);
        return;
      }
      k -= tile_tasks;
      if (I > 0) gemm_.pack_b(packX_.data() + x_off_[k], job.X + xblocks_.begin(k) * I, I, xblocks_.size(k), I);
    };
    runner_.run(static_cast<size_t>(chunk_tasks + tile_tasks + xblocks_.count), pack_task);
    if (runner_.failed()) return;

    // 2. XW = X W^T + (Wb + Rb) for all used time steps: one GEMM, tiled (row block, unit chunk).
    XW_.resize(static_cast<size_t>(rows * G4));  // uninitialized: every element is written below
    auto input_gemm = [&](size_t task) {
      const int64_t k = static_cast<int64_t>(task) % units.count;
      const int64_t rb = static_cast<int64_t>(task) / units.count;
      const int64_t c0 = 4 * units.begin(k), cw = 4 * units.size(k);
      const int64_t r0 = xblocks_.begin(rb), rn = xblocks_.size(rb);
      T* out = XW_.data() + r0 * G4 + c0;
      for (int64_t r = 0; r < rn; ++r) std::copy(bp_ + c0, bp_ + c0 + cw, out + r * G4);
      if (I > 0) gemm_.run(out, G4, pw_ + layout_.w_off[k], packX_.data() + x_off_[rb], cw, rn, I);
    };
    runner_.run(static_cast<size_t>(xblocks_.count * units.count), input_gemm);
    if (runner_.failed()) return;

    // 3. States and per-step buffers (O(N * H) each: nothing here scales with the weights). The buffers the
    //    gate pass maps as Eigen arrays are 64-byte aligned: Eigen peels unaligned heads with scalar code whose
    //    results (exp, tanh) may differ from the vector code in the last bit, so malloc's alignment would make
    //    the outputs vary from call to call.
    h_.resize(static_cast<size_t>(N * S));
    c_.resize(static_cast<size_t>(N * H));
    if (job.h0) {
      std::copy(job.h0, job.h0 + N * S, h_.data());
    } else {
      std::fill(h_.data(), h_.data() + N * S, T(0));
    }
    if (job.c0) {
      std::copy(job.c0, job.c0 + N * H, c_.data());
    } else {
      std::fill(c_.data(), c_.data() + N * H, T(0));
    }
    gates_.resize(static_cast<size_t>(N * G4));
    packH_.resize(gemm_.packed_size(N, S));
    if (d_.has_proj) {
      h_full_.resize(static_cast<size_t>(N * H));
      std::fill(h_full_.data(), h_full_.data() + N * H, T(0));  // rows of finished elements are still packed
      packHF_.resize(gemm_.packed_size(N, H));
      proj_tmp_.resize(static_cast<size_t>(N * d_.P));
    }

    for (int64_t s = 0; s < max_len_ && !runner_.failed(); ++s) step(s);
    if (runner_.failed()) return;

    if (job.Yh) std::copy(h_.data(), h_.data() + N * S, job.Yh);
    if (job.Yc) std::copy(c_.data(), c_.data() + N * H, job.Yc);
  }

 private:
  // Time index that batch element b processes at step s (valid only when s < lens_[b]).
  int64_t time_of(int64_t s, int64_t b) const { return job_->reverse ? lens_[b] - 1 - s : s; }

  void step(int64_t s) {
    const int64_t N = d_.N, H = d_.H, S = d_.S, G4 = 4 * H, D = d_.D;
    const bool proj = d_.has_proj;
    const Blocks& units = layout_.units;
    // The state operand, packed once per step; the tasks then update h_ in place (rows of finished batch
    // elements are simply left alone).
    gemm_.pack_b(packH_.data(), h_.data(), S, N, S);
    T* h_out = proj ? h_full_.data() : h_.data();  // leading dimension H in both cases

    auto chunk_task = [&](size_t kk) {
      const int64_t k = static_cast<int64_t>(kk);
      const int64_t j0 = units.begin(k), w = units.size(k), c0 = 4 * j0, cw = 4 * w;
      // G (N, 4w), a private block of gates_: XW row (input projection + both biases) + h R_chunk^T.
      T* G = gates_.data() + N * c0;
      for (int64_t b = 0; b < N; ++b) {
        T* gb = G + b * cw;
        if (s < lens_[b]) {
          const T* xb = XW_.data() + (time_of(s, b) * N + b) * G4 + c0;
          std::copy(xb, xb + cw, gb);
        } else {
          std::fill(gb, gb + cw, T(0));
        }
      }
      gemm_.run(G, cw, pr_ + layout_.r_off[k], packH_.data(), cw, N, S);

      for (int64_t b = 0; b < N; ++b) {
        if (s >= lens_[b]) continue;  // finished: state stays
        const int64_t t = time_of(s, b);
        T* gb = G + b * cw;
        T* crow = c_.data() + b * H + j0;
        T* hrow = h_out + b * H + j0;
        MapArr<T> iof(gb, 3 * w);
        iof = iof.logistic();
        MapArr<T> ct(gb + 3 * w, w);
        ct = ct.tanh();
        MapArr<T> i(gb, w), o(gb + w, w), f(gb + 2 * w, w);
        MapArr<T> c(crow, w);
        c = f * c + i * ct;
        if (clip_.enabled) {
          const T lo = clip_.lo, hi = clip_.hi;
          if (clip_.nan_to_min) {
            for (int64_t u = 0; u < w; ++u) crow[u] = cell::clamp_nan_to_min(crow[u], lo, hi);
          } else {
            for (int64_t u = 0; u < w; ++u) crow[u] = cell::clamp_keep_nan(crow[u], lo, hi);
          }
        }
        MapArr<T>(hrow, w) = o * c.tanh();
        if (!proj && job_->Y) std::copy(hrow, hrow + w, job_->Y + (t * D * N + b) * S + j0);
      }
    };
    runner_.run(static_cast<size_t>(units.count), chunk_task);
    if (runner_.failed() || !proj) return;

    const int64_t P = d_.P;
    const Blocks& ptiles = layout_.ptiles;
    gemm_.pack_b(packHF_.data(), h_full_.data(), H, N, H);
    auto proj_task = [&](size_t kk) {
      const int64_t t = static_cast<int64_t>(kk);
      const int64_t p0 = ptiles.begin(t), pw = ptiles.size(t);
      T* out = proj_tmp_.data() + p0;
      for (int64_t b = 0; b < N; ++b) std::fill(out + b * P, out + b * P + pw, T(0));
      gemm_.run(out, P, pp_ + layout_.p_off[t], packHF_.data(), pw, N, H);
      for (int64_t b = 0; b < N; ++b) {
        if (s >= lens_[b]) continue;
        const T* src = out + b * P;
        std::copy(src, src + pw, h_.data() + b * P + p0);
        if (job_->Y) std::copy(src, src + pw, job_->Y + (time_of(s, b) * D * N + b) * S + p0);
      }
    };
    runner_.run(static_cast<size_t>(ptiles.count), proj_task);
  }

  const GemmKernel<T>& gemm_;
  const LstmDims& d_;
  Runner& runner_;
  const WeightLayout<T> layout_;
  cell::Clip<T> clip_{};
  Blocks xblocks_;
  int64_t max_len_ = 0;
  const DirectionJob<T>* job_ = nullptr;
  const T* pw_ = nullptr;  // packed W, R, P and the chunk-order bias in use: the kernel's or packW_ etc.
  const T* pr_ = nullptr;
  const T* pp_ = nullptr;
  const T* bp_ = nullptr;
  std::vector<int32_t> lens_;
  std::vector<size_t> x_off_;
  AlignedBuffer<T> packW_, packR_, packP_, packX_, packH_, packHF_, XW_;
  AlignedBuffer<T> h_, c_, gates_, h_full_, proj_tmp_;
  std::vector<T> bias_;
};

}  // namespace

template <typename T>
void run_direction(const GemmKernel<T>& gemm, const LstmDims& dims, const LstmAttrs& attrs, Runner& runner,
                   const DirectionJob<T>& job) {
  LstmDirection<T> engine(gemm, dims, attrs, runner);
  engine.run(job);
}

template void run_direction<float>(const GemmKernel<float>&, const LstmDims&, const LstmAttrs&, Runner&,
                                   const DirectionJob<float>&);
template void run_direction<double>(const GemmKernel<double>&, const LstmDims&, const LstmAttrs&, Runner&,
                                    const DirectionJob<double>&);

}  // namespace onnx_rnn
