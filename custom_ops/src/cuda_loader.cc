// Finds and loads the optional CUDA kernel library beside the plugin (see cuda_abi.h).
//
// The plugin never links CUDA: libonnx_rnn_ops_cuda.so (which needs libcublas) is dlopen()ed from the
// directory this library was loaded from, on first use, and only if that works are the CUDA kernels
// registered. A machine without CUDA libraries therefore gets the CPU kernels and nothing fails.
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
