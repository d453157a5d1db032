// Attributes and input validation of onnx_rnn::LSTM (docs/custom_op.md), independent of the device.
// Pure C++: the CPU and CUDA kernels both call validate_lstm_inputs() before touching any data.
#ifndef ONNX_RNN_OPS_LSTM_PARAMS_H_
#define ONNX_RNN_OPS_LSTM_PARAMS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace onnx_rnn {

enum class Direction { kForward, kReverse, kBidirectional };

struct LstmAttrs {
  int64_t hidden_size = 0;
  Direction direction = Direction::kForward;
  bool has_clip = false;
  double clip_min = 0.0;
  double clip_max = 0.0;
  bool clip_nan = false;
  int num_directions() const { return direction == Direction::kBidirectional ? 2 : 1; }
};

// The attributes as read from a node (each already of its exact type), before their values are checked.
struct LstmAttrValues {
  int64_t hidden_size = 0;
  std::string direction = "forward";
  bool has_clip_min = false, has_clip_max = false;
  double clip_min = 0.0, clip_max = 0.0;
  int64_t clip_nan = 0;
  int64_t layout = 0;
};

// ONNX LSTM attributes this op does not implement: a node carrying any of them is refused.
constexpr const char* kUnimplementedOnnxLstmAttrs[] = {"activations", "activation_alpha", "activation_beta", "clip",
                                                       "input_forget"};

// The largest size (T, N, I, hidden_size, P) accepted: every element count and byte size the kernels compute
// from sizes up to this bound fits in int64 (checked again on the products in validate_lstm_inputs).
constexpr int64_t kMaxDim = int64_t{2147483647};  // 2^31 - 1

// Checks the attribute values that do not depend on the inputs. Returns "" when valid, else the message.
std::string validate_lstm_attrs(const LstmAttrValues& values, LstmAttrs* out);

// Input positions.
enum LstmInput : int {
  kX = 0,
  kW = 1,
  kR = 2,
  kB = 3,
  kSeqLens = 4,
  kInitialH = 5,
  kInitialC = 6,
  kProjection = 7,
  kNumInputs = 8
};
enum LstmOutput : int { kY = 0, kYh = 1, kYc = 2, kNumOutputs = 3 };

const char* lstm_input_name(int index);

// What a kernel knows about one input before reading it.
struct TensorDesc {
  bool present = false;
  int32_t elem_type = 0;  // ONNXTensorElementDataType value
  std::vector<int64_t> dims;
};

// Sizes derived from validated inputs.
struct LstmDims {
  int64_t T = 0, N = 0, I = 0, H = 0, S = 0, P = 0;  // P = 0: no projection (S = H)
  int D = 1;
  bool has_B = false, has_seq = false, has_h0 = false, has_c0 = false, has_proj = false;
};

// Validates every input's presence, element type and shape against the attributes and each other.
// `float_type` is the element type the kernel was registered for (float or double). Returns "" when valid.
std::string validate_lstm_inputs(const LstmAttrs& attrs, const TensorDesc* inputs, int num_inputs, int32_t float_type,
                                 LstmDims* out);

// Checks sequence_lens values: each in [0, T]. Returns "" when valid.
std::string validate_sequence_lens(const int32_t* lens, int64_t N, int64_t T);

std::string shape_to_string(const std::vector<int64_t>& dims);

}  // namespace onnx_rnn

#endif  // ONNX_RNN_OPS_LSTM_PARAMS_H_
