// The AVX2 + FMA kernels (compiled with -mavx2 -mfma -mf16c, see CMakeLists.txt): 8 float / 4 double lanes,
// groups of 4 rows x 3 vectors (12 accumulators + 3 A vectors + 1 broadcast = the 16 ymm registers).
// Also "avx512-on-avx2": the AVX-512 blocking (16 float lanes, 8 rows) compiled for AVX2 (GCC splits each
// 512-bit operation in two), so that its logic is tested on CPUs without AVX-512.
#include <utility>

#include "cpu/gemm_dispatch.h"

namespace onnx_rnn {
namespace avx2 {
#include "cpu/gemm_kernel.h"
using F32 = Gemm<float, 8, 4, 3, true>;
using F64 = Gemm<double, 4, 4, 3, true>;
using F32On512 = Gemm<float, 16, 8, 3, false>;
using F64On512 = Gemm<double, 8, 8, 3, false>;
float fma_loop(long iters) { return F32::fma_loop(iters); }
float fma_loop_512(long iters) { return F32On512::fma_loop(iters); }
}  // namespace avx2

const CpuKernels& cpu_kernels_avx2() {
  static const CpuKernels k = {"avx2",
                               {"avx2", &avx2::F32::packed_size, &avx2::F32::pack_a, &avx2::F32::pack_b, &avx2::F32::run},
                               {"avx2", &avx2::F64::packed_size, &avx2::F64::pack_a, &avx2::F64::pack_b, &avx2::F64::run},
                               &avx2::fma_loop,
                               avx2::F32::kFmaFlopsPerIter,
                               true};
  return k;
}

const CpuKernels& cpu_kernels_avx512_on_avx2() {
  using F = avx2::F32On512;
  using D = avx2::F64On512;
  static const CpuKernels k = {"avx512-on-avx2",
                               {"avx512-on-avx2", &F::packed_size, &F::pack_a, &F::pack_b, &F::run},
                               {"avx512-on-avx2", &D::packed_size, &D::pack_a, &D::pack_b, &D::run},
                               &avx2::fma_loop_512,
                               F::kFmaFlopsPerIter,
                               true};
  return k;
}

}  // namespace onnx_rnn
