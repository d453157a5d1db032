"""Emit a whole MXNet ``RNN`` operator (all layers) into a GraphBuilder.

Stacks per-layer emitters (layers.py, portable.py), slices the stacked initial states per layer, reshapes
ONNX's (T, D, N, R) layer output into MXNet's (T, N, D*R), and concatenates the final states.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, overload

import numpy as np

from ..errors import OnnxRnnError
from ..params import OnnxLayerWeights, onnx_layer_weights, split_parameters
from ..spec import RNNSpec
from .builder import GraphBuilder, np_to_onnx_dtype
from .layers import LayerInputs, LayerOutputs, emit_custom_lstm_layer, emit_standard_layer

BACKENDS = ("plugin", "portable", "function")

LayerEmitter = Callable[[GraphBuilder, RNNSpec, OnnxLayerWeights, LayerInputs, int], LayerOutputs]


class RNNOutputNames(NamedTuple):
    output: str  # (T, N, D*R)
    state_output: str  # (L*D, N, R)
    state_cell_output: str | None  # (L*D, N, H), LSTM only


def emit_rnn(
    builder: GraphBuilder,
    spec: RNNSpec,
    parameters: np.ndarray,
    *,
    data: str,
    state: str | None = None,
    state_cell: str | None = None,
    sequence_length: str | None = None,
    input_size: int | None = None,
    backend: str = "plugin",
) -> RNNOutputNames:
    """Append the operator's nodes; tensors are in ``parameters``' dtype at the boundary.

    ``state``/``state_cell`` None start from zeros; ``sequence_length`` is an int32 (N,) tensor or None.
    ``backend`` chooses how layers that standard ONNX cannot express (projection, clipping) are emitted:
    ``plugin`` (our custom op), ``portable`` (standard operators only) or ``function`` (our custom op, plus a
    model-local function of the same name that runtimes without the plugin inline).
    """
    layers = split_parameters(spec, parameters, input_size)
    dtype = np.dtype(parameters.dtype)
    emit_layer = choose_layer_emitter(spec, backend, dtype, lengths=sequence_length is not None)
    compute = compute_dtype(spec, dtype, backend)
    x = _cast(builder, data, compute, dtype)
    state, state_cell = _cast(builder, state, compute, dtype), _cast(builder, state_cell, compute, dtype)

    hs, cs = [], []
    for index, layer in enumerate(layers):
        weights = _cast_weights(onnx_layer_weights(spec.mode, layer), compute)
        h0 = _layer_slice(builder, spec, state, index)
        c0 = _layer_slice(builder, spec, state_cell, index)
        outs = emit_layer(builder, spec, weights, LayerInputs(x, sequence_length, h0, c0), index)
        hs.append(_keep_state_when_empty(builder, outs.y_h, h0, sequence_length))
        if outs.y_c is not None:
            cs.append(_keep_state_when_empty(builder, outs.y_c, c0, sequence_length))
        x = _merge_directions(builder, spec, outs.y)

    hy = hs[0] if len(hs) == 1 else builder.node("Concat", hs, axis=0)[0]
    cy = None if not cs else (cs[0] if len(cs) == 1 else builder.node("Concat", cs, axis=0)[0])
    return RNNOutputNames(
        _cast(builder, x, dtype, compute), _cast(builder, hy, dtype, compute), _cast(builder, cy, dtype, compute)
    )


def choose_layer_emitter(
    spec: RNNSpec, backend: str, dtype: np.dtype | None = None, *, lengths: bool = False
) -> LayerEmitter:
    """The emitter of each layer.

    Layers standard ONNX expresses are standard nodes, with two exceptions. With sequence ``lengths`` no layer is a
    standard node, in any form: onnx.reference ignores a standard node's ``sequence_lens``, and OpenVINO does with
    symbolic shapes (docs/portable.md), so such a node would be silently wrong there. LSTM layers are then our
    custom op (``plugin``; ``function``: backed by its function, so runtimes without the plugin run Scan), GRU and
    RNN layers (no plugin kernel) and every ``portable`` layer Scan and elementwise operators
    (``emit_portable_standard_layer``). For ``dtype`` float64 they are Scan too: ONNX Runtime has no float64
    LSTM/GRU/RNN kernel, but runs those operators in float64.
    """
    if backend not in BACKENDS:
        raise OnnxRnnError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if not spec.needs_custom_lstm:
        if lengths and spec.mode == "lstm" and backend != "portable":
            return _custom_lstm_emitter(backend)
        float64 = dtype is not None and np.dtype(dtype) == np.float64
        if float64 or lengths:
            from .portable import emit_portable_standard_layer  # noqa: PLC0415

            return emit_portable_standard_layer
        return emit_standard_layer
    return _custom_lstm_emitter(backend)


def _custom_lstm_emitter(backend: str) -> LayerEmitter:
    """An LSTM layer as our custom op (``plugin``), with its function (``function``), or as Scan (``portable``)."""
    if backend == "portable":
        from .portable import emit_portable_lstm_layer  # noqa: PLC0415 (only needed for this path)

        return emit_portable_lstm_layer
    if backend == "function":
        from .function import emit_function_lstm_layer  # noqa: PLC0415 (only needed for this path)

        return emit_function_lstm_layer
    return emit_custom_lstm_layer


def compute_dtype(spec: RNNSpec, dtype: np.dtype, backend: str) -> np.dtype:
    """The dtype the layers compute in: the model's own, float64 included.

    ONNX Runtime's CPU provider has no float64 kernel for LSTM, GRU or RNN, so float64 layers are never standard
    nodes (choose_layer_emitter); our custom op and the Scan decomposition run float64 natively.
    """
    return np.dtype(dtype)


@overload
def _cast(builder: GraphBuilder, tensor: str, to: np.dtype, frm: np.dtype) -> str: ...
@overload
def _cast(builder: GraphBuilder, tensor: str | None, to: np.dtype, frm: np.dtype) -> str | None: ...
def _cast(builder: GraphBuilder, tensor: str | None, to: np.dtype, frm: np.dtype) -> str | None:
    if tensor is None or to == frm:
        return tensor
    return builder.node("Cast", [tensor], to=np_to_onnx_dtype(to))[0]


def _cast_weights(w: OnnxLayerWeights, dtype: np.dtype) -> OnnxLayerWeights:
    if w.W.dtype == dtype:
        return w
    proj = None if w.projection is None else w.projection.astype(dtype)
    return OnnxLayerWeights(w.W.astype(dtype), w.R.astype(dtype), w.B.astype(dtype), proj)


def _layer_slice(builder: GraphBuilder, spec: RNNSpec, stacked: str | None, index: int) -> str | None:
    """Rows [index*D, (index+1)*D) of a stacked (L*D, N, *) state."""
    if stacked is None or spec.num_layers == 1:
        return stacked
    d = spec.directions
    starts = builder.constant_i64([index * d], f"layer{index}_state_start")
    ends = builder.constant_i64([(index + 1) * d], f"layer{index}_state_end")
    axes = builder.constant_i64([0], "axis0")
    return builder.node("Slice", [stacked, starts, ends, axes])[0]


def _keep_state_when_empty(builder: GraphBuilder, final: str, initial: str | None, lengths: str | None) -> str:
    """Where a sequence has length 0, return its initial state (ONNX Runtime's nodes return zeros there).

    No step was taken, so the state after the last valid step is the initial state.
    """
    if lengths is None or initial is None:
        return final
    zero = builder.initializer(np.zeros(1, dtype=np.int32), "zero_length")
    empty = builder.node("Equal", [lengths, zero])[0]
    shape = builder.constant_i64([1, -1, 1], "batch_mask_shape")
    mask = builder.node("Reshape", [empty, shape])[0]
    return builder.node("Where", [mask, initial, final])[0]


def _merge_directions(builder: GraphBuilder, spec: RNNSpec, y: str) -> str:
    """ONNX's (T, D, N, R) layer output -> MXNet's (T, N, D*R), directions concatenated [fwd, bwd]."""
    if spec.directions == 1:
        return builder.node("Squeeze", [y, builder.constant_i64([1], "axis1")])[0]
    transposed = builder.node("Transpose", [y], perm=[0, 2, 1, 3])[0]
    return builder.node("Reshape", [transposed, builder.constant_i64([0, 0, -1], "merge_shape")])[0]
