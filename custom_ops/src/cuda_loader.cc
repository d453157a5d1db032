// Finds and loads the optional CUDA kernel library beside the plugin (see cuda_abi.h).
//
// The plugin never links CUDA: libonnx_rnn_ops_cuda.so (which needs libcublas) is dlopen()ed from the
// directory this library was loaded from, on first use, and only if that works are the CUDA kernels
// registered. A machine without CUDA libraries therefore gets the CPU kernels and nothing fails. Before that, the
// NVIDIA driver (libcuda.so.1, also dlopen()ed) must report a usable device: without one, neither the CUDA
// library nor the CUDA runtime and cuBLAS it links are mapped into the process.
#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "cuda_abi.h"

namespace onnx_rnn {
namespace {

struct CudaLoad {
  const OnnxRnnCudaKernels* kernels = nullptr;
  std::string status;
};

// Any address inside this library, for dladdr().
void anchor() {}

std::string own_directory() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&anchor), &info) || !info.dli_fname) return "";
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// "" when the driver reports at least one usable CUDA device, else why not.
std::string cuda_device_problem() {
  dlerror();
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    const char* why = dlerror();
    return std::string("no NVIDIA driver (libcuda.so.1: ") + (why ? why : "not found") + ")";
  }
  using InitFn = int (*)(unsigned int);
  using CountFn = int (*)(int*);
  auto init = reinterpret_cast<InitFn>(dlsym(driver, "cuInit"));
  auto count = reinterpret_cast<CountFn>(dlsym(driver, "cuDeviceGetCount"));
  if (!init || !count) {
    dlclose(driver);
    return "libcuda.so.1 lacks cuInit/cuDeviceGetCount";
  }
  const int rc = init(0);
  if (rc != 0) {
    dlclose(driver);
    return "no usable CUDA device (cuInit returned CUresult " + std::to_string(rc) + ")";
  }
  int devices = 0;
  const int rc2 = count(&devices);
  if (rc2 != 0 || devices <= 0) {  // the driver stays loaded: it was initialised
    return rc2 != 0 ? "cuDeviceGetCount returned CUresult " + std::to_string(rc2) : "no CUDA device";
  }
  return "";  // stays loaded: the CUDA library uses it
}

CudaLoad load() {
  CudaLoad out;
  const char* off = std::getenv("ONNX_RNN_DISABLE_CUDA");
  if (off && *off && std::string(off) != "0") {
    out.status = "disabled by ONNX_RNN_DISABLE_CUDA";
    return out;
  }
  const std::string dir = own_directory();
  if (dir.empty()) {
    out.status = "cannot tell where the plugin library lies (dladdr failed)";
    return out;
  }
  const std::string path = dir + "/" + ONNX_RNN_CUDA_LIBRARY_NAME;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    out.status = "not built: no " + path + " (the plugin was built without nvcc/cuBLAS)";
    return out;
  }
  const std::string no_device = cuda_device_problem();
  if (!no_device.empty()) {
    out.status = "not loaded: " + no_device;
    return out;
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    out.status = std::string("cannot load ") + path + ": " + (why ? why : "unknown error");
    return out;
  }
  auto entry = reinterpret_cast<OnnxRnnCudaKernelTableFn>(dlsym(handle, ONNX_RNN_CUDA_ENTRY_POINT));
  const OnnxRnnCudaKernels* table = entry ? entry() : nullptr;
  if (!table) {
    out.status = path + " has no " ONNX_RNN_CUDA_ENTRY_POINT;
  } else if (table->abi_version != ONNX_RNN_CUDA_ABI_VERSION || table->ort_api_version != ORT_API_VERSION) {
    out.status = path + " is from another build (ABI " + std::to_string(table->abi_version) + ", expected " +
                 std::to_string(ONNX_RNN_CUDA_ABI_VERSION) + "); rebuild the package";
  } else {
    out.kernels = table;
    out.status = "loaded " + path;
    return out;  // never dlclose()d: registered ops point into it
  }
  dlclose(handle);
  return out;
}

const CudaLoad& loaded() {
  static const CudaLoad once = load();  // thread-safe initialisation
  return once;
}

}  // namespace

const OnnxRnnCudaKernels* cuda_kernels() { return loaded().kernels; }

const char* cuda_status() { return loaded().status.c_str(); }

}  // namespace onnx_rnn
