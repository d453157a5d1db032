// CUDA kernel of onnx_rnn::LSTM (docs/custom_op.md): float32, and float16 with float32 accumulation.
// Built into libonnx_rnn_ops_cuda.so, which the plugin dlopen()s (cuda_abi.h, custom_ops/CUDA.md).
//
// Per layer direction, everything enqueued on the stream ONNX Runtime gives the kernel (no host sync):
//   1. XW = X (T*N, I) W^T                      one cuBLAS GEMM for all time steps (float output)
//   2. per step s = 0 .. T-1:
//        G = h (N, S) R^T                       cuBLAS GEMM (float output)
//        lstm_step_kernel                       one thread per (batch row, hidden unit): XW + G + both biases,
//                                               gates, clipping and state update with lstm_cell.h, sequence-length
//                                               masking and the reversed time index, computed per batch row on
//                                               the device (t < len_b is active; reverse: t = len_b - 1 - s)
//        with projection: hp = h_full (N, H) P^T (cuBLAS) and commit_projection_kernel (masked copy to h and Y)
// The cell state is kept in float for both types; h is kept in the model type (it is the recurrent GEMM's input).
// Scratch comes from ONNX Runtime's allocator for the device X lives on; the cuBLAS handle is created lazily,
// once per kernel instance and device, and bound to ORT's stream on every call.
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <climits>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "cuda_abi.h"
#include "kernel_io.h"
#include "lstm_params.h"
#include "onnx_rnn_ops/lstm_cell.h"
#include "onnxruntime_c_api.h"
#include "ort_util.h"

namespace onnx_rnn {
namespace {

constexpr int kThreads = 256;
constexpr size_t kAlign = 256;

// ------------------------------------------------------------------------------------------------ element types
template <typename T>
struct TypeTraits;
template <>
struct TypeTraits<float> {
  static constexpr cudaDataType_t cuda = CUDA_R_32F;
  static constexpr int32_t onnx = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
};
template <>
struct TypeTraits<__half> {
  static constexpr cudaDataType_t cuda = CUDA_R_16F;
  static constexpr int32_t onnx = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
};

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}

// ------------------------------------------------------------------------------------------------ device kernels
// Where one direction's step runs. Lengths are read on the device: sequence_lens[b] clamped to [0, T] (the values
// are never copied to the host, so unlike the CPU kernel an out-of-range length is not reported).
struct StepShape {
  int64_t T, N, H, S;
  int D, d;   // number of directions, this direction
  int64_t s;  // step
  bool reverse;
};

__device__ __forceinline__ bool active_time(const StepShape& sh, const int32_t* lens, int64_t b, int64_t* t) {
  int64_t len = sh.T;
  if (lens) {
    const int64_t l = lens[b];
    len = l < 0 ? 0 : (l > sh.T ? sh.T : l);
  }
  if (sh.s >= len) return false;  // past the end of this row: its state is carried, its outputs stay zero
  *t = sh.reverse ? len - 1 - sh.s : sh.s;
  return true;
}

template <typename T>
struct StepArgs {
  StepShape sh;
  const float* XW;      // (T, N, 4H): X W^T of this direction
  const float* G;       // (N, 4H): h R^T of this step
  const T* B;           // (8H): this direction's [Wb, Rb], or null
  const int32_t* lens;  // (N) or null
  cell::Clip<float> clip;
  float* c;   // (N, H) cell state
  T* h;       // (N, S) hidden state; written here only without projection
  T* h_full;  // (N, H) unprojected hidden state (input of the projection), or null
  T* Y;       // (T, D, N, S) or null
};

template <typename T>
__global__ void lstm_step_kernel(StepArgs<T> a) {
  const int64_t H = a.sh.H;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= a.sh.N * H) return;
  const int64_t b = idx / H;
  const int64_t j = idx - b * H;
  int64_t t = 0;
  if (!active_time(a.sh, a.lens, b, &t)) return;
  const float* xw = a.XW + (t * a.sh.N + b) * 4 * H + j;
  const float* g = a.G + b * 4 * H + j;
  float pre[cell::kNumGates];
#pragma unroll
  for (int k = 0; k < cell::kNumGates; ++k) {
    float v = xw[k * H] + g[k * H];
    if (a.B) v += to_float(a.B[k * H + j]) + to_float(a.B[(4 + k) * H + j]);
    pre[k] = v;
  }
  float c_new = 0.f, h_new = 0.f;
  cell::lstm_cell_step(pre[cell::kGateI], pre[cell::kGateO], pre[cell::kGateF], pre[cell::kGateC], a.c[idx], a.clip,
                       &c_new, &h_new);
  a.c[idx] = c_new;
  const T hv = from_float<T>(h_new);
  if (a.h_full) {
    a.h_full[idx] = hv;
    return;
  }
  a.h[idx] = hv;  // S == H without projection
  if (a.Y) a.Y[((t * a.sh.D + a.sh.d) * a.sh.N + b) * a.sh.S + j] = hv;
}

// With projection: h = hp for the active rows, and Y[t, d] = h. (S == P.)
template <typename T>
__global__ void commit_projection_kernel(StepShape sh, const float* hp, const int32_t* lens, T* h, T* Y) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= sh.N * sh.S) return;
  const int64_t b = idx / sh.S;
  const int64_t k = idx - b * sh.S;
  int64_t t = 0;
  if (!active_time(sh, lens, b, &t)) return;
  const T v = from_float<T>(hp[idx]);
  h[idx] = v;
  if (Y) Y[((t * sh.D + sh.d) * sh.N + b) * sh.S + k] = v;
}

// dst = float(src), or 0 where src is null.
template <typename T>
__global__ void load_cell_kernel(const T* src, float* dst, int64_t n) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx < n) dst[idx] = src ? to_float(src[idx]) : 0.f;
}

template <typename T>
__global__ void store_cell_kernel(const float* src, T* dst, int64_t n) {
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx < n) dst[idx] = from_float<T>(src[idx]);
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// ------------------------------------------------------------------------------------------------ host helpers
std::string cuda_message(const char* what, cudaError_t e) {
  return std::string("onnx_rnn.LSTM (CUDA): ") + what + " failed: " + cudaGetErrorName(e) + ": " +
         cudaGetErrorString(e);
}
std::string cublas_message(const char* what, cublasStatus_t e) {
  return std::string("onnx_rnn.LSTM (CUDA): ") + what + " failed: " + cublasGetStatusName(e) + ": " +
         cublasGetStatusString(e);
}

#define ONNX_RNN_CUDA_TRY(api, expr)                                                         \
  do {                                                                                       \
    const cudaError_t onnx_rnn_err__ = (expr);                                               \
    if (onnx_rnn_err__ != cudaSuccess)                                                       \
      return make_status((api), ORT_RUNTIME_EXCEPTION, cuda_message(#expr, onnx_rnn_err__)); \
  } while (0)

#define ONNX_RNN_CUBLAS_TRY(api, expr)                                                         \
  do {                                                                                         \
    const cublasStatus_t onnx_rnn_err__ = (expr);                                              \
    if (onnx_rnn_err__ != CUBLAS_STATUS_SUCCESS)                                               \
      return make_status((api), ORT_RUNTIME_EXCEPTION, cublas_message(#expr, onnx_rnn_err__)); \
  } while (0)

// Row-major C (n, m) = B (n, k) A (m, k)^T, i.e. column-major C (m, n) = A^T B, float output, float accumulation
// (CUBLAS_COMPUTE_32F: no TF32 for float32 inputs). n is cut into pieces that fit cuBLAS's int.
template <typename T>
OrtStatus* gemm_abt(const OrtApi* api, cublasHandle_t handle, int64_t m, int64_t n, int64_t k, const T* A, const T* B,
                    float* C) {
  if (m > INT_MAX || k > INT_MAX) {
    return make_status(api, ORT_INVALID_ARGUMENT,
                       "onnx_rnn.LSTM (CUDA): a matrix dimension exceeds cuBLAS's limit (2^31 - 1): m=" +
                           std::to_string(m) + " k=" + std::to_string(k));
  }
  const float alpha = 1.f, beta = 0.f;
  const int64_t piece = INT_MAX / 2;
  for (int64_t n0 = 0; n0 < n; n0 += piece) {
    const int64_t nn = n - n0 < piece ? n - n0 : piece;
    ONNX_RNN_CUBLAS_TRY(api, cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m), static_cast<int>(nn),
                                          static_cast<int>(k), &alpha, A, TypeTraits<T>::cuda, static_cast<int>(k),
                                          B + n0 * k, TypeTraits<T>::cuda, static_cast<int>(k), &beta, C + n0 * m,
                                          CUDA_R_32F, static_cast<int>(m), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  return nullptr;
}

// Per kernel instance: cuBLAS handles by device, created on first use. Compute() may be called from several
// threads at once (concurrent Run() calls): the mutex covers binding the handle to the stream and enqueueing.
class KernelState {
 public:
  explicit KernelState(int32_t type) : type_(type) {}
  ~KernelState() {
    for (auto& kv : handles_) {
      if (cudaSetDevice(kv.first) == cudaSuccess) cublasDestroy(kv.second);  // errors at teardown are ignored
    }
  }
  int32_t type() const { return type_; }
  std::mutex& mutex() { return mu_; }
  // Call with mutex() held.
  cublasStatus_t handle(int device, cublasHandle_t* out) {
    auto it = handles_.find(device);
    if (it != handles_.end()) {
      *out = it->second;
      return CUBLAS_STATUS_SUCCESS;
    }
    cublasHandle_t h = nullptr;
    cublasStatus_t st = cublasCreate(&h);
    if (st != CUBLAS_STATUS_SUCCESS) return st;
    st = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
    if (st != CUBLAS_STATUS_SUCCESS) {
      cublasDestroy(h);
      return st;
    }
    handles_[device] = h;
    *out = h;
    return CUBLAS_STATUS_SUCCESS;
  }

 private:
  int32_t type_;
  std::mutex mu_;
  std::map<int, cublasHandle_t> handles_;
};

// Device scratch from ORT's allocator, returned (and the allocator released) on every exit path.
class Scratch {
 public:
  explicit Scratch(const OrtApi* api) : api_(api) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (alloc_) {
      if (base_) alloc_->Free(alloc_, base_);
      api_->ReleaseAllocator(alloc_);
    }
  }
  OrtStatus* init(OrtKernelContext* ctx, const OrtMemoryInfo* info) {
    return api_->KernelContext_GetAllocator(ctx, info, &alloc_);
  }
  // Reserves n elements of type U; call before allocate().
  template <typename U>
  size_t reserve(int64_t n) {
    const size_t at = size_;
    size_ += (static_cast<size_t>(n) * sizeof(U) + kAlign - 1) / kAlign * kAlign;
    return at;
  }
  OrtStatus* allocate() {
    if (size_ == 0) return nullptr;
    base_ = alloc_->Alloc(alloc_, size_);
    if (!base_) {
      return make_status(api_, ORT_RUNTIME_EXCEPTION,
                         "onnx_rnn.LSTM (CUDA): cannot allocate " + std::to_string(size_) + " bytes of scratch");
    }
    return nullptr;
  }
  template <typename U>
  U* at(size_t offset) const {
    return reinterpret_cast<U*>(static_cast<char*>(base_) + offset);
  }

 private:
  const OrtApi* api_;
  OrtAllocator* alloc_ = nullptr;
  void* base_ = nullptr;
  size_t size_ = 0;
};

template <typename T>
OrtStatus* compute_impl(KernelState* state, const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs& attrs) {
  InputView in[kNumInputs];
  LstmDims d;
  size_t nout = 0;
  ONNX_RNN_RETURN_IF_ERROR(read_lstm_inputs(api, ctx, attrs, TypeTraits<T>::onnx, in, &d, &nout));

  void* y = nullptr;
  void* yh = nullptr;
  void* yc = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(get_lstm_outputs(api, ctx, nout, d, &y, &yh, &yc));
  if (d.N == 0) return nullptr;  // every output is empty

  const int64_t T_ = d.T, N = d.N, I = d.I, H = d.H, S = d.S, P = d.P, G4 = 4 * H;
  T* Y = static_cast<T*>(y);
  T* Yh = static_cast<T*>(yh);
  T* Yc = static_cast<T*>(yc);
  const T* X = static_cast<const T*>(in[kX].data);
  const T* W = static_cast<const T*>(in[kW].data);
  const T* R = static_cast<const T*>(in[kR].data);
  const T* B = d.has_B ? static_cast<const T*>(in[kB].data) : nullptr;
  const int32_t* lens = d.has_seq ? static_cast<const int32_t*>(in[kSeqLens].data) : nullptr;
  const T* h0 = d.has_h0 ? static_cast<const T*>(in[kInitialH].data) : nullptr;
  const T* c0 = d.has_c0 ? static_cast<const T*>(in[kInitialC].data) : nullptr;
  const T* Pw = d.has_proj ? static_cast<const T*>(in[kProjection].data) : nullptr;

  // The device and stream ORT runs this node on.
  const OrtMemoryInfo* x_info = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->GetTensorMemoryInfo(in[kX].value, &x_info));
  int device = 0;
  ONNX_RNN_RETURN_IF_ERROR(api->MemoryInfoGetId(x_info, &device));
  int current = -1;
  ONNX_RNN_CUDA_TRY(api, cudaGetDevice(&current));
  if (current != device) ONNX_RNN_CUDA_TRY(api, cudaSetDevice(device));
  void* stream_ptr = nullptr;
  ONNX_RNN_RETURN_IF_ERROR(api->KernelContext_GetGPUComputeStream(ctx, &stream_ptr));
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);

  Scratch scratch(api);
  ONNX_RNN_RETURN_IF_ERROR(scratch.init(ctx, x_info));
  const size_t o_xw = scratch.reserve<float>(T_ * N * G4);
  const size_t o_g = scratch.reserve<float>(N * G4);
  const size_t o_c = scratch.reserve<float>(N * H);
  const size_t o_h = scratch.reserve<T>(N * S);
  const size_t o_hf = scratch.reserve<T>(d.has_proj ? N * H : 0);
  const size_t o_hp = scratch.reserve<float>(d.has_proj ? N * P : 0);
  ONNX_RNN_RETURN_IF_ERROR(scratch.allocate());
  float* XW = scratch.at<float>(o_xw);
  float* Gs = scratch.at<float>(o_g);
  float* c = scratch.at<float>(o_c);
  T* h = scratch.at<T>(o_h);
  T* h_full = d.has_proj ? scratch.at<T>(o_hf) : nullptr;
  float* hp = d.has_proj ? scratch.at<float>(o_hp) : nullptr;

  std::lock_guard<std::mutex> lock(state->mutex());
  cublasHandle_t blas = nullptr;
  ONNX_RNN_CUBLAS_TRY(api, state->handle(device, &blas));
  ONNX_RNN_CUBLAS_TRY(api, cublasSetStream(blas, stream));

  if (Y) ONNX_RNN_CUDA_TRY(api, cudaMemsetAsync(Y, 0, sizeof(T) * T_ * d.D * N * S, stream));  // t >= len_b stays 0

  cell::Clip<float> clip;
  clip.enabled = attrs.has_clip;
  clip.nan_to_min = attrs.clip_nan;
  clip.lo = static_cast<float>(attrs.clip_min);
  clip.hi = static_cast<float>(attrs.clip_max);

  for (int dir = 0; dir < d.D; ++dir) {
    const T* Wd = W + dir * G4 * I;
    const T* Rd = R + dir * G4 * S;
    const T* Pd = Pw ? Pw + dir * P * H : nullptr;
    StepShape sh;
    sh.T = T_;
    sh.N = N;
    sh.H = H;
    sh.S = S;
    sh.D = d.D;
    sh.d = dir;
    sh.s = 0;
    sh.reverse = attrs.direction == Direction::kReverse || (attrs.direction == Direction::kBidirectional && dir == 1);

    // 1. Input products for every time step.
    if (T_ > 0) {
      if (I > 0) {
        ONNX_RNN_RETURN_IF_ERROR(gemm_abt<T>(api, blas, G4, T_ * N, I, Wd, X, XW));
      } else {
        ONNX_RNN_CUDA_TRY(api, cudaMemsetAsync(XW, 0, sizeof(float) * T_ * N * G4, stream));
      }
    }
    // 2. Initial state.
    if (h0) {
      ONNX_RNN_CUDA_TRY(api, cudaMemcpyAsync(h, h0 + dir * N * S, sizeof(T) * N * S, cudaMemcpyDeviceToDevice, stream));
    } else {
      ONNX_RNN_CUDA_TRY(api, cudaMemsetAsync(h, 0, sizeof(T) * N * S, stream));
    }
    load_cell_kernel<T><<<blocks_for(N * H), kThreads, 0, stream>>>(c0 ? c0 + dir * N * H : nullptr, c, N * H);
    ONNX_RNN_CUDA_TRY(api, cudaGetLastError());

    // 3. The recurrence.
    StepArgs<T> a;
    a.XW = XW;
    a.G = Gs;
    a.B = B ? B + dir * 8 * H : nullptr;
    a.lens = lens;
    a.clip = clip;
    a.c = c;
    a.h = h;
    a.h_full = h_full;
    a.Y = Y;
    for (int64_t s = 0; s < T_; ++s) {
      sh.s = s;
      a.sh = sh;
      ONNX_RNN_RETURN_IF_ERROR(gemm_abt<T>(api, blas, G4, N, S, Rd, h, Gs));
      lstm_step_kernel<T><<<blocks_for(N * H), kThreads, 0, stream>>>(a);
      ONNX_RNN_CUDA_TRY(api, cudaGetLastError());
      if (Pd) {
        ONNX_RNN_RETURN_IF_ERROR(gemm_abt<T>(api, blas, P, N, H, Pd, h_full, hp));
        commit_projection_kernel<T><<<blocks_for(N * S), kThreads, 0, stream>>>(sh, hp, lens, h, Y);
        ONNX_RNN_CUDA_TRY(api, cudaGetLastError());
      }
    }

    // 4. Final states: the state after each row's last valid step (inactive steps left it unchanged).
    if (Yh) {
      ONNX_RNN_CUDA_TRY(api, cudaMemcpyAsync(Yh + dir * N * S, h, sizeof(T) * N * S, cudaMemcpyDeviceToDevice, stream));
    }
    if (Yc) {
      store_cell_kernel<T><<<blocks_for(N * H), kThreads, 0, stream>>>(c, Yc + dir * N * H, N * H);
      ONNX_RNN_CUDA_TRY(api, cudaGetLastError());
    }
  }
  // The scratch goes back to ORT's allocator now, with work still queued on `stream`: ORT's CUDA allocator hands
  // memory out in stream order, as for its own kernels' scratch buffers.
  return nullptr;
}

template <typename T>
OrtStatus* compute_guarded(KernelState* state, const OrtApi* api, OrtKernelContext* ctx,
                           const LstmAttrs& attrs) noexcept {
  return status_from_exceptions(api, "onnx_rnn.LSTM (CUDA)", [&] { return compute_impl<T>(state, api, ctx, attrs); });
}

// ------------------------------------------------------------------------------------------------ the table
void* create_state(int32_t float_type) {
  if (float_type != TypeTraits<float>::onnx && float_type != TypeTraits<__half>::onnx) return nullptr;
  return new (std::nothrow) KernelState(float_type);
}

void destroy_state(void* state) { delete static_cast<KernelState*>(state); }

OrtStatus* compute(void* state, const OrtApi* api, OrtKernelContext* ctx, const LstmAttrs* attrs) {
  auto* s = static_cast<KernelState*>(state);
  if (s->type() == TypeTraits<__half>::onnx) return compute_guarded<__half>(s, api, ctx, *attrs);
  return compute_guarded<float>(s, api, ctx, *attrs);
}

const int32_t kFloatTypes[] = {TypeTraits<float>::onnx, TypeTraits<__half>::onnx};

const OnnxRnnCudaKernels kTable = {
    ONNX_RNN_CUDA_ABI_VERSION, ORT_API_VERSION, kFloatTypes, 2, &create_state, &destroy_state, &compute,
};

}  // namespace
}  // namespace onnx_rnn

extern "C" __attribute__((visibility("default"))) const OnnxRnnCudaKernels* OnnxRnnCudaKernelTable(void) {
  return &onnx_rnn::kTable;
}
