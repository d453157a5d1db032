"""One file for both worlds: the custom op node plus a model-local ONNX function of the same name.

The layer is our ``onnx_rnn.LSTMP`` node (what ``emit_custom_lstm_layer`` writes, with every input the body
reads given), and the model carries a FunctionProto with domain ``onnx_rnn`` and name ``LSTMP`` whose body is
the portable decomposition (portable.py). ONNX Runtime (1.21 to 1.32) runs the plugin's kernel when the
library is registered, and inlines the function when it is not; ``onnx.reference.ReferenceEvaluator`` runs the
function. So the model is fast with the plugin and correct without it.

The body is specialised to the layer's signature (dtype, directions, hidden and output size, projection, clip);
every layer of one MXNet ``RNN`` operator has the same signature. A model holds one such function: layers of a
further signature are written with standard operators (function overloads would need ONNX Runtime 1.27, and
``onnx.reference`` ignores them).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..params import OnnxLayerWeights
from ..spec import RNNSpec
from .builder import CUSTOM_DOMAIN, CUSTOM_OP_TYPE, GraphBuilder
from .layers import LayerInputs, LayerOutputs, emit_custom_lstm_layer
from .portable import Clip, LstmTensors, _dim, _zeros, emit_lstm_decomposition, emit_portable_lstm_layer, spec_clip

OP_TYPE = CUSTOM_OP_TYPE
FORMAL_INPUTS = ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "projection")
FORMAL_OUTPUTS = ("Y", "Y_h", "Y_c")
CLIP_ATTRIBUTES = ("clip_min", "clip_max", "clip_nan")
_DOC_PREFIX = "onnx-rnn portable body of onnx_rnn.LSTMP, used when the plugin is not registered; signature "


class Signature(NamedTuple):
    dtype: str
    directions: int
    hidden_size: int
    output_size: int
    projection: bool
    clip: Clip | None


def emit_function_lstm_layer(
    builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs, index: int
) -> LayerOutputs:
    """The custom op node (the plugin's fast path) backed by a model-local function (the portable fallback).

    The node gets every input the function reads: absent lengths become T for each batch element and absent
    initial states zeros (the same results), so the function has no unused formal input (tools such as onnxslim
    prune those and break the call). One model holds one function: a layer whose signature differs from the
    model's first custom layer is written with standard operators (``portable``) instead, since ONNX Runtime
    before 1.27 and ``onnx.reference`` do not resolve function overloads (docs/portable.md).
    """
    signature = Signature(
        dtype=np.dtype(weights.W.dtype).name,
        directions=spec.directions,
        hidden_size=spec.state_size,
        output_size=spec.output_size,
        projection=weights.projection is not None,
        clip=spec_clip(spec),
    )
    if not _ensure_function(builder, signature):
        return emit_portable_lstm_layer(builder, spec, weights, inputs, index)
    outs = emit_custom_lstm_layer(builder, spec, weights, _all_present(builder, spec, weights, inputs), index)
    node = builder.nodes[-1]
    # List every input slot: ONNX Runtime accepts a short list, ReferenceEvaluator wants one per formal input.
    node.input.extend([""] * (_num_formal_inputs(signature) - len(node.input)))
    return outs


def _all_present(builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs) -> LayerInputs:
    """``inputs`` with absent lengths (T for every element) and initial states (zeros) made explicit."""
    dtype = np.dtype(weights.W.dtype)
    batch = _dim(builder, inputs.x, 1)
    lengths = inputs.sequence_length
    if lengths is None:
        steps = builder.node("Cast", [_dim(builder, inputs.x, 0)], to=onnx.TensorProto.INT32)[0]
        lengths = builder.node("Expand", [steps, batch])[0]
    D = spec.directions
    h0 = inputs.initial_h or _zeros(builder, [D], batch, [spec.output_size], dtype, "fn_h0")
    c0 = inputs.initial_c or _zeros(builder, [D], batch, [spec.state_size], dtype, "fn_c0")
    return LayerInputs(inputs.x, lengths, h0, c0)


def _num_formal_inputs(signature: Signature) -> int:
    return len(FORMAL_INPUTS) if signature.projection else len(FORMAL_INPUTS) - 1


def _ensure_function(builder: GraphBuilder, signature: Signature) -> bool:
    """Add the function body for ``signature`` unless the model has one; False when it has another signature."""
    doc = _DOC_PREFIX + repr(tuple(signature))
    ours = [f for f in builder.functions if f.domain == CUSTOM_DOMAIN and f.name == OP_TYPE]
    if ours:
        return ours[0].doc_string == doc
    builder.functions.append(build_function(signature, builder.opset, doc))
    return True


class _FunctionBodyBuilder(GraphBuilder):
    """A GraphBuilder whose constants are Constant nodes (a function body has no initializers)."""

    def initializer(self, array: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        value = numpy_helper.from_array(np.array(array, order="C"), name)  # keeps 0-d arrays scalars
        self.node("Constant", [], outputs=[name], value=value)
        return name


def build_function(signature: Signature, opset: int, doc: str = "") -> onnx.FunctionProto:
    """The FunctionProto ``onnx_rnn.LSTMP`` whose body decomposes the op for ``signature``."""
    b = _FunctionBodyBuilder(opset)
    for name in FORMAL_INPUTS[: _num_formal_inputs(signature)] + FORMAL_OUTPUTS:
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
    inputs = LayerInputs(x="X", sequence_length="sequence_lens", initial_h="initial_h", initial_c="initial_c")
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
    # The attributes the node carries (ReferenceEvaluator looks up the others' defaults and fails).
    attributes = ["hidden_size", "direction", *(CLIP_ATTRIBUTES if signature.clip else ())]
    return helper.make_function(
        CUSTOM_DOMAIN,
        OP_TYPE,
        list(FORMAL_INPUTS[: _num_formal_inputs(signature)]),
        list(FORMAL_OUTPUTS),
        b.nodes,
        [helper.make_opsetid("", opset)],
        attributes=attributes,
        doc_string=doc,
    )
