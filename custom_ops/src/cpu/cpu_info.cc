// Exported queries about the CPU kernel's instruction set, for `onnx-rnn info` and tools/roofline.py
// (onnx_rnn/runtime.py reads them with ctypes). Not part of the ONNX Runtime interface.
#include <string>

#include "cpu/gemm_dispatch.h"

namespace {
thread_local std::string g_answer;  // the returned string stays valid until the thread's next call
}

// The path a kernel created now uses ("avx2", ...), or "error: <why>" when ONNX_RNN_CPU_ISA is invalid here.
extern "C" __attribute__((visibility("default"))) const char* OnnxRnnCpuKernelPath(void) {
  std::string error;
  const onnx_rnn::CpuKernels* k = onnx_rnn::select_cpu_kernels(&error);
  g_answer = k ? std::string(k->name) : "error: " + error;
  return g_answer.c_str();
}

// The paths this CPU can run, best first, comma-separated.
extern "C" __attribute__((visibility("default"))) const char* OnnxRnnCpuKernelPaths(void) {
  return onnx_rnn::supported_cpu_paths();
}

// One core's float32 FMA peak (GFLOP/s) with the instruction set of the path in use, measured now for about
// `seconds`; negative when ONNX_RNN_CPU_ISA is invalid here.
extern "C" __attribute__((visibility("default"))) double OnnxRnnFmaPeakGflops(double seconds) {
  std::string error;
  const onnx_rnn::CpuKernels* k = onnx_rnn::select_cpu_kernels(&error);
  return k ? onnx_rnn::fma_peak_gflops(*k, seconds) : -1.0;
}
