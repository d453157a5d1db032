// CPU kernel of onnx_rnn::LSTM (float32, float64; float16 computed in float32). See custom_ops/README.md for the
// algorithm and the threading.
//
// Per layer direction:
//   1. W, R and P are packed into the GEMM's panel format (packed_gemm.h, GemmFor<T>): once, when the kernel is created,
//      for those that are constant initializers (CpuKernel::init, ConstPacks), else once per call. W and R rows
//      are first put in a "unit-chunk interleaved" order: hidden units are cut into chunks of kChunk units, and
//      for each chunk the rows of its i, o, f, c gates lie next to each other. Then one column block of the gate
//      matrix holds every gate of a set of units, so the recurrent GEMM of a chunk and the gate pass of that
//      chunk run in the same task, with no barrier in between. The summed bias (Wb + Rb) is laid out the same.
//   2. XW = X (T*N, I) x W^T + (Wb + Rb): one GEMM for all time steps, tiled in (row block, unit chunk) tasks.
//   3. Per step: h is packed once; one parallel pass over unit chunks: G = XW[t] + h (N, S) x R_chunk^T, then
//      activations + clip + state update + sequence-length masking for those units; with projection a second
//      pass over column tiles of P: h = h_full (N, H) x P_tile^T.
// The GEMM kernels (sgemm_avx2.h for float32 under AVX2 + FMA, else Eigen's gebp) are single-threaded (no
// OpenMP, EIGEN_DONT_PARALLELIZE); all parallelism comes
// from ONNX Runtime's intra-op pool through KernelContext_ParallelFor.
#include "lstm_cpu.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "half_convert.h"
#include "kernel_io.h"
#include "lstm_params.h"
#include "onnx_rnn_ops/lstm_cell.h"
#include "ort_util.h"
#include "packed_gemm.h"

namespace onnx_rnn {
namespace {

template <typename T>
using MatRM = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MapRM = Eigen::Map<MatRM<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using CMapRM = Eigen::Map<const MatRM<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using MapArr = Eigen::Map<Arr<T>>;
template <typename T>
using CMapArr = Eigen::Map<const Arr<T>>;

// Hidden units per chunk (a task of the step pass). 64 units -> 256 gate rows; with S = 256 a packed float R
// chunk is 256 KiB, half a Zen 3 L2. (Measured: 48..120 units per chunk run at the same GEMM speed.)
template <typename T>
constexpr int64_t kChunk = 64;
// Rows of X per task of the input-projection GEMM, and columns of P per task of the projection GEMM.
constexpr int64_t kXRows = 256;
constexpr int64_t kProjCols = 64;

// Runs tasks on ONNX Runtime's intra-op thread pool. Exceptions never leave a task: the first one is recorded
// and the caller checks failed() after the parallel section.
class Runner {
 public:
  Runner(const OrtApi* api, const OrtKernelContext* ctx) : api_(api), ctx_(ctx) {}

  template <typename F>
  void run(size_t n, F& f) {
    if (n == 0 || failed_) return;
    if (n == 1) {
      call(&f, 0);
      return;
    }
    Task<F> task{&f, this};
    OrtStatus* st = api_->KernelContext_ParallelFor(ctx_, &Task<F>::tramp, n, 0, &task);
    if (st) {  // no thread pool API available: run inline
      api_->ReleaseStatus(st);
      for (size_t i = 0; i < n && !failed_; ++i) call(&f, i);
    }
  }

  bool failed() const { return failed_.load(); }
  const std::string& error() const { return error_; }

 private:
  template <typename F>
  struct Task {
    F* f;
    Runner* self;
    static void tramp(void* p, size_t i) {
      Task* t = static_cast<Task*>(p);
      t->self->call(t->f, i);
    }
  };

  template <typename F>
  void call(F* f, size_t i) noexcept {
    try {
      (*f)(i);
    } catch (const std::bad_alloc&) {
      fail("onnx_rnn.LSTM: out of memory");
    } catch (const std::exception& e) {
      fail(std::string("onnx_rnn.LSTM: ") + e.what());
    } catch (...) {
      fail("onnx_rnn.LSTM: unknown error");
    }
  }
  void fail(const std::string& msg) noexcept {
    bool expected = false;
    if (failed_.compare_exchange_strong(expected, true)) {
      try {
        error_ = msg;
      } catch (...) {
      }
    }
  }

  const OrtApi* api_;
  const OrtKernelContext* ctx_;
  std::atomic<bool> failed_{false};
  std::string error_;
};

// Cuts [0, n) into blocks of `block`; block b is [b * block, min(n, (b + 1) * block)).
struct Blocks {
  int64_t n = 0, block = 1, count = 0;
  Blocks() = default;
  Blocks(int64_t n_, int64_t block_) : n(n_), block(std::max<int64_t>(1, std::min(block_, n_))) {
    count = n == 0 ? 0 : (n + block - 1) / block;
  }
  int64_t begin(int64_t b) const { return b * block; }
  int64_t size(int64_t b) const { return std::min(block, n - b * block); }
};

// Where the blocks of one direction's packed weights lie: W (4H, I) and R (4H, S) per unit chunk, the
// projection (P, H) per column tile. The W offsets depend only on (H, I), the R offsets on (H, S), the
// projection's on (H, P), so packs made at kernel creation (where some sizes may be unknown, passed as 0) and
// per call agree whenever the packed input's shape does.
template <typename T>
struct WeightLayout {
  Blocks units, ptiles;
  std::vector<size_t> w_off, r_off, p_off;  // count + 1 entries; back() is the total

  WeightLayout(int64_t H, int64_t I, int64_t S, int64_t P) : units(H, kChunk<T>), ptiles(P, kProjCols) {
    using Gemm = GemmFor<T>;
    w_off.assign(static_cast<size_t>(units.count) + 1, 0);
    r_off = w_off;
    for (int64_t k = 0; k < units.count; ++k) {
      w_off[k + 1] = w_off[k] + Gemm::packed_size(4 * units.size(k), I);
      r_off[k + 1] = r_off[k] + Gemm::packed_size(4 * units.size(k), S);
    }
    p_off.assign(static_cast<size_t>(ptiles.count) + 1, 0);
    for (int64_t t = 0; t < ptiles.count; ++t) p_off[t + 1] = p_off[t] + Gemm::packed_size(ptiles.size(t), H);
  }

  // Packs the rows of gates i, o, f, c of unit chunk k of M (4H, K) -- W (K = I) or R (K = S) -- into dst
  // (the chunk's block). tmp is scratch.
  void pack_chunk(T* dst, const T* M, int64_t K, int64_t k, std::vector<T>& tmp) const {
    if (K == 0) return;
    const int64_t H = units.n, j0 = units.begin(k), w = units.size(k);
    tmp.resize(static_cast<size_t>(4 * w * K));
    for (int g = 0; g < 4; ++g) std::copy(M + (g * H + j0) * K, M + (g * H + j0 + w) * K, tmp.data() + g * w * K);
    GemmFor<T>::pack_a(dst, tmp.data(), K, 4 * w, K);
  }

  // bias (4H, chunk order) for unit chunk k: Wb + Rb of B (8H).
  void chunk_bias(T* bias, const T* B, int64_t k) const {
    const int64_t H = units.n, j0 = units.begin(k), w = units.size(k);
    for (int g = 0; g < 4; ++g)
      for (int64_t u = 0; u < w; ++u) bias[4 * j0 + g * w + u] = B[g * H + j0 + u] + B[4 * H + g * H + j0 + u];
  }

  // Packs column tile t of the projection Pw (P, H) into dst (the tile's block).
  void pack_tile(T* dst, const T* Pw, int64_t t) const {
    const int64_t H = units.n;
    GemmFor<T>::pack_a(dst, Pw + ptiles.begin(t) * H, H, ptiles.size(t), H);
  }
};

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

template <typename T>
class LstmDirection {
  using Gemm = GemmFor<T>;

 public:
  LstmDirection(const LstmDims& dims, const LstmAttrs& attrs, Runner& runner)
      : d_(dims), runner_(runner), layout_(dims.H, dims.I, dims.S, dims.has_proj ? dims.P : 0) {
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
    for (int64_t b = 0; b < xblocks_.count; ++b) x_off_[b + 1] = x_off_[b] + Gemm::packed_size(xblocks_.size(b), I);
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
      if (I > 0) Gemm::pack_b(packX_.data() + x_off_[k], job.X + xblocks_.begin(k) * I, I, xblocks_.size(k), I);
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
      if (I > 0) Gemm::run(out, G4, pw_ + layout_.w_off[k], packX_.data() + x_off_[rb], cw, rn, I);
    };
    runner_.run(static_cast<size_t>(xblocks_.count * units.count), input_gemm);
    if (runner_.failed()) return;

    // 3. States and per-step buffers (O(N * H) each: nothing here scales with the weights). The buffers the
    //    gate pass maps as Eigen arrays are 64-byte aligned: Eigen peels unaligned heads with scalar code whose
    //    results (exp, tanh) may differ from the vector code in the last bit, so malloc's alignment would make
    //    the outputs vary from call to call.
    h_.resize(static_cast<size_t>(N * S));
    c_.resize(static_cast<size_t>(N * H));
    if (job.h0) std::copy(job.h0, job.h0 + N * S, h_.data());
    else std::fill(h_.data(), h_.data() + N * S, T(0));
    if (job.c0) std::copy(job.c0, job.c0 + N * H, c_.data());
    else std::fill(c_.data(), c_.data() + N * H, T(0));
    gates_.resize(static_cast<size_t>(N * G4));
    packH_.resize(Gemm::packed_size(N, S));
    if (d_.has_proj) {
      h_full_.resize(static_cast<size_t>(N * H));
      std::fill(h_full_.data(), h_full_.data() + N * H, T(0));  // rows of finished elements are still packed
      packHF_.resize(Gemm::packed_size(N, H));
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
    Gemm::pack_b(packH_.data(), h_.data(), S, N, S);
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
      Gemm::run(G, cw, pr_ + layout_.r_off[k], packH_.data(), cw, N, S);

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
    Gemm::pack_b(packHF_.data(), h_full_.data(), H, N, H);
    auto proj_task = [&](size_t kk) {
      const int64_t t = static_cast<int64_t>(kk);
      const int64_t p0 = ptiles.begin(t), pw = ptiles.size(t);
      T* out = proj_tmp_.data() + p0;
      for (int64_t b = 0; b < N; ++b) std::fill(out + b * P, out + b * P + pw, T(0));
      Gemm::run(out, P, pp_ + layout_.p_off[t], packHF_.data(), pw, N, H);
      for (int64_t b = 0; b < N; ++b) {
        if (s >= lens_[b]) continue;
        const T* src = out + b * P;
        std::copy(src, src + pw, h_.data() + b * P + p0);
        if (job_->Y) std::copy(src, src + pw, job_->Y + (time_of(s, b) * D * N + b) * S + p0);
      }
    };
    runner_.run(static_cast<size_t>(ptiles.count), proj_task);
  }

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
constexpr int64_t kConvertBlock = int64_t(1) << 16;

// An input in the compute type: the tensor itself when IO is the compute type, else converted into scratch
// (on the thread pool, in blocks).
template <typename IO, typename T>
const T* as_compute(const void* data, int64_t n, std::vector<AlignedBuffer<T>>& scratch, Runner& runner) {
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
      half_to_float(src + blocks.begin(b), dst + blocks.begin(b), static_cast<size_t>(blocks.size(b)));
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
void from_compute(const T* src, void* data, int64_t n, Runner& runner) {
  if constexpr (!std::is_same<IO, T>::value) {
    if (!data) return;
    IO* dst = static_cast<IO*>(data);
    const Blocks blocks(n, kConvertBlock);
    auto task = [&](size_t k) {
      const int64_t b = static_cast<int64_t>(k);
      float_to_half(src + blocks.begin(b), dst + blocks.begin(b), static_cast<size_t>(blocks.size(b)));
    };
    runner.run(static_cast<size_t>(blocks.count), task);
  }
}


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

// A constant initializer input of the node, as read at kernel creation.
struct ConstInput {
  bool present = false;
  TensorDesc desc;
  const void* data = nullptr;
};

// Reads input `index` if it is a constant initializer; anything else (a graph input, an omitted input, an API
// error) leaves it absent, and the input is then packed per call.
inline OrtStatus* read_constant_input(const OrtApi* api, const OrtKernelInfo* info, size_t index,
                                      ConstInput* out) {
  int is_constant = 0;
  const OrtValue* v = nullptr;
  OrtStatus* st = api->KernelInfoGetConstantInput_tensor(info, index, &is_constant, &v);
  if (st) {
    api->ReleaseStatus(st);
    return nullptr;
  }
  if (!is_constant || !v) return nullptr;
  int is_tensor = 0;
  ONNX_RNN_RETURN_IF_ERROR(api->IsTensor(v, &is_tensor));
  if (!is_tensor) return nullptr;
  OrtTensorTypeAndShapeInfo* ti = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->GetTensorTypeAndShape(v, &ti));
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  size_t rank = 0;
  st = api->GetTensorElementType(ti, &type);
  if (!st) st = api->GetDimensionsCount(ti, &rank);
  if (!st) {
    out->desc.dims.assign(rank, 0);
    st = api->GetDimensions(ti, out->desc.dims.data(), rank);
  }
  api->ReleaseTensorTypeAndShapeInfo(ti);
  if (st) return st;
  void* data = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->GetTensorMutableData(const_cast<OrtValue*>(v), &data));
  out->desc.present = true;
  out->desc.elem_type = static_cast<int32_t>(type);
  out->data = data;
  out->present = true;
  return nullptr;
}

// `n` elements at element offset `offset` of a constant in the compute type: the data itself, or converted
// into buf (float16).
template <typename IO, typename T>
const T* const_as_compute(const void* data, int64_t offset, int64_t n, std::vector<T>& buf) {
  if constexpr (std::is_same<IO, T>::value) {
    return static_cast<const T*>(data) + offset;
  } else {
    buf.resize(static_cast<size_t>(n));
    half_to_float(static_cast<const IO*>(data) + offset, buf.data(), static_cast<size_t>(n));
    return buf.data();
  }
}

template <typename IO>
OrtStatus* lstm_compute_cpu_impl(const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs,
                                 const ConstPacks<typename IoType<IO>::Compute>& packs) {
  using T = typename IoType<IO>::Compute;
  // Every input, the constant ones included, is validated on every call.
  InputView in[kNumInputs];
  LstmDims d;
  size_t nout = 0;
  ONNX_RNN_RETURN_IF_ERROR(read_lstm_inputs(api, ctx, attrs, IoType<IO>::kOnnx, in, &d, &nout));
  const int32_t* lens = d.has_seq ? static_cast<const int32_t*>(in[kSeqLens].data) : nullptr;
  if (lens) {
    const std::string err = validate_sequence_lens(lens, d.N, d.T);
    if (!err.empty()) return make_status(api, ORT_INVALID_ARGUMENT, err);
  }
  // The packs made at creation, for inputs whose (validated) shape is the packed constant's: the same layout.
  const bool cW = packs.W.cached && in[kW].desc.dims == packs.W.dims;
  const bool cR = packs.R.cached && in[kR].desc.dims == packs.R.dims;
  const bool cB = d.has_B && packs.B.cached && in[kB].desc.dims == packs.B.dims;
  const bool cP = d.has_proj && packs.P.cached && in[kProjection].desc.dims == packs.P.dims;

  void* y = nullptr;
  void* yh = nullptr;
  void* yc = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(get_lstm_outputs(api, ctx, nout, d, &y, &yh, &yc));
  const int64_t H = d.H, S = d.S, N = d.N, D = d.D;
  const int64_t y_size = d.T * D * N * S, yh_size = D * N * S, yc_size = D * N * H;

  Runner runner(api, ctx);
  std::vector<AlignedBuffer<T>> scratch;  // float32 copies of float16 inputs and outputs (none otherwise)
  scratch.reserve(10);                     // 7 inputs + 3 outputs (a buffer's data never moves anyway)
  const T* X = as_compute<IO, T>(in[kX].data, d.T * N * d.I, scratch, runner);
  const T* W = cW ? nullptr : as_compute<IO, T>(in[kW].data, D * 4 * H * d.I, scratch, runner);
  const T* R = cR ? nullptr : as_compute<IO, T>(in[kR].data, D * 4 * H * S, scratch, runner);
  const T* B = d.has_B && !cB ? as_compute<IO, T>(in[kB].data, D * 8 * H, scratch, runner) : nullptr;
  const T* h0 = d.has_h0 ? as_compute<IO, T>(in[kInitialH].data, D * N * S, scratch, runner) : nullptr;
  const T* c0 = d.has_c0 ? as_compute<IO, T>(in[kInitialC].data, D * N * H, scratch, runner) : nullptr;
  const T* Pw = d.has_proj && !cP ? as_compute<IO, T>(in[kProjection].data, D * d.P * H, scratch, runner) : nullptr;
  if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  T* Y = out_compute<IO, T>(y, y_size, scratch);
  T* Yh = out_compute<IO, T>(yh, yh_size, scratch);
  T* Yc = out_compute<IO, T>(yc, yc_size, scratch);
  if (Y && lens) std::fill(Y, Y + y_size, T(0));  // steps past len_b stay zero

  for (int dir = 0; dir < D; ++dir) {
    DirectionJob<T> job;
    job.X = X;
    job.W = W ? W + dir * 4 * H * d.I : nullptr;
    job.R = R ? R + dir * 4 * H * S : nullptr;
    job.B = B ? B + dir * 8 * H : nullptr;
    job.h0 = h0 ? h0 + dir * N * S : nullptr;
    job.c0 = c0 ? c0 + dir * N * H : nullptr;
    job.Pw = Pw ? Pw + dir * d.P * H : nullptr;
    job.lens = lens;
    job.packW = cW ? packs.dirs[dir].W.data() : nullptr;
    job.packR = cR ? packs.dirs[dir].R.data() : nullptr;
    job.packP = cP ? packs.dirs[dir].P.data() : nullptr;
    job.bias = cB ? packs.dirs[dir].bias.data() : nullptr;
    job.Y = Y ? Y + dir * N * S : nullptr;
    job.Yh = Yh ? Yh + dir * N * S : nullptr;
    job.Yc = Yc ? Yc + dir * N * H : nullptr;
    job.reverse = attrs.direction == Direction::kReverse || (attrs.direction == Direction::kBidirectional && dir == 1);
    LstmDirection<T> engine(d, attrs, runner);
    engine.run(job);
    if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  }
  from_compute<IO, T>(Y, y, y_size, runner);
  from_compute<IO, T>(Yh, yh, yh_size, runner);
  from_compute<IO, T>(Yc, yc, yc_size, runner);
  if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  return nullptr;
}

template <typename IO>
class CpuKernel final : public LstmCpuKernel {
  using T = typename IoType<IO>::Compute;

 public:
  explicit CpuKernel(const LstmAttrs& attrs) : attrs_(attrs) {}

  // Packs the constant W, R, B and projection (single-threaded: no thread pool at creation). A constant whose
  // type or shape does not fit the attributes is not packed: the call then packs it as any other input, after
  // validate_lstm_inputs() has rejected it with its usual ORT_INVALID_ARGUMENT status.
  OrtStatus* init(const OrtApi* api, const OrtKernelInfo* info) {
    const int64_t D = attrs_.num_directions(), H = attrs_.hidden_size;
    ConstInput w, r, b, p;
    ONNX_RNN_RETURN_IF_ERROR(read_constant_input(api, info, kW, &w));
    ONNX_RNN_RETURN_IF_ERROR(read_constant_input(api, info, kR, &r));
    ONNX_RNN_RETURN_IF_ERROR(read_constant_input(api, info, kB, &b));
    ONNX_RNN_RETURN_IF_ERROR(read_constant_input(api, info, kProjection, &p));
    const int32_t type = IoType<IO>::kOnnx;
    // (D, rows, cols) of the kernel's type; rows < 0: any positive count, cols < 0: any nonnegative count.
    auto fits3 = [&](const ConstInput& c, int64_t rows, int64_t cols) {
      if (!c.present || c.desc.elem_type != type || c.desc.dims.size() != 3 || c.desc.dims[0] != D) return false;
      const int64_t r1 = c.desc.dims[1], c1 = c.desc.dims[2];
      return (rows < 0 ? r1 > 0 : r1 == rows) && (cols < 0 ? c1 >= 0 : c1 == cols);
    };
    const bool pw = fits3(w, 4 * H, -1);
    const bool pr = fits3(r, 4 * H, -1) && r.desc.dims[2] > 0;
    const bool pp = fits3(p, -1, H);
    const bool pb = b.present && b.desc.elem_type == type && b.desc.dims == std::vector<int64_t>{D, 8 * H};
    if (!pw && !pr && !pp && !pb) return nullptr;

    const int64_t I = pw ? w.desc.dims[2] : 0, S = pr ? r.desc.dims[2] : 0, P = pp ? p.desc.dims[1] : 0;
    const WeightLayout<T> layout(H, I, S, P);
    packs_.dirs.resize(static_cast<size_t>(D));
    std::vector<T> conv, tmp;  // float16 -> float32 copy of one direction's tensor; chunk gather scratch
    for (int64_t dir = 0; dir < D; ++dir) {
      auto& pd = packs_.dirs[dir];
      if (pw) {
        const T* Wd = const_as_compute<IO, T>(w.data, dir * 4 * H * I, 4 * H * I, conv);
        pd.W.resize(layout.w_off.back());
        for (int64_t k = 0; k < layout.units.count; ++k) layout.pack_chunk(pd.W.data() + layout.w_off[k], Wd, I, k, tmp);
      }
      if (pr) {
        const T* Rd = const_as_compute<IO, T>(r.data, dir * 4 * H * S, 4 * H * S, conv);
        pd.R.resize(layout.r_off.back());
        for (int64_t k = 0; k < layout.units.count; ++k) layout.pack_chunk(pd.R.data() + layout.r_off[k], Rd, S, k, tmp);
      }
      if (pp) {
        const T* Pd = const_as_compute<IO, T>(p.data, dir * P * H, P * H, conv);
        pd.P.resize(layout.p_off.back());
        for (int64_t t = 0; t < layout.ptiles.count; ++t) layout.pack_tile(pd.P.data() + layout.p_off[t], Pd, t);
      }
      if (pb) {
        const T* Bd = const_as_compute<IO, T>(b.data, dir * 8 * H, 8 * H, conv);
        pd.bias.assign(static_cast<size_t>(4 * H), T(0));
        for (int64_t k = 0; k < layout.units.count; ++k) layout.chunk_bias(pd.bias.data(), Bd, k);
      }
    }
    packs_.W = {pw, pw ? w.desc.dims : std::vector<int64_t>{}};
    packs_.R = {pr, pr ? r.desc.dims : std::vector<int64_t>{}};
    packs_.P = {pp, pp ? p.desc.dims : std::vector<int64_t>{}};
    packs_.B = {pb, pb ? b.desc.dims : std::vector<int64_t>{}};
    return nullptr;
  }

  OrtStatus* compute(const OrtApi* api, OrtKernelContext* ctx) const noexcept override {
    return status_from_exceptions(api, "onnx_rnn.LSTM",
                                  [&] { return lstm_compute_cpu_impl<IO>(api, ctx, attrs_, packs_); });
  }

 private:
  const LstmAttrs attrs_;
  ConstPacks<T> packs_;  // read-only once init() has returned
};

}  // namespace

template <typename T>
OrtStatus* lstm_create_cpu(const OrtApi* api, const OrtKernelInfo* info, const LstmAttrs& attrs,
                           LstmCpuKernel** out) noexcept {
  *out = nullptr;
  return status_from_exceptions(api, "onnx_rnn.LSTM (creating the kernel)", [&]() -> OrtStatus* {
    std::unique_ptr<CpuKernel<T>> k(new CpuKernel<T>(attrs));
    ONNX_RNN_RETURN_IF_ERROR(k->init(api, info));
    *out = k.release();
    return nullptr;
  });
}

template OrtStatus* lstm_create_cpu<float>(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                           LstmCpuKernel**) noexcept;
template OrtStatus* lstm_create_cpu<double>(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                            LstmCpuKernel**) noexcept;
template OrtStatus* lstm_create_cpu<Half>(const OrtApi*, const OrtKernelInfo*, const LstmAttrs&,
                                          LstmCpuKernel**) noexcept;

}  // namespace onnx_rnn
