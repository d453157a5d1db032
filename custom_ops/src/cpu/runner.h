// Running the kernel's tasks on ONNX Runtime's intra-op thread pool, and cutting ranges into blocks.
#ifndef ONNX_RNN_OPS_CPU_RUNNER_H_
#define ONNX_RNN_OPS_CPU_RUNNER_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <new>
#include <string>

#include "onnxruntime_c_api.h"

namespace onnx_rnn {

// Runs tasks on ONNX Runtime's intra-op thread pool. Exceptions never leave a task: the first one is recorded
// and the caller checks failed() after the parallel section.
class Runner {
 public:
  Runner(const OrtApi* api, const OrtKernelContext* ctx) : api_(api), ctx_(ctx) {}

  template <typename F>
  void run(size_t n, F& f) {
    if (n == 0 || failed_) return;
    if (n == 1) {
      call(&f, 0);
      return;
    }
    Task<F> task{&f, this};
    OrtStatus* st = api_->KernelContext_ParallelFor(ctx_, &Task<F>::tramp, n, 0, &task);
    if (st) {  // no thread pool API available: run inline
      api_->ReleaseStatus(st);
      for (size_t i = 0; i < n && !failed_; ++i) call(&f, i);
    }
  }

  bool failed() const { return failed_.load(); }
  const char* error() const {
    return error_.empty() ? "onnx_rnn.LSTM: out of memory (while recording an error)" : error_.c_str();
  }

 private:
  template <typename F>
  struct Task {
    F* f;
    Runner* self;
    static void tramp(void* p, size_t i) {
      Task* t = static_cast<Task*>(p);
      t->self->call(t->f, i);
    }
  };

  template <typename F>
  void call(F* f, size_t i) noexcept {
    try {
      (*f)(i);
    } catch (const std::bad_alloc&) {
      fail("out of memory");
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("unknown error");
    }
  }
  // Records the first failure. The message is built inside the try: if that runs out of memory, error_ stays
  // empty and error() reports the lost message as what it is.
  void fail(const char* what) noexcept {
    bool expected = false;
    if (!failed_.compare_exchange_strong(expected, true)) return;
    try {
      error_ = std::string("onnx_rnn.LSTM: ") + what;
    } catch (...) {
      error_.clear();  // no message could be stored; error() falls back to a fixed one
    }
  }

  const OrtApi* api_;
  const OrtKernelContext* ctx_;
  std::atomic<bool> failed_{false};
  std::string error_;
};

// Cuts [0, n) into blocks of `block`; block b is [b * block, min(n, (b + 1) * block)).
struct Blocks {
  int64_t n = 0, block = 1, count = 0;
  Blocks() = default;
  Blocks(int64_t n_, int64_t block_) : n(n_), block(std::max<int64_t>(1, std::min(block_, n_))) {
    count = n == 0 ? 0 : (n + block - 1) / block;
  }
  int64_t begin(int64_t b) const { return b * block; }
  int64_t size(int64_t b) const { return std::min(block, n - b * block); }
};

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_RUNNER_H_
