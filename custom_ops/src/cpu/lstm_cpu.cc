// CPU kernel of onnx_rnn::LSTM (float32, float64; float16 computed in float32): the driver. It validates
// every input, picks the inputs packed at kernel creation, converts float16, and runs each layer direction
// (step.h). See custom_ops/README.md for the algorithm and the threading. Files of the CPU kernel:
//   gemm_dispatch.h  the instruction set (cpuid once; ONNX_RNN_CPU_ISA) -> GEMM tables (gemm.h, gemm_kernel.h)
//   pack.h           weight layout (unit-chunk interleaved) and the packs made at creation
//   step.{h,cc}      one direction: input GEMM, per-step recurrent GEMM + gate pass, projection
//   convert.h        float16 <-> float32 (half_convert.h)
//   runner.h         ONNX Runtime's thread pool
#include "lstm_cpu.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/aligned_buffer.h"
#include "cpu/convert.h"
#include "cpu/gemm_dispatch.h"
#include "cpu/pack.h"
#include "cpu/runner.h"
#include "cpu/step.h"
#include "kernel_io.h"
#include "lstm_params.h"
#include "ort_util.h"

namespace onnx_rnn {
namespace {

// The GEMM table of element type T in a path's kernels.
template <typename T>
const GemmKernel<T>& gemm_of(const CpuKernels& k);
template <>
const GemmKernel<float>& gemm_of<float>(const CpuKernels& k) {
  return k.f32;
}
template <>
const GemmKernel<double>& gemm_of<double>(const CpuKernels& k) {
  return k.f64;
}

// A constant initializer input of the node, as read at kernel creation.
struct ConstInput {
  bool present = false;
  TensorDesc desc;
  const void* data = nullptr;
};

// Reads input `index` if it is a constant initializer; anything else (a graph input, an omitted input, an API
// error) leaves it absent, and the input is then packed per call.
inline OrtStatus* read_constant_input(const OrtApi* api, const OrtKernelInfo* info, size_t index, ConstInput* out) {
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

template <typename IO>
OrtStatus* lstm_compute_cpu_impl(const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs,
                                 const CpuKernels& kernels, const ConstPacks<typename IoType<IO>::Compute>& packs) {
  using T = typename IoType<IO>::Compute;
  const bool f16c = kernels.f16c;
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
  scratch.reserve(10);                    // 7 inputs + 3 outputs (a buffer's data never moves anyway)
  const T* X = as_compute<IO, T>(in[kX].data, d.T * N * d.I, scratch, runner, f16c);
  const T* W = cW ? nullptr : as_compute<IO, T>(in[kW].data, D * 4 * H * d.I, scratch, runner, f16c);
  const T* R = cR ? nullptr : as_compute<IO, T>(in[kR].data, D * 4 * H * S, scratch, runner, f16c);
  const T* B = d.has_B && !cB ? as_compute<IO, T>(in[kB].data, D * 8 * H, scratch, runner, f16c) : nullptr;
  const T* h0 = d.has_h0 ? as_compute<IO, T>(in[kInitialH].data, D * N * S, scratch, runner, f16c) : nullptr;
  const T* c0 = d.has_c0 ? as_compute<IO, T>(in[kInitialC].data, D * N * H, scratch, runner, f16c) : nullptr;
  const T* Pw =
      d.has_proj && !cP ? as_compute<IO, T>(in[kProjection].data, D * d.P * H, scratch, runner, f16c) : nullptr;
  if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  T* Y = out_compute<IO, T>(y, y_size, scratch);
  T* Yh = out_compute<IO, T>(yh, yh_size, scratch);
  T* Yc = out_compute<IO, T>(yc, yc_size, scratch);
  if (Y && lens) std::fill(Y, Y + y_size, T(0));  // steps past len_b stay zero

  for (int dir = 0; dir < D; ++dir) {
    DirectionJob<T> job;
    job.X = X;
    job.W = W ? W + int64_t{dir} * 4 * H * d.I : nullptr;
    job.R = R ? R + int64_t{dir} * 4 * H * S : nullptr;
    job.B = B ? B + int64_t{dir} * 8 * H : nullptr;
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
    run_direction<T>(gemm_of<T>(kernels), d, attrs, runner, job);
    if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  }
  from_compute<IO, T>(Y, y, y_size, runner, f16c);
  from_compute<IO, T>(Yh, yh, yh_size, runner, f16c);
  from_compute<IO, T>(Yc, yc, yc_size, runner, f16c);
  if (runner.failed()) return make_status(api, ORT_RUNTIME_EXCEPTION, runner.error());
  return nullptr;
}

template <typename IO>
class CpuKernel final : public LstmCpuKernel {
  using T = typename IoType<IO>::Compute;

 public:
  CpuKernel(const LstmAttrs& attrs, const CpuKernels& kernels) : attrs_(attrs), kernels_(kernels) {}

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
    const WeightLayout<T> layout(gemm_of<T>(kernels_), H, I, S, P);
    const bool f16c = kernels_.f16c;
    packs_.dirs.resize(static_cast<size_t>(D));
    std::vector<T> conv;  // float16 -> float32 copy of one direction's tensor
    for (int64_t dir = 0; dir < D; ++dir) {
      auto& pd = packs_.dirs[dir];
      if (pw) {
        const T* Wd = const_as_compute<IO, T>(w.data, dir * 4 * H * I, 4 * H * I, conv, f16c);
        layout.pack_all_chunks(pd.W, layout.w_off, Wd, I);
      }
      if (pr) {
        const T* Rd = const_as_compute<IO, T>(r.data, dir * 4 * H * S, 4 * H * S, conv, f16c);
        layout.pack_all_chunks(pd.R, layout.r_off, Rd, S);
      }
      if (pp) {
        const T* Pd = const_as_compute<IO, T>(p.data, dir * P * H, P * H, conv, f16c);
        pd.P.resize(layout.p_off.back());
        for (int64_t t = 0; t < layout.ptiles.count; ++t) layout.pack_tile(pd.P.data() + layout.p_off[t], Pd, t);
      }
      if (pb) {
        const T* Bd = const_as_compute<IO, T>(b.data, dir * 8 * H, 8 * H, conv, f16c);
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
                                  [&] { return lstm_compute_cpu_impl<IO>(api, ctx, attrs_, kernels_, packs_); });
  }

 private:
  const LstmAttrs attrs_;
  const CpuKernels& kernels_;  // the instruction set's GEMM tables, fixed at creation (the packs' format)
  ConstPacks<T> packs_;        // read-only once init() has returned
};

}  // namespace

template <typename T>
OrtStatus* lstm_create_cpu(const OrtApi* api, const OrtKernelInfo* info, const LstmAttrs& attrs,
                           LstmCpuKernel** out) noexcept {
  *out = nullptr;
  return status_from_exceptions(api, "onnx_rnn.LSTM (creating the kernel)", [&]() -> OrtStatus* {
    std::string error;
    const CpuKernels* kernels = select_cpu_kernels(&error);
    if (!kernels) return make_status(api, ORT_INVALID_ARGUMENT, "onnx_rnn.LSTM: " + error);
    // nothrow: the allocation's failure is answered here with the same status status_from_exceptions gives.
    std::unique_ptr<CpuKernel<T>> k(new (std::nothrow) CpuKernel<T>(attrs, *kernels));
    if (!k) return make_status(api, ORT_RUNTIME_EXCEPTION, "onnx_rnn.LSTM (creating the kernel): out of memory");
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
