// CPU kernel of onnx_rnn::LSTM (float32, float64; float16 computed in float32). See custom_ops/README.md for the
// algorithm and the threading.
//
// Per layer direction:
//   1. W, R and P are packed once per call into Eigen's GEMM panel format (packed_gemm.h). W and R rows are
//      first put in a "unit-chunk interleaved" order: hidden units are cut into chunks of kChunk units, and for
//      each chunk the rows of its i, o, f, c gates lie next to each other. Then one column block of the gate
//      matrix holds every gate of a set of units, so the recurrent GEMM of a chunk and the gate pass of that
//      chunk run in the same task, with no barrier in between.
//   2. XW = X (T*N, I) x W^T + (Wb + Rb): one GEMM for all time steps, tiled in (row block, unit chunk) tasks.
//   3. Per step: h is packed once; one parallel pass over unit chunks: G = XW[t] + h (N, S) x R_chunk^T, then
//      activations + clip + state update + sequence-length masking for those units; with projection a second
//      pass over column tiles of P: h = h_full (N, H) x P_tile^T.
// The GEMM kernels are Eigen's (single-threaded: no OpenMP, EIGEN_DONT_PARALLELIZE); all parallelism comes
// from ONNX Runtime's intra-op pool through KernelContext_ParallelFor.
#include "lstm_cpu.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
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

// One direction's inputs and outputs, all raw pointers already offset to the direction.
template <typename T>
struct DirectionJob {
  const T* X = nullptr;    // (T, N, I)
  const T* W = nullptr;    // (4H, I)
  const T* R = nullptr;    // (4H, S)
  const T* B = nullptr;    // (8H) or null
  const T* h0 = nullptr;   // (N, S) or null
  const T* c0 = nullptr;   // (N, H) or null
  const T* Pw = nullptr;   // (P, H) or null
  const int32_t* lens = nullptr;  // (N) or null
  T* Y = nullptr;          // (T, D, N, S) base + d * N * S, or null
  T* Yh = nullptr;         // (N, S) or null
  T* Yc = nullptr;         // (N, H) or null
  bool reverse = false;
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

template <typename T>
class LstmDirection {
  using Gemm = PackedGemm<T>;

 public:
  LstmDirection(const LstmDims& dims, const LstmAttrs& attrs, Runner& runner) : d_(dims), runner_(runner) {
    clip_.enabled = attrs.has_clip;
    clip_.nan_to_min = attrs.clip_nan;
    clip_.lo = static_cast<T>(attrs.clip_min);
    clip_.hi = static_cast<T>(attrs.clip_max);
    units_ = Blocks(d_.H, kChunk<T>);
    ptiles_ = Blocks(d_.P, kProjCols);
  }

  void run(const DirectionJob<T>& job) {
    const int64_t N = d_.N, I = d_.I, H = d_.H, S = d_.S, G4 = 4 * H;
    job_ = &job;
    lens_.assign(static_cast<size_t>(N), static_cast<int32_t>(d_.T));
    if (job.lens) std::copy(job.lens, job.lens + N, lens_.begin());
    max_len_ = 0;
    for (int32_t l : lens_) max_len_ = std::max<int64_t>(max_len_, l);
    const int64_t rows = max_len_ * N;  // rows of X any batch element uses
    xblocks_ = Blocks(rows, kXRows);

    // Offsets of the packed blocks.
    w_off_.assign(static_cast<size_t>(units_.count) + 1, 0);
    r_off_ = w_off_;
    for (int64_t k = 0; k < units_.count; ++k) {
      w_off_[k + 1] = w_off_[k] + Gemm::packed_size(4 * units_.size(k), I);
      r_off_[k + 1] = r_off_[k] + Gemm::packed_size(4 * units_.size(k), S);
    }
    p_off_.assign(static_cast<size_t>(ptiles_.count) + 1, 0);
    for (int64_t t = 0; t < ptiles_.count; ++t) p_off_[t + 1] = p_off_[t] + Gemm::packed_size(ptiles_.size(t), H);
    x_off_.assign(static_cast<size_t>(xblocks_.count) + 1, 0);
    for (int64_t b = 0; b < xblocks_.count; ++b) x_off_[b + 1] = x_off_[b] + Gemm::packed_size(xblocks_.size(b), I);
    packW_.resize(w_off_.back());
    packR_.resize(r_off_.back());
    packP_.resize(p_off_.back());
    packX_.resize(x_off_.back());
    bias_.assign(static_cast<size_t>(G4), T(0));

    // 1. Pack the weights (rows reordered unit-chunk interleaved), P and X, in one parallel pass.
    auto pack_task = [&](size_t task) {
      int64_t k = static_cast<int64_t>(task);
      if (k < units_.count) {
        const int64_t j0 = units_.begin(k), w = units_.size(k);
        std::vector<T> tmp(static_cast<size_t>(4 * w * std::max(I, S)));
        // W rows of gates i, o, f, c for units [j0, j0 + w), then the same for R.
        for (int g = 0; g < 4; ++g) std::copy(job.W + (g * H + j0) * I, job.W + (g * H + j0 + w) * I, tmp.data() + g * w * I);
        if (I > 0) Gemm::pack_a(packW_.data() + w_off_[k], tmp.data(), I, 4 * w, I);
        for (int g = 0; g < 4; ++g) std::copy(job.R + (g * H + j0) * S, job.R + (g * H + j0 + w) * S, tmp.data() + g * w * S);
        Gemm::pack_a(packR_.data() + r_off_[k], tmp.data(), S, 4 * w, S);
        if (job.B) {
          for (int g = 0; g < 4; ++g)
            for (int64_t u = 0; u < w; ++u)
              bias_[4 * j0 + g * w + u] = job.B[g * H + j0 + u] + job.B[G4 + g * H + j0 + u];
        }
        return;
      }
      k -= units_.count;
      if (k < ptiles_.count) {
        Gemm::pack_a(packP_.data() + p_off_[k], job.Pw + ptiles_.begin(k) * H, H, ptiles_.size(k), H);
        return;
      }
      k -= ptiles_.count;
      if (I > 0) Gemm::pack_b(packX_.data() + x_off_[k], job.X + xblocks_.begin(k) * I, I, xblocks_.size(k), I);
    };
    runner_.run(static_cast<size_t>(units_.count + ptiles_.count + xblocks_.count), pack_task);
    if (runner_.failed()) return;

    // 2. XW = X W^T + (Wb + Rb) for all used time steps: one GEMM, tiled (row block, unit chunk).
    XW_.resize(static_cast<size_t>(rows * G4));
    auto input_gemm = [&](size_t task) {
      const int64_t k = static_cast<int64_t>(task) % units_.count;
      const int64_t rb = static_cast<int64_t>(task) / units_.count;
      const int64_t c0 = 4 * units_.begin(k), cw = 4 * units_.size(k);
      const int64_t r0 = xblocks_.begin(rb), rn = xblocks_.size(rb);
      T* out = XW_.data() + r0 * G4 + c0;
      for (int64_t r = 0; r < rn; ++r) std::copy(&bias_[c0], &bias_[c0] + cw, out + r * G4);
      if (I > 0) Gemm::run(out, G4, packW_.data() + w_off_[k], packX_.data() + x_off_[rb], cw, rn, I);
    };
    runner_.run(static_cast<size_t>(xblocks_.count * units_.count), input_gemm);
    if (runner_.failed()) return;

    // 3. States and per-step buffers.
    h_.assign(static_cast<size_t>(N * S), T(0));
    c_.assign(static_cast<size_t>(N * H), T(0));
    if (job.h0) std::copy(job.h0, job.h0 + N * S, h_.begin());
    if (job.c0) std::copy(job.c0, job.c0 + N * H, c_.begin());
    gates_.resize(static_cast<size_t>(N * G4));
    packH_.resize(Gemm::packed_size(N, S));
    if (d_.has_proj) {
      h_full_.assign(static_cast<size_t>(N * H), T(0));
      packHF_.resize(Gemm::packed_size(N, H));
      proj_tmp_.resize(static_cast<size_t>(N * d_.P));
    }

    for (int64_t s = 0; s < max_len_ && !runner_.failed(); ++s) step(s);
    if (runner_.failed()) return;

    if (job.Yh) std::copy(h_.begin(), h_.end(), job.Yh);
    if (job.Yc) std::copy(c_.begin(), c_.end(), job.Yc);
  }

 private:
  // Time index that batch element b processes at step s (valid only when s < lens_[b]).
  int64_t time_of(int64_t s, int64_t b) const { return job_->reverse ? lens_[b] - 1 - s : s; }

  void step(int64_t s) {
    const int64_t N = d_.N, H = d_.H, S = d_.S, G4 = 4 * H, D = d_.D;
    const bool proj = d_.has_proj;
    // The state operand, packed once per step; the tasks then update h_ in place (rows of finished batch
    // elements are simply left alone).
    Gemm::pack_b(packH_.data(), h_.data(), S, N, S);
    T* h_out = proj ? h_full_.data() : h_.data();  // leading dimension H in both cases

    auto chunk_task = [&](size_t kk) {
      const int64_t k = static_cast<int64_t>(kk);
      const int64_t j0 = units_.begin(k), w = units_.size(k), c0 = 4 * j0, cw = 4 * w;
      // G (N, 4w), a private block of gates_: XW row (input projection + both biases) + h R_chunk^T.
      T* G = &gates_[N * c0];
      for (int64_t b = 0; b < N; ++b) {
        T* gb = G + b * cw;
        if (s < lens_[b]) {
          const T* xb = &XW_[(time_of(s, b) * N + b) * G4 + c0];
          std::copy(xb, xb + cw, gb);
        } else {
          std::fill(gb, gb + cw, T(0));
        }
      }
      Gemm::run(G, cw, packR_.data() + r_off_[k], packH_.data(), cw, N, S);

      for (int64_t b = 0; b < N; ++b) {
        if (s >= lens_[b]) continue;  // finished: state stays
        const int64_t t = time_of(s, b);
        T* gb = G + b * cw;
        T* crow = &c_[b * H + j0];
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
    runner_.run(static_cast<size_t>(units_.count), chunk_task);
    if (runner_.failed() || !proj) return;

    const int64_t P = d_.P;
    Gemm::pack_b(packHF_.data(), h_full_.data(), H, N, H);
    auto proj_task = [&](size_t kk) {
      const int64_t t = static_cast<int64_t>(kk);
      const int64_t p0 = ptiles_.begin(t), pw = ptiles_.size(t);
      T* out = &proj_tmp_[p0];
      for (int64_t b = 0; b < N; ++b) std::fill(out + b * P, out + b * P + pw, T(0));
      Gemm::run(out, P, packP_.data() + p_off_[t], packHF_.data(), pw, N, H);
      for (int64_t b = 0; b < N; ++b) {
        if (s >= lens_[b]) continue;
        const T* src = out + b * P;
        std::copy(src, src + pw, &h_[b * P + p0]);
        if (job_->Y) std::copy(src, src + pw, job_->Y + (time_of(s, b) * D * N + b) * S + p0);
      }
    };
    runner_.run(static_cast<size_t>(ptiles_.count), proj_task);
  }

  const LstmDims& d_;
  Runner& runner_;
  cell::Clip<T> clip_{};
  Blocks units_, ptiles_, xblocks_;
  int64_t max_len_ = 0;
  const DirectionJob<T>* job_ = nullptr;
  std::vector<int32_t> lens_;
  std::vector<size_t> w_off_, r_off_, p_off_, x_off_;
  AlignedBuffer<T> packW_, packR_, packP_, packX_, packH_, packHF_;
  std::vector<T> bias_, XW_, h_, c_, gates_, h_full_, proj_tmp_;
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

template <typename IO>
OrtStatus* lstm_compute_cpu_impl(const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs) {
  using T = typename IoType<IO>::Compute;
  size_t nin = 0, nout = 0;
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetInputCount(ctx, &nin));
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetOutputCount(ctx, &nout));
  if (nin > kNumInputs) {
    return make_status(api, ORT_INVALID_ARGUMENT,
                       "onnx_rnn.LSTM: at most 8 inputs, got " + std::to_string(nin));
  }
  InputView in[kNumInputs];
  TensorDesc desc[kNumInputs];
  for (size_t k = 0; k < nin; ++k) {
    ONNX_RNN_RETURN_IF_ERROR(read_input(api, ctx, k, &in[k]));
    desc[k] = in[k].desc;
  }
  LstmDims d;
  std::string err = validate_lstm_inputs(attrs, desc, kNumInputs, IoType<IO>::kOnnx, &d);
  if (!err.empty()) return make_status(api, ORT_INVALID_ARGUMENT, err);
  const int32_t* lens = d.has_seq ? static_cast<const int32_t*>(in[kSeqLens].data) : nullptr;
  if (lens) {
    err = validate_sequence_lens(lens, d.N, d.T);
    if (!err.empty()) return make_status(api, ORT_INVALID_ARGUMENT, err);
  }

  void* y = nullptr;
  void* yh = nullptr;
  void* yc = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(get_output(api, ctx, nout, kY, {d.T, d.D, d.N, d.S}, &y));
  ONNX_RNN_RETURN_IF_ERROR(get_output(api, ctx, nout, kYh, {d.D, d.N, d.S}, &yh));
  ONNX_RNN_RETURN_IF_ERROR(get_output(api, ctx, nout, kYc, {d.D, d.N, d.H}, &yc));
  const int64_t H = d.H, S = d.S, N = d.N, D = d.D;
  const int64_t y_size = d.T * D * N * S, yh_size = D * N * S, yc_size = D * N * H;

  Runner runner(api, ctx);
  std::vector<AlignedBuffer<T>> scratch;  // float32 copies of float16 inputs and outputs (none otherwise)
  scratch.reserve(10);                     // 7 inputs + 3 outputs (a buffer's data never moves anyway)
  const T* X = as_compute<IO, T>(in[kX].data, d.T * N * d.I, scratch, runner);
  const T* W = as_compute<IO, T>(in[kW].data, D * 4 * H * d.I, scratch, runner);
  const T* R = as_compute<IO, T>(in[kR].data, D * 4 * H * S, scratch, runner);
  const T* B = d.has_B ? as_compute<IO, T>(in[kB].data, D * 8 * H, scratch, runner) : nullptr;
  const T* h0 = d.has_h0 ? as_compute<IO, T>(in[kInitialH].data, D * N * S, scratch, runner) : nullptr;
  const T* c0 = d.has_c0 ? as_compute<IO, T>(in[kInitialC].data, D * N * H, scratch, runner) : nullptr;
  const T* Pw = d.has_proj ? as_compute<IO, T>(in[kProjection].data, D * d.P * H, scratch, runner) : nullptr;
  if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  T* Y = out_compute<IO, T>(y, y_size, scratch);
  T* Yh = out_compute<IO, T>(yh, yh_size, scratch);
  T* Yc = out_compute<IO, T>(yc, yc_size, scratch);
  if (Y && lens) std::fill(Y, Y + y_size, T(0));  // steps past len_b stay zero

  for (int dir = 0; dir < D; ++dir) {
    DirectionJob<T> job;
    job.X = X;
    job.W = W + dir * 4 * H * d.I;
    job.R = R + dir * 4 * H * S;
    job.B = B ? B + dir * 8 * H : nullptr;
    job.h0 = h0 ? h0 + dir * N * S : nullptr;
    job.c0 = c0 ? c0 + dir * N * H : nullptr;
    job.Pw = Pw ? Pw + dir * d.P * H : nullptr;
    job.lens = lens;
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

}  // namespace

template <typename T>
OrtStatus* lstm_compute_cpu(const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs) noexcept {
  try {
    return lstm_compute_cpu_impl<T>(api, ctx, attrs);
  } catch (const std::bad_alloc&) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, "onnx_rnn.LSTM: out of memory");
  } catch (const std::exception& e) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, (std::string("onnx_rnn.LSTM: ") + e.what()).c_str());
  } catch (...) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, "onnx_rnn.LSTM: unknown error");
  }
}

template OrtStatus* lstm_compute_cpu<float>(const OrtApi*, OrtKernelContext*, const LstmAttrs&) noexcept;
template OrtStatus* lstm_compute_cpu<double>(const OrtApi*, OrtKernelContext*, const LstmAttrs&) noexcept;
template OrtStatus* lstm_compute_cpu<Half>(const OrtApi*, OrtKernelContext*, const LstmAttrs&) noexcept;

}  // namespace onnx_rnn
