// The baseline x86-64 kernels (SSE2 only, no FMA: the library's own compile flags): 4 float / 2 double lanes,
// groups of 4 rows x 3 vectors. Without FMA a multiply and an add are two instructions and the A vectors are
// not pinned to registers (there are too few xmm registers for both), so GCC may use memory operands.
#include <utility>

#include "cpu/gemm_dispatch.h"

namespace onnx_rnn {
namespace baseline {
#include "cpu/gemm_kernel.h"
using F32 = Gemm<float, 4, 4, 3, false>;
using F64 = Gemm<double, 2, 4, 3, false>;
float fma_loop(long iters) { return F32::fma_loop(iters); }
}  // namespace baseline

const CpuKernels& cpu_kernels_baseline() {
  using F = baseline::F32;
  using D = baseline::F64;
  static const CpuKernels k = {"baseline",
                               {"baseline", &F::packed_size, &F::pack_a, &F::pack_b, &F::run},
                               {"baseline", &D::packed_size, &D::pack_a, &D::pack_b, &D::run},
                               &baseline::fma_loop,
                               F::kFmaFlopsPerIter,
                               false};
  return k;
}

}  // namespace onnx_rnn
