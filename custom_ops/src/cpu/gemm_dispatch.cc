// Probing the CPU (once) and choosing a kernel instance's instruction set; see gemm_dispatch.h.
#include "cpu/gemm_dispatch.h"

#include <cpuid.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace onnx_rnn {
namespace {

// What the CPU supports and the OS has enabled (XCR0: the register state it saves on a context switch).
struct CpuFeatures {
  bool avx2 = false;    // AVX2 + FMA + F16C, with ymm state enabled
  bool avx512 = false;  // AVX-512 F, BW, VL, DQ, with opmask and zmm state enabled
};

unsigned long long read_xcr0() {
  unsigned eax = 0, edx = 0;
  asm volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures probe_cpu() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12), f16c = c & (1u << 29);
  if (!osxsave || !avx) return f;
  const unsigned long long xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm_state = (xcr0 & 0xe0) == 0xe0;  // opmask + ZMM_Hi256 + Hi16_ZMM state
  unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
  if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return f;
  const bool avx2 = b7 & (1u << 5);
  const bool avx512 = (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31));
  f.avx2 = ymm_state && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_state && avx512;
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = probe_cpu();  // once per process (thread-safe static initialization)
  return f;
}

struct Path {
  const char* name;
  const CpuKernels& (*kernels)();
  bool (*supported)(const CpuFeatures&);
};

// Best first.
const Path kPaths[] = {
    {"avx512", &cpu_kernels_avx512, [](const CpuFeatures& f) { return f.avx512; }},
    {"avx2", &cpu_kernels_avx2, [](const CpuFeatures& f) { return f.avx2; }},
    {"avx512-on-avx2", &cpu_kernels_avx512_on_avx2, [](const CpuFeatures& f) { return f.avx2; }},
    {"baseline", &cpu_kernels_baseline, [](const CpuFeatures&) { return true; }},
};

std::string list_supported() {
  std::string s;
  for (const Path& p : kPaths) {
    if (!p.supported(cpu_features())) continue;
    if (!s.empty()) s += ',';
    s += p.name;
  }
  return s;
}

}  // namespace

const char* supported_cpu_paths() {
  static const std::string s = list_supported();
  return s.c_str();
}

const CpuKernels* select_cpu_kernels(std::string* error) {
  const char* env = std::getenv("ONNX_RNN_CPU_ISA");
  const bool automatic = !env || !*env || std::strcmp(env, "auto") == 0;
  for (const Path& p : kPaths) {
    if (automatic) {
      if (p.supported(cpu_features()) && std::strcmp(p.name, "avx512-on-avx2") != 0) return &p.kernels();
      continue;
    }
    if (std::strcmp(env, p.name) != 0) continue;
    if (p.supported(cpu_features())) return &p.kernels();
    *error = std::string("ONNX_RNN_CPU_ISA=") + env + ": this CPU (or its OS) cannot run that path; it can run " +
             supported_cpu_paths();
    return nullptr;
  }
  *error =
      std::string("ONNX_RNN_CPU_ISA=") + env +
      ": unknown path; expected auto, avx512, avx2, avx512-on-avx2 or baseline (this CPU: " + supported_cpu_paths() +
      ")";
  return nullptr;
}

double fma_peak_gflops(const CpuKernels& k, double seconds) {
  using Clock = std::chrono::steady_clock;
  long iters = 1 << 16;
  volatile float sink = 0;
  for (;;) {  // grow the loop until one run takes ~seconds / 4, then keep the fastest of 4 runs
    const auto t0 = Clock::now();
    sink = sink + k.fma_loop(iters);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    if (dt > seconds / 4 || iters > (1L << 40)) break;
    iters *= 2;
  }
  double best = 1e300;
  for (int r = 0; r < 4; ++r) {
    const auto t0 = Clock::now();
    sink = sink + k.fma_loop(iters);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return static_cast<double>(iters) * static_cast<double>(k.fma_flops_per_iter) / best * 1e-9;
}

}  // namespace onnx_rnn
