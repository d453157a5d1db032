// The packed GEMM interface of the CPU kernel: one table of functions per (element type, instruction set).
//
//   out (n x m, row-major, leading dimension ldo) += B (n x k) * A^T
//
// A (m x k, row-major) is a weight matrix (W, R or the projection), packed once (pack_a); B (n x k) is the
// state h (n = batch) or rows of X, packed per step / per call (pack_b). Each instruction set's kernel has
// its own packed format (gemm_kernel.h): a buffer packed by one table is used with that table only, which
// is why a kernel instance fixes its table when it is created (gemm_dispatch.h).
// All functions are single-threaded: callers split the work across ONNX Runtime's thread pool.
#ifndef ONNX_RNN_OPS_CPU_GEMM_H_
#define ONNX_RNN_OPS_CPU_GEMM_H_

#include <cstddef>

namespace onnx_rnn {

template <typename T>
struct GemmKernel {
  using Index = std::ptrdiff_t;
  const char* name;  // "avx512", "avx2", "baseline", "avx512-on-avx2"
  // Elements needed to hold `rows` rows of A or of B of depth k, packed (either format fits).
  size_t (*packed_size)(Index rows, Index k);
  // Packs A (m x k, row-major, leading dimension lda) into dst (packed_size(m, k) elements, 64-byte aligned).
  void (*pack_a)(T* dst, const T* A, Index lda, Index m, Index k);
  // Packs B (n x k, row-major, leading dimension ldb) into dst (packed_size(n, k) elements, 64-byte aligned).
  void (*pack_b)(T* dst, const T* B, Index ldb, Index n, Index k);
  // out += B * A^T from packed operands (m rows of A, n rows of B, depth k).
  void (*run)(T* out, Index ldo, const T* packed_a, const T* packed_b, Index m, Index n, Index k);
};

// The float32 FMA peak of one core with this table's instruction set, in GFLOP/s (2 flops per FMA lane),
// measured by running independent FMA chains for about `seconds` (see gemm_kernel.h, fma_peak).
using FmaPeakFn = double (*)(double seconds);

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_GEMM_H_
