// An owning, 64-byte aligned, uninitialized buffer: packed panels and the gate pass's arrays.
#ifndef ONNX_RNN_OPS_CPU_ALIGNED_BUFFER_H_
#define ONNX_RNN_OPS_CPU_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace onnx_rnn {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  // Grows (never shrinks) to n elements; the contents are not kept.
  void resize(size_t n) {
    if (n <= size_) return;
    void* p = ::operator new[](n * sizeof(T) + 64, std::nothrow);
    if (!p) throw std::bad_alloc();
    raw_.reset(static_cast<unsigned char*>(p));
    // Rounded up to 64 bytes by pointer arithmetic (not an integer-to-pointer cast).
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    const size_t pad = static_cast<size_t>((64 - addr % 64) % 64);
    data_ = reinterpret_cast<T*>(static_cast<unsigned char*>(p) + pad);
    size_ = n;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(unsigned char* p) const { ::operator delete[](p); }
  };
  std::unique_ptr<unsigned char, Free> raw_;
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_CPU_ALIGNED_BUFFER_H_
