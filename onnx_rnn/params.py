"""MXNet's flat parameter vector <-> per-layer, per-direction weights; gate reordering to ONNX.

The flat layout (README, Semantics): first every weight matrix, layer by layer and direction by direction
(i2h, h2h, and h2r when projecting), then every bias in the same order (i2h, h2h).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import OnnxRnnError
from .spec import RNNSpec

# Position of each ONNX gate block inside MXNet's (cuDNN's) block order.
#   LSTM: MXNet [i, f, g, o] -> ONNX [i, o, f, c];  GRU: MXNet [r, z, n] -> ONNX [z, r, h].
_ONNX_GATE_ORDER = {"lstm": (0, 3, 1, 2), "gru": (1, 0, 2), "rnn_tanh": (0,), "rnn_relu": (0,)}


@dataclass(frozen=True)
class DirectionWeights:
    """One layer direction's weights in MXNet's gate order (shapes as MXNet's Gluon parameters)."""

    i2h_weight: np.ndarray  # (G*H, in)
    h2h_weight: np.ndarray  # (G*H, R)
    i2h_bias: np.ndarray  # (G*H,)
    h2h_bias: np.ndarray  # (G*H,)
    h2r_weight: np.ndarray | None = None  # (P, H), projection only


LayerWeights = list[DirectionWeights]  # one entry per direction: [forward] or [forward, backward]


def as_parameter_vector(parameters: np.ndarray) -> np.ndarray:
    """Check that ``parameters`` is a 1-D floating array (float16/32/64) and return it."""
    array = np.asarray(parameters)
    if array.ndim != 1:
        raise OnnxRnnError(f"parameters must be a 1-D vector, got shape {array.shape}")
    if array.dtype not in (np.float16, np.float32, np.float64):
        raise OnnxRnnError(f"parameters must be float16, float32 or float64, got {array.dtype}")
    return array


def resolve_input_size(spec: RNNSpec, count: int, input_size: int | None) -> int:
    """Derive I from the vector length; if the caller also gave it, the two must agree."""
    derived = spec.input_size_from_count(count)
    if input_size is not None and input_size != derived:
        raise OnnxRnnError(
            f"input_size={input_size} disagrees with the parameter vector: its length {count} "
            f"means input_size={derived} (expected {spec.param_count(input_size)} elements for {input_size})"
        )
    return derived


def split_parameters(spec: RNNSpec, parameters: np.ndarray, input_size: int | None = None) -> list[LayerWeights]:
    """Cut MXNet's flat vector into weights per layer and direction (views, no copies)."""
    flat = as_parameter_vector(parameters)
    in0 = resolve_input_size(spec, flat.size, input_size)
    g_h, h, r, p = spec.gates * spec.state_size, spec.state_size, spec.output_size, spec.projection_size
    offset = 0

    def take(*shape: int) -> np.ndarray:
        nonlocal offset
        size = int(np.prod(shape))
        block = flat[offset : offset + size].reshape(shape)
        offset += size
        return block

    matrices = []
    for layer in range(spec.num_layers):
        in_l = spec.layer_input_size(layer, in0)
        for _ in range(spec.directions):
            matrices.append((take(g_h, in_l), take(g_h, r), take(p, h) if p else None))
    biases = [(take(g_h), take(g_h)) for _ in matrices]
    weights = [DirectionWeights(i2h, h2h, bi, bh, h2r) for (i2h, h2h, h2r), (bi, bh) in zip(matrices, biases)]
    d = spec.directions
    return [weights[layer * d : (layer + 1) * d] for layer in range(spec.num_layers)]


def join_parameters(spec: RNNSpec, layers: list[LayerWeights]) -> np.ndarray:
    """Inverse of split_parameters: per-layer weights back to MXNet's flat vector."""
    directions = [w for layer in layers for w in layer]
    pieces = []
    for w in directions:
        pieces += [w.i2h_weight.ravel(), w.h2h_weight.ravel()]
        if spec.projection_size:
            if w.h2r_weight is None:
                raise OnnxRnnError(f"{spec.describe()} projects, but a direction has no h2r_weight")
            pieces.append(w.h2r_weight.ravel())
    for w in directions:
        pieces += [w.i2h_bias.ravel(), w.h2h_bias.ravel()]
    return np.concatenate(pieces)


def to_onnx_gate_order(mode: str, array: np.ndarray) -> np.ndarray:
    """Reorder the gate blocks on axis 0 from MXNet's order to ONNX's."""
    blocks = np.split(array, len(_ONNX_GATE_ORDER[mode]), axis=0)
    return np.concatenate([blocks[i] for i in _ONNX_GATE_ORDER[mode]], axis=0)


@dataclass(frozen=True)
class OnnxLayerWeights:
    """One layer's weights as ONNX's LSTM/GRU/RNN nodes take them (directions stacked on axis 0)."""

    W: np.ndarray  # (D, G*H, in)
    R: np.ndarray  # (D, G*H, R)
    B: np.ndarray  # (D, 2*G*H)
    projection: np.ndarray | None  # (D, P, H)


def onnx_layer_weights(mode: str, layer: LayerWeights) -> OnnxLayerWeights:
    """Stack a layer's directions and reorder gates into ONNX's W, R, B (and projection) tensors."""
    W = np.stack([to_onnx_gate_order(mode, w.i2h_weight) for w in layer])
    R = np.stack([to_onnx_gate_order(mode, w.h2h_weight) for w in layer])
    B = np.stack(
        [np.concatenate([to_onnx_gate_order(mode, w.i2h_bias), to_onnx_gate_order(mode, w.h2h_bias)]) for w in layer]
    )
    projections = [w.h2r_weight for w in layer if w.h2r_weight is not None]
    projection = np.stack(projections) if projections else None
    return OnnxLayerWeights(W, R, B, projection)
