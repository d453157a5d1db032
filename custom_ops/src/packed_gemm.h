// GEMM with operands packed ahead of time, on Eigen 3.4's blocked kernel (gebp).
//
// Eigen's matrix product packs both operands into cache-friendly panels on every call. In an RNN the weight
// operand is the same at every time step, so the plugin packs it once per call (pack_a) and per step only packs
// the small state operand (pack_b, N x K) and runs Eigen's micro-kernel (gebp) on the packed panels. This
// halves the time of the recurrent product at N = 8 compared with Eigen's plain product (see README.md).
//
// Uses Eigen::internal (gebp_kernel, gemm_pack_lhs/rhs, gebp_traits), the same blocks Eigen's own GEMM is
// built from; pinned to Eigen 3.4 by the static_assert below (tools/fetch_ort_headers.sh fetches 3.4.0).
// All functions are single-threaded: callers split the work across ONNX Runtime's thread pool.
#ifndef ONNX_RNN_OPS_PACKED_GEMM_H_
#define ONNX_RNN_OPS_PACKED_GEMM_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include <Eigen/Core>

#include "sgemm_avx2.h"

static_assert(EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90),
              "packed_gemm.h uses Eigen 3.4's internal GEMM blocks");

namespace onnx_rnn {

// Owning, 64-byte aligned, uninitialized buffer (packed panels need vector alignment).
template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  void resize(size_t n) {
    if (n <= size_) return;
    void* p = ::operator new[](n * sizeof(T) + 64, std::nothrow);
    if (!p) throw std::bad_alloc();
    raw_.reset(static_cast<unsigned char*>(p));
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    data_ = reinterpret_cast<T*>((addr + 63) & ~std::uintptr_t(63));
    size_ = n;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(unsigned char* p) const { ::operator delete[](p); }
  };
  std::unique_ptr<unsigned char, Free> raw_;
  T* data_ = nullptr;
  size_t size_ = 0;
};

// out (n x m, row-major, leading dimension ldo) += A (m x k, row-major) * B^T, with B (n x k, row-major):
//   out[j][i] += sum_p A[i][p] * B[j][p]
// i.e. for an RNN: gates (N x 4H) += h (N x S) * R^T with A = R (4H x S) packed once and B = h packed per step.
// The depth is cut into blocks of kDepthBlock so that a packed panel of A stays in L1/L2.
template <typename T>
struct PackedGemm {
  using Index = Eigen::Index;
  using Traits = Eigen::internal::gebp_traits<T, T>;
  using AMapper = Eigen::internal::const_blas_data_mapper<T, Index, Eigen::RowMajor>;
  using BMapper = Eigen::internal::const_blas_data_mapper<T, Index, Eigen::ColMajor>;
  using OutMapper = Eigen::internal::blas_data_mapper<T, Index, Eigen::ColMajor>;

  static constexpr Index kDepthBlock = 256;
  static constexpr Index kAlign = 64 / sizeof(T);

  static Index round_up(Index n) { return (n + kAlign - 1) / kAlign * kAlign; }
  static Index depth_blocks(Index k) { return k == 0 ? 0 : (k + kDepthBlock - 1) / kDepthBlock; }

  // Elements needed to hold `rows` rows (of A) or columns (of B) of depth k, packed.
  static size_t packed_size(Index rows, Index k) {
    size_t n = 0;
    for (Index k0 = 0; k0 < k; k0 += kDepthBlock) n += static_cast<size_t>(round_up(rows * std::min(kDepthBlock, k - k0)));
    return n + kAlign;
  }

  // Packs A (m x k, row-major, leading dimension lda) into dst (packed_size(m, k) elements, 64-byte aligned).
  static void pack_a(T* dst, const T* A, Index lda, Index m, Index k) {
    Eigen::internal::gemm_pack_lhs<T, Index, AMapper, Traits::mr, Traits::LhsProgress,
                                   typename Traits::LhsPacket4Packing, Eigen::RowMajor>
        pack;
    for (Index k0 = 0; k0 < k; k0 += kDepthBlock) {
      const Index kc = std::min(kDepthBlock, k - k0);
      pack(dst, AMapper(A + k0, lda), kc, m);
      dst += round_up(m * kc);
    }
  }

  // Packs B (n x k, row-major, leading dimension ldb) into dst (packed_size(n, k) elements, 64-byte aligned).
  static void pack_b(T* dst, const T* B, Index ldb, Index n, Index k) {
    Eigen::internal::gemm_pack_rhs<T, Index, BMapper, Traits::nr, Eigen::ColMajor> pack;
    for (Index k0 = 0; k0 < k; k0 += kDepthBlock) {
      const Index kc = std::min(kDepthBlock, k - k0);
      pack(dst, BMapper(B + k0, ldb), kc, n);
      dst += round_up(n * kc);
    }
  }

  // out += A * B^T from packed operands (m rows of A, n rows of B, depth k).
  static void run(T* out, Index ldo, const T* packed_a, const T* packed_b, Index m, Index n, Index k) {
    Eigen::internal::gebp_kernel<T, T, Index, OutMapper, Traits::mr, Traits::nr, false, false> gebp;
    for (Index k0 = 0; k0 < k; k0 += kDepthBlock) {
      const Index kc = std::min(kDepthBlock, k - k0);
      gebp(OutMapper(out, ldo), packed_a, packed_b, m, kc, n, T(1));
      packed_a += round_up(m * kc);
      packed_b += round_up(n * kc);
    }
  }
};

// The packed GEMM used for element type T: for float, the AVX2/FMA kernel of sgemm_avx2.h when the compiler
// targets AVX2 and FMA (ONNX_RNN_NATIVE on such a CPU), else Eigen's (float64 always). Both have the
// interface above; their packed formats differ, so everything packed for one kernel is used with it only.
template <typename T>
struct GemmSelect {
  using type = PackedGemm<T>;
};
#ifdef ONNX_RNN_SGEMM_AVX2
template <>
struct GemmSelect<float> {
  using type = Avx2PackedGemm;
};
#endif
template <typename T>
using GemmFor = typename GemmSelect<T>::type;

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_PACKED_GEMM_H_
