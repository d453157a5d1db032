// The AVX-512 kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c, see
// CMakeLists.txt): 16 float / 8 double lanes, groups of 8 rows x 3 vectors (24 accumulators + 3 A vectors +
// 1 broadcast of the 32 zmm registers; N = 8 is then one group, the weight panel is read once per step).
// The same template with the same parameters is built for AVX2 in gemm_avx2.cc ("avx512-on-avx2").
#include <utility>

#include "cpu/gemm_dispatch.h"

namespace onnx_rnn {
namespace avx512 {
#include "cpu/gemm_kernel.h"
using F32 = Gemm<float, 16, 8, 3, true>;
using F64 = Gemm<double, 8, 8, 3, true>;
float fma_loop(long iters) { return F32::fma_loop(iters); }
}  // namespace avx512

const CpuKernels& cpu_kernels_avx512() {
  using F = avx512::F32;
  using D = avx512::F64;
  static const CpuKernels k = {"avx512",
                               {"avx512", &F::packed_size, &F::pack_a, &F::pack_b, &F::run},
                               {"avx512", &D::packed_size, &D::pack_a, &D::pack_b, &D::run},
                               &avx512::fma_loop,
                               F::kFmaFlopsPerIter,
                               true};
  return k;
}

}  // namespace onnx_rnn
