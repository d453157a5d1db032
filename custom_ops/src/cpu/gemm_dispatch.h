// Runtime choice of the CPU kernel's instruction set: one header for every dispatched kernel.
//
// The library is compiled for baseline x86-64; the kernels that need more (the packed GEMMs, the FMA peak
// loop, F16C conversion) are compiled once per instruction set in translation units of their own
// (gemm_baseline.cc, gemm_avx2.cc, gemm_avx512.cc, half_convert_f16c.cc, each with its own -m flags) and
// reached only through the tables below. The CPU is probed once (cpuid, and xgetbv for the registers the OS
// saves); each kernel instance picks its table when it is created: the best path the CPU supports, or the one
// the environment variable ONNX_RNN_CPU_ISA names (for tests and comparisons):
//   ONNX_RNN_CPU_ISA = auto (or unset) | avx512 | avx2 | baseline | avx512-on-avx2
// "avx512-on-avx2" is the AVX-512 path's blocking (16-lane vectors, 8-row groups) compiled for AVX2, which
// lets CPUs without AVX-512 run and test its logic. Naming a path this CPU cannot run, or an unknown name, is
// an error (kernel creation fails with a status naming the supported paths): never a silent fallback.
#ifndef ONNX_RNN_OPS_CPU_GEMM_DISPATCH_H_
#define ONNX_RNN_OPS_CPU_GEMM_DISPATCH_H_

#include <string>

#include "cpu/gemm.h"

namespace onnx_rnn {

// Everything a kernel instance runs that depends on the instruction set.
struct CpuKernels {
  const char* name;  // as in ONNX_RNN_CPU_ISA
  GemmKernel<float> f32;
  GemmKernel<double> f64;
  float (*fma_loop)(long iters);  // float32 FMA chains (fma_peak_gflops)
  long fma_flops_per_iter;
  bool f16c;  // float16 <-> float32 conversion with F16C instructions
};

// Defined in the per-instruction-set translation units.
const CpuKernels& cpu_kernels_baseline();
const CpuKernels& cpu_kernels_avx2();
const CpuKernels& cpu_kernels_avx512_on_avx2();
const CpuKernels& cpu_kernels_avx512();

// The kernels for an instance created now; null (and *error set) when ONNX_RNN_CPU_ISA is unknown or names a
// path this CPU (or its OS) cannot run.
const CpuKernels* select_cpu_kernels(std::string* error);

// The paths this CPU can run, best first, comma-separated ("avx512,avx2,avx512-on-avx2,baseline").
const char* supported_cpu_paths();

// One core's float32 FMA peak with these kernels' instruction set, GFLOP/s, measured for about `seconds`.
double fma_peak_gflops(const CpuKernels& k, double seconds);

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_GEMM_DISPATCH_H_
