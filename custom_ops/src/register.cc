// Registration of the onnx_rnn custom-op domain. Exported: RegisterCustomOps(), and OnnxRnnPluginProviders() /
// OnnxRnnPluginCudaStatus() that tell which execution providers the plugin serves.
//
// One OrtCustomOp per (execution provider, element type): CPU float32, float64 and float16 (computed in float32),
// always; CUDA float32 and float16 when the CUDA kernel library (libonnx_rnn_ops_cuda.so, dlopen()ed by
// cuda_loader.cc) loads.
#include <climits>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_abi.h"
#include "lstm_cpu.h"
#include "lstm_params.h"
#include "onnxruntime_c_api.h"
#include "ort_util.h"

namespace onnx_rnn {
namespace {

const OrtApi* g_api = nullptr;

struct LstmKernel {
  LstmAttrs attrs;
  LstmCpuKernel* cpu = nullptr;               // CPU kernels (owned; holds the weights packed at creation)
  const OnnxRnnCudaKernels* cuda = nullptr;  // CUDA kernels: compute through this table, with `state`
  void* state = nullptr;
  ~LstmKernel() { delete cpu; }
};

// OrtCustomOp must be the first base so that ORT's OrtCustomOp* can be cast back.
struct LstmOp : OrtCustomOp {
  const char* ep;                       // execution provider type
  ONNXTensorElementDataType float_type;  // X, W, R, B, initial_h, initial_c, projection, outputs
  LstmCpuCreateFn create_cpu;        // CPU
  const OnnxRnnCudaKernels* cuda;    // CUDA (create_cpu is null)
};

const LstmOp* self(const OrtCustomOp* op) { return static_cast<const LstmOp*>(op); }

// Attribute readers: `present` false when the attribute is absent (or of another type).
bool attr_int(const OrtKernelInfo* info, const char* name, int64_t* out) {
  OrtStatus* st = g_api->KernelInfoGetAttribute_int64(info, name, out);
  if (st) {
    g_api->ReleaseStatus(st);
    return false;
  }
  return true;
}
bool attr_float(const OrtKernelInfo* info, const char* name, double* out) {
  float v = 0.f;
  OrtStatus* st = g_api->KernelInfoGetAttribute_float(info, name, &v);
  if (st) {
    g_api->ReleaseStatus(st);
    return false;
  }
  *out = v;
  return true;
}
bool attr_string(const OrtKernelInfo* info, const char* name, std::string* out) {
  size_t size = 0;
  OrtStatus* st = g_api->KernelInfoGetAttribute_string(info, name, nullptr, &size);
  if (st) {
    g_api->ReleaseStatus(st);
    return false;
  }
  std::vector<char> buf(size + 1, '\0');
  st = g_api->KernelInfoGetAttribute_string(info, name, buf.data(), &size);
  if (st) {
    g_api->ReleaseStatus(st);
    return false;
  }
  *out = std::string(buf.data());
  return true;
}

OrtStatus* ORT_API_CALL create_kernel(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info,
                                      void** kernel) noexcept {
  *kernel = nullptr;
  try {
    int64_t hidden_size = 0, clip_nan = 0, layout = 0;
    if (!attr_int(info, "hidden_size", &hidden_size)) {
      return api->CreateStatus(ORT_INVALID_ARGUMENT,
                               "onnx_rnn.LSTM: attribute 'hidden_size' (int) is required but missing");
    }
    std::string direction = "forward";
    attr_string(info, "direction", &direction);
    double clip_min = 0, clip_max = 0;
    const bool has_min = attr_float(info, "clip_min", &clip_min);
    const bool has_max = attr_float(info, "clip_max", &clip_max);
    attr_int(info, "clip_nan", &clip_nan);
    attr_int(info, "layout", &layout);
    auto* k = new LstmKernel();
    std::string err = validate_lstm_attrs(hidden_size, direction, has_min, clip_min, has_max, clip_max, clip_nan,
                                          layout, &k->attrs);
    if (!err.empty()) {
      delete k;
      return api->CreateStatus(ORT_INVALID_ARGUMENT, err.c_str());
    }
    k->cuda = self(op)->cuda;
    if (!k->cuda) {
      OrtStatus* st = self(op)->create_cpu(api, info, k->attrs, &k->cpu);
      if (st) {
        delete k;
        return st;
      }
    } else {
      k->state = k->cuda->create(self(op)->float_type);
      if (!k->state) {
        delete k;
        return api->CreateStatus(ORT_RUNTIME_EXCEPTION, "onnx_rnn.LSTM: cannot create the CUDA kernel state");
      }
    }
    *kernel = k;
    return nullptr;
  } catch (const std::exception& e) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, (std::string("onnx_rnn.LSTM: ") + e.what()).c_str());
  } catch (...) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, "onnx_rnn.LSTM: unknown error creating the kernel");
  }
}

OrtStatus* ORT_API_CALL compute(void* kernel, OrtKernelContext* ctx) noexcept {
  const auto* k = static_cast<const LstmKernel*>(kernel);
  if (k->cuda) return k->cuda->compute(k->state, g_api, ctx, &k->attrs);
  return k->cpu->compute(g_api, ctx);
}

void ORT_API_CALL destroy_kernel(void* kernel) noexcept {
  auto* k = static_cast<LstmKernel*>(kernel);
  if (k && k->cuda && k->state) k->cuda->destroy(k->state);
  delete k;
}

const char* ORT_API_CALL op_name(const OrtCustomOp*) noexcept { return "LSTM"; }
const char* ORT_API_CALL op_ep(const OrtCustomOp* op) noexcept { return self(op)->ep; }

size_t ORT_API_CALL input_count(const OrtCustomOp*) noexcept { return kNumInputs; }
ONNXTensorElementDataType ORT_API_CALL input_type(const OrtCustomOp* op, size_t index) noexcept {
  return index == kSeqLens ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 : self(op)->float_type;
}
OrtCustomOpInputOutputCharacteristic ORT_API_CALL input_characteristic(const OrtCustomOp*, size_t index) noexcept {
  return index <= kR ? INPUT_OUTPUT_REQUIRED : INPUT_OUTPUT_OPTIONAL;
}
OrtMemType ORT_API_CALL input_memory_type(const OrtCustomOp*, size_t) noexcept { return OrtMemTypeDefault; }

size_t ORT_API_CALL output_count(const OrtCustomOp*) noexcept { return kNumOutputs; }
ONNXTensorElementDataType ORT_API_CALL output_type(const OrtCustomOp* op, size_t) noexcept {
  return self(op)->float_type;
}
OrtCustomOpInputOutputCharacteristic ORT_API_CALL output_characteristic(const OrtCustomOp*, size_t) noexcept {
  return INPUT_OUTPUT_OPTIONAL;
}

int ORT_API_CALL variadic_min_arity(const OrtCustomOp*) noexcept { return 1; }
int ORT_API_CALL variadic_homogeneity(const OrtCustomOp*) noexcept { return 1; }
int ORT_API_CALL start_version(const OrtCustomOp*) noexcept { return 1; }
int ORT_API_CALL end_version(const OrtCustomOp*) noexcept { return INT_MAX; }

LstmOp make_op(const char* ep, ONNXTensorElementDataType type, LstmCpuCreateFn fn,
               const OnnxRnnCudaKernels* cuda = nullptr) {
  LstmOp op;
  std::memset(static_cast<OrtCustomOp*>(&op), 0, sizeof(OrtCustomOp));
  op.version = ORT_API_VERSION;
  op.CreateKernel = nullptr;  // V2 entry points only
  op.GetName = op_name;
  op.GetExecutionProviderType = op_ep;
  op.GetInputType = input_type;
  op.GetInputTypeCount = input_count;
  op.GetOutputType = output_type;
  op.GetOutputTypeCount = output_count;
  op.KernelCompute = nullptr;
  op.KernelDestroy = destroy_kernel;
  op.GetInputCharacteristic = input_characteristic;
  op.GetOutputCharacteristic = output_characteristic;
  op.GetInputMemoryType = input_memory_type;
  op.GetVariadicInputMinArity = variadic_min_arity;
  op.GetVariadicInputHomogeneity = variadic_homogeneity;
  op.GetVariadicOutputMinArity = variadic_min_arity;
  op.GetVariadicOutputHomogeneity = variadic_homogeneity;
  op.CreateKernelV2 = create_kernel;
  op.KernelComputeV2 = compute;
  op.InferOutputShapeFn = nullptr;
  op.GetStartVersion = start_version;
  op.GetEndVersion = end_version;
  op.GetMayInplace = nullptr;
  op.ReleaseMayInplace = nullptr;
  op.GetAliasMap = nullptr;
  op.ReleaseAliasMap = nullptr;
  op.ep = ep;
  op.float_type = type;
  op.create_cpu = fn;
  op.cuda = cuda;
  return op;
}

constexpr const char* kCpu = "CPUExecutionProvider";
constexpr const char* kCuda = "CUDAExecutionProvider";

std::vector<LstmOp> make_ops() {
  std::vector<LstmOp> all = {
      make_op(kCpu, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &lstm_create_cpu<float>),
      make_op(kCpu, ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, &lstm_create_cpu<double>),
      make_op(kCpu, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, &lstm_create_cpu<Half>),
  };
  if (const OnnxRnnCudaKernels* cuda = cuda_kernels()) {
    for (int k = 0; k < cuda->num_float_types; ++k)
      all.push_back(make_op(kCuda, static_cast<ONNXTensorElementDataType>(cuda->float_types[k]), nullptr, cuda));
  }
  return all;
}

// The ops live for the whole process: sessions keep pointers to them.
std::vector<LstmOp>& ops() {
  static std::vector<LstmOp> all = make_ops();
  return all;
}

constexpr const char* kDomain = "onnx_rnn";

}  // namespace
}  // namespace onnx_rnn

extern "C" __attribute__((visibility("default"))) OrtStatus* ORT_API_CALL
RegisterCustomOps(OrtSessionOptions* options, const OrtApiBase* api_base) {
  using namespace onnx_rnn;
  if (!api_base) return nullptr;  // nothing to report an error with
  const OrtApi* api = api_base->GetApi(ORT_API_VERSION);
  if (!api) {
    const OrtApi* v1 = api_base->GetApi(1);
    const std::string msg = std::string("onnx_rnn custom ops need ONNX Runtime API version ") +
                            std::to_string(ORT_API_VERSION) + " (ONNX Runtime >= 1." +
                            std::to_string(ORT_API_VERSION) + "), this runtime is " +
                            api_base->GetVersionString();
    return v1 ? v1->CreateStatus(ORT_FAIL, msg.c_str()) : nullptr;
  }
  try {
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    g_api = api;
    // A new domain per session options; domains are kept alive for the process (sessions refer to them).
    static std::vector<OrtCustomOpDomain*> domains;
    OrtCustomOpDomain* domain = nullptr;
    ONNX_RNN_RETURN_IF_ERROR(api->CreateCustomOpDomain(kDomain, &domain));
    domains.push_back(domain);
    for (LstmOp& op : ops()) ONNX_RNN_RETURN_IF_ERROR(api->CustomOpDomain_Add(domain, &op));
    return api->AddCustomOpDomain(options, domain);
  } catch (const std::exception& e) {
    return api->CreateStatus(ORT_FAIL, (std::string("onnx_rnn: RegisterCustomOps failed: ") + e.what()).c_str());
  } catch (...) {
    return api->CreateStatus(ORT_FAIL, "onnx_rnn: RegisterCustomOps failed");
  }
}

// The execution providers this plugin has kernels for, comma-separated (what RegisterCustomOps registers).
extern "C" __attribute__((visibility("default"))) const char* OnnxRnnPluginProviders(void) {
  return onnx_rnn::cuda_kernels() ? "CPUExecutionProvider,CUDAExecutionProvider" : "CPUExecutionProvider";
}

// Why the CUDA kernels are or are not served: "loaded <path>", "not built: ...", "cannot load <path>: ...".
extern "C" __attribute__((visibility("default"))) const char* OnnxRnnPluginCudaStatus(void) {
  return onnx_rnn::cuda_status();
}
