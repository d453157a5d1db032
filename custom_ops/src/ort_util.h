// Small helpers around the ONNX Runtime C API (taken from the OrtApiBase at registration; never linked).
#ifndef ONNX_RNN_OPS_ORT_UTIL_H_
#define ONNX_RNN_OPS_ORT_UTIL_H_

#include <exception>
#include <new>
#include <string>

#include "onnxruntime_c_api.h"

namespace onnx_rnn {

// Returns early with the status when an API call fails.
#define ONNX_RNN_RETURN_IF_ERROR(expr)               \
  do {                                               \
    OrtStatus* onnx_rnn_status__ = (expr);           \
    if (onnx_rnn_status__) return onnx_rnn_status__; \
  } while (0)

inline OrtStatus* make_status(const OrtApi* api, OrtErrorCode code, const std::string& msg) {
  return api->CreateStatus(code, msg.c_str());
}

// Runs `body` (returning an OrtStatus*) and turns any C++ exception into an ORT error status naming `who`:
// exceptions must never cross the C API boundary.
template <typename Body>
OrtStatus* status_from_exceptions(const OrtApi* api, const char* who, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return make_status(api, ORT_RUNTIME_EXCEPTION, std::string(who) + ": out of memory");
  } catch (const std::exception& e) {
    return make_status(api, ORT_RUNTIME_EXCEPTION, std::string(who) + ": " + e.what());
  } catch (...) {
    return make_status(api, ORT_RUNTIME_EXCEPTION, std::string(who) + ": unknown error");
  }
}

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_ORT_UTIL_H_
