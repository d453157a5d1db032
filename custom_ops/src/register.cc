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
#include <tuple>
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
  LstmCpuKernel* cpu = nullptr;              // CPU kernels (owned; holds the weights packed at creation)
  const OnnxRnnCudaKernels* cuda = nullptr;  // CUDA kernels: compute through this table, with `state`
  void* state = nullptr;
  ~LstmKernel() { delete cpu; }
};

// OrtCustomOp must be the first base so that ORT's OrtCustomOp* can be cast back.
struct LstmOp : OrtCustomOp {
  const char* op_type;                   // "LSTM" (contract v1) or "LSTMP" (v2)
  const char* display_name;              // "onnx_rnn.LSTM" or "onnx_rnn.LSTMP", for messages
  int start_version, end_version;        // onnx_rnn opset versions this entry is registered for
  const char* ep;                        // execution provider type
  ONNXTensorElementDataType float_type;  // X, W, R, B, initial_h, initial_c, projection, outputs
  LstmCpuCreateFn create_cpu;            // CPU
  const OnnxRnnCudaKernels* cuda;        // CUDA (create_cpu is null)
};

const LstmOp* self(const OrtCustomOp* op) { return static_cast<const LstmOp*>(op); }

// Attributes. ONNX Runtime's C API (1.21) reads an attribute by name and type and cannot list a node's
// attributes, so each name the contract knows is probed with every typed getter: an attribute of the wrong type
// is an error (never "absent"), and so is every ONNX LSTM attribute this op does not implement. An attribute name
// the contract does not know cannot be seen here; onnx_rnn.InferenceSession and `onnx-rnn check` refuse those
// (onnx_rnn/export/contract.py).
enum class AttrType { kAbsent, kInt, kFloat, kString, kInts, kFloats, kTensor, kOther };

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kInt: return "INT";
    case AttrType::kFloat: return "FLOAT";
    case AttrType::kString: return "STRING";
    case AttrType::kInts: return "INTS";
    case AttrType::kFloats: return "FLOATS";
    case AttrType::kTensor: return "TENSOR";
    case AttrType::kOther: return "another type (STRINGS, GRAPH, ...)";
    default: return "absent";
  }
}

// True when `st` (released here) is ONNX Runtime's "No attribute with name" (the same text since 1.0).
bool is_absent_status(OrtStatus* st) {
  const char* msg = g_api->GetErrorMessage(st);
  const bool absent = msg && std::strstr(msg, "No attribute with name") != nullptr;
  g_api->ReleaseStatus(st);
  return absent;
}

bool ok(OrtStatus* st) {
  if (!st) return true;
  g_api->ReleaseStatus(st);
  return false;
}

// A TENSOR attribute: its element type and element count, and its first value as a double when it is float64.
struct TensorAttr {
  bool present = false;
  int32_t elem_type = 0;
  size_t count = 0;
  double value = 0.0;
};

TensorAttr tensor_attr(const OrtKernelInfo* info, const char* name) {
  TensorAttr out;
  OrtAllocator* alloc = nullptr;
  if (!ok(g_api->GetAllocatorWithDefaultOptions(&alloc))) return out;
  OrtValue* v = nullptr;
  if (!ok(g_api->KernelInfoGetAttribute_tensor(info, name, alloc, &v)) || !v) return out;
  out.present = true;
  OrtTensorTypeAndShapeInfo* shape = nullptr;
  if (ok(g_api->GetTensorTypeAndShape(v, &shape))) {
    ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    if (ok(g_api->GetTensorElementType(shape, &type))) out.elem_type = static_cast<int32_t>(type);
    if (!ok(g_api->GetTensorShapeElementCount(shape, &out.count))) out.count = 0;
    g_api->ReleaseTensorTypeAndShapeInfo(shape);
  }
  void* data = nullptr;
  if (out.elem_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE && out.count == 1 &&
      ok(g_api->GetTensorMutableData(v, &data)) && data) {
    out.value = *static_cast<const double*>(data);
  }
  g_api->ReleaseValue(v);
  return out;
}

AttrType attr_type(const OrtKernelInfo* info, const char* name) {
  int64_t i = 0;
  float f = 0.f;
  size_t size = 0;
  if (ok(g_api->KernelInfoGetAttribute_int64(info, name, &i))) return AttrType::kInt;
  if (ok(g_api->KernelInfoGetAttribute_float(info, name, &f))) return AttrType::kFloat;
  OrtStatus* st = g_api->KernelInfoGetAttribute_string(info, name, nullptr, &size);
  if (!st) return AttrType::kString;
  if (is_absent_status(st)) return AttrType::kAbsent;
  if (tensor_attr(info, name).present) return AttrType::kTensor;
  // The array getters do not check the attribute's type (they succeed with no values for, e.g., STRINGS), so
  // only a non-empty answer counts.
  size = 0;
  if (ok(g_api->KernelInfoGetAttributeArray_int64(info, name, nullptr, &size)) && size > 0) return AttrType::kInts;
  size = 0;
  if (ok(g_api->KernelInfoGetAttributeArray_float(info, name, nullptr, &size)) && size > 0) return AttrType::kFloats;
  return AttrType::kOther;
}

std::string attr_error(const char* op, const char* name, const char* want, AttrType got) {
  return std::string(op) + ": attribute '" + name + "' must be " + want + ", got " + attr_type_name(got) +
         (std::strncmp(want, "FLOAT", 5) == 0 && got == AttrType::kInt ? " (write 0.0, not 0)" : "");
}

// Reads every attribute of the contract (docs/custom_op.md) with its exact type; "" or the error message.
std::string read_attrs(const OrtKernelInfo* info, const char* op, LstmAttrValues* v) {
  for (const char* name : kUnimplementedOnnxLstmAttrs) {
    if (attr_type(info, name) != AttrType::kAbsent) {
      return std::string(op) + ": attribute '" + name +
             "' (of ONNX's LSTM) is not implemented by this op; the node must not carry it (docs/custom_op.md)";
    }
  }
  struct Want {
    const char* name;
    AttrType type;
  };
  const Want wants[] = {{"hidden_size", AttrType::kInt}, {"direction", AttrType::kString},
                        {"clip_min", AttrType::kFloat},  {"clip_max", AttrType::kFloat},
                        {"clip_nan", AttrType::kInt},    {"layout", AttrType::kInt}};
  for (const Want& w : wants) {
    const AttrType got = attr_type(info, w.name);
    if (got == AttrType::kAbsent) continue;
    const bool clip = w.type == AttrType::kFloat;  // clip_min/clip_max: FLOAT, or a float64 scalar TENSOR
    if (clip && got == AttrType::kTensor) {
      const TensorAttr t = tensor_attr(info, w.name);
      if (t.elem_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE || t.count != 1) {
        return std::string(op) + ": attribute '" + w.name +
               "' as a TENSOR must hold one float64 value (for float64 models), got element type " +
               std::to_string(t.elem_type) + " with " + std::to_string(t.count) + " elements";
      }
      continue;
    }
    if (got != w.type) {
      return attr_error(op, w.name, clip ? "FLOAT (or a float64 scalar TENSOR)" : attr_type_name(w.type), got);
    }
  }
  if (attr_type(info, "hidden_size") == AttrType::kAbsent) {
    return std::string(op) + ": attribute 'hidden_size' (INT) is required but missing";
  }
  if (!ok(g_api->KernelInfoGetAttribute_int64(info, "hidden_size", &v->hidden_size))) {
    return std::string(op) + ": cannot read attribute 'hidden_size'";
  }
  if (attr_type(info, "direction") == AttrType::kString) {
    size_t size = 0;
    if (!ok(g_api->KernelInfoGetAttribute_string(info, "direction", nullptr, &size))) {
      return std::string(op) + ": cannot read attribute 'direction'";
    }
    std::vector<char> buf(size + 1, '\0');
    if (!ok(g_api->KernelInfoGetAttribute_string(info, "direction", buf.data(), &size))) {
      return std::string(op) + ": cannot read attribute 'direction'";
    }
    v->direction = std::string(buf.data());
  }
  for (auto [name, has, value] : {std::tuple<const char*, bool*, double*>{"clip_min", &v->has_clip_min, &v->clip_min},
                                  {"clip_max", &v->has_clip_max, &v->clip_max}}) {
    float f = 0.f;
    if (ok(g_api->KernelInfoGetAttribute_float(info, name, &f))) {
      *has = true;
      *value = f;
    } else if (const TensorAttr t = tensor_attr(info, name); t.present) {
      *has = true;
      *value = t.value;
    }
  }
  int64_t i = 0;
  if (ok(g_api->KernelInfoGetAttribute_int64(info, "clip_nan", &i))) v->clip_nan = i;
  if (ok(g_api->KernelInfoGetAttribute_int64(info, "layout", &i))) v->layout = i;
  return "";
}

OrtStatus* ORT_API_CALL create_kernel(const OrtCustomOp* op, const OrtApi* api, const OrtKernelInfo* info,
                                      void** kernel) noexcept {
  *kernel = nullptr;
  try {
    const char* name = self(op)->display_name;
    LstmAttrValues values;
    std::string err = read_attrs(info, name, &values);
    auto* k = new LstmKernel();
    if (err.empty()) err = validate_lstm_attrs(values, &k->attrs);
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
        return api->CreateStatus(ORT_RUNTIME_EXCEPTION, "onnx_rnn: cannot create the CUDA kernel state");
      }
    }
    *kernel = k;
    return nullptr;
  } catch (const std::exception& e) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, (std::string("onnx_rnn: ") + e.what()).c_str());
  } catch (...) {
    return api->CreateStatus(ORT_RUNTIME_EXCEPTION, "onnx_rnn: unknown error creating the kernel");
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

const char* ORT_API_CALL op_name(const OrtCustomOp* op) noexcept { return self(op)->op_type; }
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
int ORT_API_CALL start_version(const OrtCustomOp* op) noexcept { return self(op)->start_version; }
int ORT_API_CALL end_version(const OrtCustomOp* op) noexcept { return self(op)->end_version; }

// Contract v1 is op type LSTM at onnx_rnn opset 1, v2 is LSTMP at opset 2 (docs/custom_op.md). ONNX Runtime
// matches a custom kernel against the since-version of the op's schema, not the model's opset import, so a model
// importing onnx_rnn at a later version still resolves to these kernels: the kernel cannot see the model's domain
// version (the 1.21 C API has no call for it), and onnx_rnn.InferenceSession checks it (export/contract.py).
// LSTMP at opset 1 has no schema, which ONNX Runtime reports itself.
struct Contract {
  const char* op_type;
  const char* display_name;
  int start_version, end_version;
};
constexpr Contract kContracts[] = {{"LSTM", "onnx_rnn.LSTM", 1, 1}, {"LSTMP", "onnx_rnn.LSTMP", 2, 2}};

LstmOp make_op(const Contract& contract, const char* ep, ONNXTensorElementDataType type, LstmCpuCreateFn fn,
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
  op.op_type = contract.op_type;
  op.display_name = contract.display_name;
  op.start_version = contract.start_version;
  op.end_version = contract.end_version;
  op.ep = ep;
  op.float_type = type;
  op.create_cpu = fn;
  op.cuda = cuda;
  return op;
}

constexpr const char* kCpu = "CPUExecutionProvider";
constexpr const char* kCuda = "CUDAExecutionProvider";

std::vector<LstmOp> make_ops() {
  std::vector<LstmOp> all;
  for (const Contract& c : kContracts) {
    all.push_back(make_op(c, kCpu, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &lstm_create_cpu<float>));
    all.push_back(make_op(c, kCpu, ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE, &lstm_create_cpu<double>));
    all.push_back(make_op(c, kCpu, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16, &lstm_create_cpu<Half>));
    if (const OnnxRnnCudaKernels* cuda = cuda_kernels(); cuda) {
      for (int k = 0; k < cuda->num_float_types; ++k) {
        all.push_back(make_op(c, kCuda, static_cast<ONNXTensorElementDataType>(cuda->float_types[k]), nullptr, cuda));
      }
    }
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
                            std::to_string(ORT_API_VERSION) + " (ONNX Runtime >= 1." + std::to_string(ORT_API_VERSION) +
                            "), this runtime is " + api_base->GetVersionString();
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
