"""One file for both worlds: the custom op node plus a model-local ONNX function of the same name.

The layer is our ``onnx_rnn.LSTM`` node (exactly what ``emit_custom_lstm_layer`` writes, with all eight input
slots listed), and the model carries a FunctionProto with domain ``onnx_rnn`` and name ``LSTM`` whose body is
the portable decomposition (portable.py). ONNX Runtime (checked with 1.32) runs the plugin's kernel when the
library is registered, and inlines the function when it is not; ``onnx.reference.ReferenceEvaluator`` runs the
function. So the model is fast with the plugin and correct without it.

The body is specialised to the layer's signature (dtype, directions, hidden and output size, projection, clip,
and which optional inputs are present); every layer of one MXNet ``RNN`` operator has the same signature. A
model whose custom layers need several bodies (a checkpoint with differently configured RNN operators) gets
one function overload per further signature (IR 10; ONNX Runtime resolves them per node and still prefers
the plugin's kernel; ``ReferenceEvaluator`` of onnx 1.23 ignores overload names, so such models are for
ONNX Runtime, and ``portable=True`` serves other runtimes).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..params import OnnxLayerWeights
from ..spec import RNNSpec
from .builder import CUSTOM_DOMAIN, GraphBuilder
from .layers import LayerInputs, LayerOutputs, emit_custom_lstm_layer
from .portable import Clip, LstmTensors, emit_lstm_decomposition, spec_clip

OP_TYPE = "LSTM"
FORMAL_INPUTS = ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "projection")
FORMAL_OUTPUTS = ("Y", "Y_h", "Y_c")
ATTRIBUTES = ("hidden_size", "direction", "clip_min", "clip_max", "clip_nan", "layout")
_DOC_PREFIX = "onnx-rnn portable body of onnx_rnn.LSTM, used when the plugin is not registered; signature "


class Signature(NamedTuple):
    dtype: str
    directions: int
    hidden_size: int
    output_size: int
    projection: bool
    clip: Clip | None
    sequence_lens: bool
    initial_h: bool
    initial_c: bool


def emit_function_lstm_layer(
    builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs, index: int
) -> LayerOutputs:
    """The custom op node (the plugin's fast path) backed by a model-local function (the portable fallback)."""
    outs = emit_custom_lstm_layer(builder, spec, weights, inputs, index)
    node = builder.nodes[-1]
    # List every input slot: ONNX Runtime accepts a short list, ReferenceEvaluator wants one per formal input.
    node.input.extend([""] * (len(FORMAL_INPUTS) - len(node.input)))
    signature = Signature(
        dtype=np.dtype(weights.W.dtype).name,
        directions=spec.directions,
        hidden_size=spec.state_size,
        output_size=spec.output_size,
        projection=weights.projection is not None,
        clip=spec_clip(spec),
        sequence_lens=inputs.sequence_length is not None,
        initial_h=inputs.initial_h is not None,
        initial_c=inputs.initial_c is not None,
    )
    node.overload = _ensure_function(builder, signature)
    return outs


def _ensure_function(builder: GraphBuilder, signature: Signature) -> str:
    """Add the function body for ``signature`` unless the model has it; returns its overload name.

    The model's first body has no overload name (IR 8, read by every runtime and ReferenceEvaluator). Each
    further configuration gets its own overload (IR 10), which ONNX Runtime resolves per node.
    """
    doc = _DOC_PREFIX + repr(tuple(signature))
    ours = [f for f in builder.functions if f.domain == CUSTOM_DOMAIN and f.name == OP_TYPE]
    for existing in ours:
        if existing.doc_string == doc:
            return existing.overload
    function = build_function(signature, builder.opset, doc)
    function.overload = f"config{len(ours)}" if ours else ""
    builder.functions.append(function)
    return function.overload


class _FunctionBodyBuilder(GraphBuilder):
    """A GraphBuilder whose constants are Constant nodes (a function body has no initializers)."""

    def initializer(self, array: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        value = numpy_helper.from_array(np.array(array, order="C"), name)  # keeps 0-d arrays scalars
        self.node("Constant", [], outputs=[name], value=value)
        return name


def build_function(signature: Signature, opset: int, doc: str = "") -> onnx.FunctionProto:
    """The FunctionProto ``onnx_rnn.LSTM`` whose body decomposes the op for ``signature``."""
    b = _FunctionBodyBuilder(opset)
    for name in FORMAL_INPUTS + FORMAL_OUTPUTS:
        b.reserve(name)
    H, D = signature.hidden_size, signature.directions
    dtype = np.dtype(signature.dtype)

    b_sum = b.node("Add", b.node("Split", ["B", b.constant_i64([4 * H, 4 * H], "split_b")], 2, axis=1))[0]
    wt, bias = [], []
    for d in range(D):
        index = b.initializer(np.array(d, dtype=np.int64), f"direction{d}")
        wt.append(b.node("Transpose", [b.node("Gather", ["W", index], axis=0)[0]], perm=[1, 0])[0])
        bias.append(b.node("Gather", [b_sum, index], axis=0)[0])
    tensors = LstmTensors(
        wt=wt,
        bias=bias,
        rt=b.node("Transpose", ["R"], perm=[0, 2, 1])[0],
        pt=b.node("Transpose", ["projection"], perm=[0, 2, 1])[0] if signature.projection else None,
    )
    inputs = LayerInputs(
        x="X",
        sequence_length="sequence_lens" if signature.sequence_lens else None,
        initial_h="initial_h" if signature.initial_h else None,
        initial_c="initial_c" if signature.initial_c else None,
    )
    y, y_h, y_c = emit_lstm_decomposition(
        b,
        tensors,
        inputs,
        hidden_size=H,
        output_size=signature.output_size,
        directions=D,
        clip=signature.clip,
        dtype=dtype,
        prefix="lstm",
    )
    for tensor, name in zip((y, y_h, y_c), FORMAL_OUTPUTS):
        b.node("Identity", [tensor], outputs=[name])
    return helper.make_function(
        CUSTOM_DOMAIN,
        OP_TYPE,
        list(FORMAL_INPUTS),
        list(FORMAL_OUTPUTS),
        b.nodes,
        [helper.make_opsetid("", opset)],
        attributes=list(ATTRIBUTES),
        doc_string=doc,
    )
