#include "lstm_params.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "onnxruntime_c_api.h"

namespace onnx_rnn {

namespace {

const char* type_name(int32_t t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    default: return "another type";
  }
}

std::string prefix(int index) {
  std::ostringstream s;
  s << "onnx_rnn.LSTM: input '" << lstm_input_name(index) << "' (#" << index << ")";
  return s.str();
}

// Compares dims with the expected shape; `what` spells the expected shape symbolically, e.g. "(D, 4*H, I)".
std::string check_shape(int index, const TensorDesc& t, const std::vector<int64_t>& expected, const char* what) {
  if (t.dims == expected) return "";
  std::ostringstream s;
  s << prefix(index) << " must have shape " << what << " = " << shape_to_string(expected) << ", got "
    << shape_to_string(t.dims);
  return s.str();
}

}  // namespace

const char* lstm_input_name(int index) {
  static const char* const names[kNumInputs] = {"X",         "W",         "R",         "B", "sequence_lens",
                                                "initial_h", "initial_c", "projection"};
  return (index >= 0 && index < kNumInputs) ? names[index] : "?";
}

std::string shape_to_string(const std::vector<int64_t>& dims) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < dims.size(); ++i) s << (i ? ", " : "") << dims[i];
  if (dims.size() == 1) s << ",";
  s << ")";
  return s.str();
}

std::string validate_lstm_attrs(const LstmAttrValues& v, LstmAttrs* out) {
  const int64_t hidden_size = v.hidden_size, clip_nan = v.clip_nan, layout = v.layout;
  const std::string& direction = v.direction;
  const bool has_clip_min = v.has_clip_min, has_clip_max = v.has_clip_max;
  const double clip_min = v.clip_min, clip_max = v.clip_max;
  std::ostringstream s;
  if (hidden_size <= 0 || hidden_size > kMaxDim) {
    s << "onnx_rnn.LSTM: attribute 'hidden_size' must be an integer in [1, " << kMaxDim << "], got " << hidden_size;
    return s.str();
  }
  if (direction == "forward") {
    out->direction = Direction::kForward;
  } else if (direction == "reverse") {
    out->direction = Direction::kReverse;
  } else if (direction == "bidirectional") {
    out->direction = Direction::kBidirectional;
  } else {
    s << "onnx_rnn.LSTM: attribute 'direction' must be 'forward', 'reverse' or 'bidirectional', got '" << direction
      << "'";
    return s.str();
  }
  if (has_clip_min != has_clip_max) {
    s << "onnx_rnn.LSTM: attributes 'clip_min' and 'clip_max' must be given both or neither, got only '"
      << (has_clip_min ? "clip_min" : "clip_max") << "'";
    return s.str();
  }
  if (has_clip_min) {
    if (std::isnan(clip_min) || std::isnan(clip_max) || !(clip_min <= clip_max)) {
      s << "onnx_rnn.LSTM: attributes 'clip_min' <= 'clip_max' required (no NaN), got clip_min=" << clip_min
        << " clip_max=" << clip_max;
      return s.str();
    }
  }
  if (clip_nan != 0 && clip_nan != 1) {
    s << "onnx_rnn.LSTM: attribute 'clip_nan' must be 0 or 1, got " << clip_nan;
    return s.str();
  }
  if (layout != 0) {
    s << "onnx_rnn.LSTM: attribute 'layout' must be 0 (time-major X of shape (T, N, I)), got " << layout;
    return s.str();
  }
  out->hidden_size = hidden_size;
  out->has_clip = has_clip_min;
  out->clip_min = clip_min;
  out->clip_max = clip_max;
  out->clip_nan = clip_nan == 1;
  return "";
}

std::string validate_lstm_inputs(const LstmAttrs& attrs, const TensorDesc* in, int num_inputs, int32_t float_type,
                                 LstmDims* out) {
  std::ostringstream s;
  for (int k = 0; k < kNumInputs; ++k) {
    if (k >= num_inputs || !in[k].present) {
      if (k <= kR) {
        s << prefix(k) << " is required but missing";
        return s.str();
      }
      continue;
    }
    const int32_t want = (k == kSeqLens) ? int32_t(ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) : float_type;
    if (in[k].elem_type != want) {
      s << prefix(k) << " must be " << type_name(want) << " (the type of X for float inputs), got "
        << type_name(in[k].elem_type);
      return s.str();
    }
    for (int64_t d : in[k].dims) {
      if (d < 0) {
        s << prefix(k) << " has a negative dimension: " << shape_to_string(in[k].dims);
        return s.str();
      }
      if (d > kMaxDim) {
        s << prefix(k) << " has a dimension above " << kMaxDim
          << " (the kernels index with 32-bit steps): " << shape_to_string(in[k].dims);
        return s.str();
      }
    }
  }

  LstmDims d;
  d.D = attrs.num_directions();
  d.H = attrs.hidden_size;
  const TensorDesc& X = in[kX];
  if (X.dims.size() != 3) {
    s << prefix(kX) << " must have rank 3 with shape (T, N, I), got " << shape_to_string(X.dims);
    return s.str();
  }
  d.T = X.dims[0];
  d.N = X.dims[1];
  d.I = X.dims[2];
  d.has_proj = num_inputs > kProjection && in[kProjection].present;
  d.has_B = num_inputs > kB && in[kB].present;
  d.has_seq = num_inputs > kSeqLens && in[kSeqLens].present;
  d.has_h0 = num_inputs > kInitialH && in[kInitialH].present;
  d.has_c0 = num_inputs > kInitialC && in[kInitialC].present;

  std::string err = check_shape(kW, in[kW], {d.D, 4 * d.H, d.I}, "(D, 4*hidden_size, I)");
  if (!err.empty()) return err;
  if (d.has_proj) {
    const TensorDesc& Pj = in[kProjection];
    if (Pj.dims.size() == 2) {
      s << prefix(kProjection) << " must have rank 3 with shape (D, P, hidden_size), got " << shape_to_string(Pj.dims)
        << ": ONNX LSTM's peephole weights P (D, 3*hidden_size) are not supported (input #7 of this op is the "
           "projection)";
      return s.str();
    }
    if (Pj.dims.size() != 3) {
      s << prefix(kProjection) << " must have rank 3 with shape (D, P, hidden_size) = (" << d.D << ", P, " << d.H
        << "), got " << shape_to_string(Pj.dims);
      return s.str();
    }
    d.P = Pj.dims[1];
    err = check_shape(kProjection, Pj, {d.D, d.P, d.H}, "(D, P, hidden_size)");
    if (!err.empty()) return err;
    if (d.P <= 0) {
      s << prefix(kProjection) << " must have P > 0, got " << shape_to_string(Pj.dims);
      return s.str();
    }
    d.S = d.P;
  } else {
    d.S = d.H;
  }
  err = check_shape(kR, in[kR], {d.D, 4 * d.H, d.S},
                    d.has_proj ? "(D, 4*hidden_size, P) (S = P with projection)"
                               : "(D, 4*hidden_size, hidden_size) (S = hidden_size without projection)");
  if (!err.empty()) return err;
  // The optional inputs, in input order; the first wrong one is reported.
  if (d.has_B) err = check_shape(kB, in[kB], {d.D, 8 * d.H}, "(D, 8*hidden_size)");
  if (err.empty() && d.has_seq) err = check_shape(kSeqLens, in[kSeqLens], {d.N}, "(N,)");
  if (err.empty() && d.has_h0) err = check_shape(kInitialH, in[kInitialH], {d.D, d.N, d.S}, "(D, N, S)");
  if (err.empty() && d.has_c0) err = check_shape(kInitialC, in[kInitialC], {d.D, d.N, d.H}, "(D, N, hidden_size)");
  if (!err.empty()) return err;
  // Every buffer size the kernels derive (outputs, gates, packed weights) must fit in int64 bytes.
  const int64_t G = 4 * d.H, W = std::max({d.I, d.S, d.H, G});
  int64_t bytes = 0;
  if (__builtin_mul_overflow(d.T, d.D, &bytes) || __builtin_mul_overflow(bytes, d.N, &bytes) ||
      __builtin_mul_overflow(bytes, std::max(G, d.S), &bytes) || __builtin_mul_overflow(bytes, int64_t{8}, &bytes) ||
      __builtin_mul_overflow(int64_t{d.D} * G, W, &bytes) || __builtin_mul_overflow(bytes, int64_t{8}, &bytes)) {
    s << "onnx_rnn.LSTM: sizes T=" << d.T << " N=" << d.N << " I=" << d.I << " hidden_size=" << d.H << " S=" << d.S
      << " overflow 64-bit buffer sizes";
    return s.str();
  }
  *out = d;
  return "";
}

std::string validate_sequence_lens(const int32_t* lens, int64_t N, int64_t T) {
  for (int64_t b = 0; b < N; ++b) {
    if (lens[b] < 0 || lens[b] > T) {
      std::ostringstream s;
      s << "onnx_rnn.LSTM: input 'sequence_lens' (#4) values must be in [0, T=" << T << "], got sequence_lens[" << b
        << "] = " << lens[b];
      return s.str();
    }
  }
  return "";
}

}  // namespace onnx_rnn
