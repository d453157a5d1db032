"""Emit one RNN layer (both directions in one node) as ONNX: a standard node, or our custom LSTM op.

A layer emitter takes the layer input X (T, N, in) and optional initial states (D, N, *) and returns ONNX's
per-layer outputs: Y (T, D, N, R), Y_h (D, N, R) and, for LSTM, Y_c (D, N, H).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import onnx
from onnx import numpy_helper

from ..params import OnnxLayerWeights
from ..spec import RNNSpec
from .builder import CUSTOM_DOMAIN, CUSTOM_OP_TYPE, GraphBuilder

_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


class LayerInputs(NamedTuple):
    """Tensor names a layer reads. ``None`` means absent (zeros / full length)."""

    x: str
    sequence_length: str | None
    initial_h: str | None
    initial_c: str | None


class LayerOutputs(NamedTuple):
    y: str  # (T, D, N, R)
    y_h: str  # (D, N, R)
    y_c: str | None  # (D, N, H), LSTM only


def direction_attr(spec: RNNSpec) -> str:
    return "bidirectional" if spec.bidirectional else "forward"


def emit_standard_layer(
    builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs, index: int
) -> LayerOutputs:
    """A standard ONNX LSTM / GRU (linear_before_reset=1) / RNN (Tanh or Relu) node."""
    op = _ONNX_OP[spec.mode]
    W = builder.initializer(weights.W, f"layer{index}_W")
    R = builder.initializer(weights.R, f"layer{index}_R")
    B = builder.initializer(weights.B, f"layer{index}_B")
    node_inputs = [inputs.x, W, R, B, inputs.sequence_length, inputs.initial_h]
    attrs: dict[str, Any] = {"hidden_size": spec.state_size, "direction": direction_attr(spec)}
    if spec.mode == "lstm":
        node_inputs.append(inputs.initial_c)
    elif spec.mode == "gru":
        attrs["linear_before_reset"] = 1
    else:
        attrs["activations"] = ["Tanh" if spec.mode == "rnn_tanh" else "Relu"] * spec.directions
    n_out = 3 if spec.mode == "lstm" else 2
    outs = builder.node(op, _trim(node_inputs), n_out, **attrs)
    return LayerOutputs(outs[0], outs[1], outs[2] if spec.mode == "lstm" else None)


def emit_custom_lstm_layer(
    builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs, index: int
) -> LayerOutputs:
    """Our ``onnx_rnn.LSTMP`` node (contract v2, docs/custom_op.md): projection and MXNet's cell-state clipping."""
    W = builder.initializer(weights.W, f"layer{index}_W")
    R = builder.initializer(weights.R, f"layer{index}_R")
    B = builder.initializer(weights.B, f"layer{index}_B")
    P = None if weights.projection is None else builder.initializer(weights.projection, f"layer{index}_P")
    attrs: dict[str, Any] = {"hidden_size": spec.state_size, "direction": direction_attr(spec)}
    lo, hi = spec.lstm_state_clip_min, spec.lstm_state_clip_max  # both or neither (RNNSpec checks)
    if lo is not None and hi is not None:
        attrs.update(
            clip_min=_clip_attr(lo, weights.W.dtype),
            clip_max=_clip_attr(hi, weights.W.dtype),
            clip_nan=int(spec.lstm_state_clip_nan),
        )
    node_inputs = [inputs.x, W, R, B, inputs.sequence_length, inputs.initial_h, inputs.initial_c, P]
    y, y_h, y_c = builder.node(CUSTOM_OP_TYPE, _trim(node_inputs), 3, domain=CUSTOM_DOMAIN, **attrs)
    D, S, H = spec.directions, spec.output_size, spec.state_size
    for tensor, shape in ((y, [None, D, None, S]), (y_h, [D, None, S]), (y_c, [D, None, H])):
        builder.declare(tensor, weights.W.dtype, shape)
    return LayerOutputs(y, y_h, y_c)


def _clip_attr(value: float, dtype: np.dtype) -> float | onnx.TensorProto:
    """A clip bound: a FLOAT attribute (float32, what float32/float16 models compute with), or for float64 models
    a float64 scalar TENSOR, so the bound keeps MXNet's double value (docs/custom_op.md)."""
    if np.dtype(dtype) == np.float64:
        return numpy_helper.from_array(np.array(float(value), dtype=np.float64))
    return float(value)


def _trim(inputs: list[str | None]) -> list[str | None]:
    """Drop trailing omitted optional inputs (ONNX allows omitting them by position)."""
    while inputs and inputs[-1] is None:
        inputs = inputs[:-1]
    return inputs


def layer_weights_dtype(weights: OnnxLayerWeights) -> np.dtype:
    return weights.W.dtype
