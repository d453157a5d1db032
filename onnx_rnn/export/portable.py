"""The portable LSTM layer: projection and MXNet's cell-state clipping in standard ONNX operators only.

Same contract as ``emit_custom_lstm_layer`` (layers.py, docs/custom_op.md), so a model converted with
``portable=True`` runs in any ONNX runtime, without the onnx-rnn plugin. Per layer:

* the input projection is hoisted out of the time loop: ``X W_d^T + (Wb_d + Rb_d)``, one MatMul over all T
  steps per direction;
* the backward direction's projected input is reversed per batch element (``ReverseSequence`` with the
  sequence lengths, so element b starts at ``len_b - 1`` and its padding stays in place), and both directions
  are stacked on axis 1: (T, D, N, 4H);
* one ``Scan`` over t runs both directions at once (batched MatMuls with R^T (D, S, 4H) and P^T (D, H, P)):
  the LSTM cell, the clip with explicit NaN handling, the projection, and, with sequence lengths, a (T, N, 1)
  mask that keeps the old state and emits zeros for t >= len_b;
* the backward half of Y is reversed back the same way.

The decomposition works on tensor names (``LstmTensors``), so the model-local function of function.py reuses it
with the custom op's inputs instead of initializers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import onnx
from onnx import helper

from ..params import OnnxLayerWeights
from ..spec import RNNSpec
from .builder import GraphBuilder, np_to_onnx_dtype
from .layers import LayerInputs, LayerOutputs

INT64_MIN = np.iinfo(np.int64).min


class Clip(NamedTuple):
    """MXNet's cell-state clip; ``nan`` True maps NaN to ``lo`` (fmax/fmin), False lets NaN propagate."""

    lo: float
    hi: float
    nan: bool


class LstmTensors(NamedTuple):
    """The tensors the decomposition reads, already in the form the loop wants (names in the builder)."""

    wt: list[str]  # per direction: W_d^T (I, 4H)
    bias: list[str]  # per direction: Wb_d + Rb_d (4H,)
    rt: str  # R^T stacked: (D, S, 4H)
    pt: str | None  # projection^T stacked: (D, H, P), or None


def spec_clip(spec: RNNSpec) -> Clip | None:
    lo, hi = spec.lstm_state_clip_min, spec.lstm_state_clip_max  # both or neither (RNNSpec checks)
    if lo is None or hi is None:
        return None
    return Clip(float(lo), float(hi), bool(spec.lstm_state_clip_nan))


def emit_portable_lstm_layer(
    builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs, index: int
) -> LayerOutputs:
    """One LSTM layer (both directions) with projection and/or clipping, standard operators only."""
    dtype = np.dtype(weights.W.dtype)
    H, D = spec.state_size, spec.directions
    W, R, B = weights.W, weights.R, weights.B
    tensors = LstmTensors(
        wt=[builder.initializer(np.ascontiguousarray(W[d].T), f"layer{index}_d{d}_WT") for d in range(D)],
        bias=[builder.initializer(B[d, : 4 * H] + B[d, 4 * H :], f"layer{index}_d{d}_bias") for d in range(D)],
        rt=builder.initializer(np.ascontiguousarray(R.transpose(0, 2, 1)), f"layer{index}_RT"),
        pt=None
        if weights.projection is None
        else builder.initializer(np.ascontiguousarray(weights.projection.transpose(0, 2, 1)), f"layer{index}_PT"),
    )
    return emit_lstm_decomposition(
        builder,
        tensors,
        inputs,
        hidden_size=H,
        output_size=spec.output_size,
        directions=D,
        clip=spec_clip(spec),
        dtype=dtype,
        prefix=f"layer{index}",
    )


def emit_lstm_decomposition(
    builder: GraphBuilder,
    tensors: LstmTensors,
    inputs: LayerInputs,
    *,
    hidden_size: int,
    output_size: int,
    directions: int,
    clip: Clip | None,
    dtype: np.dtype,
    prefix: str,
) -> LayerOutputs:
    """Append the layer's nodes; returns Y (T, D, N, S), Y_h (D, N, S), Y_c (D, N, H)."""
    b = builder
    H, S = hidden_size, output_size
    split_3h_h = b.constant_i64([3 * H, H], "split_3h_h")
    split_h3 = b.constant_i64([H, H, H], "split_h_h_h")
    if clip is not None:
        lo = b.initializer(np.array(clip.lo, dtype=dtype), f"{prefix}_clip_min")
        hi = b.initializer(np.array(clip.hi, dtype=dtype), f"{prefix}_clip_max")

    def step(body: _Body, states: list[str], xw_t: str) -> tuple[list[str], str]:
        h, c = states
        gates = body.node("Add", [xw_t, body.node("MatMul", [h, tensors.rt])])  # (D, N, 4H), order i, o, f, c
        sig_part, cand = body.split([gates, split_3h_h], 2, axis=2)
        i, o, f = body.split([body.node("Sigmoid", [sig_part]), split_h3], 3, axis=2)
        c_new = body.node("Add", [body.node("Mul", [f, c]), body.node("Mul", [i, body.node("Tanh", [cand])])])
        if clip is not None:
            clipped = body.node("Min", [body.node("Max", [c_new, lo]), hi])
            # Max/Min's NaN behaviour differs between runtimes; make it explicit: NaN -> clip_min or NaN.
            c_new = body.node("Where", [body.node("IsNaN", [c_new]), lo if clip.nan else c_new, clipped])
        h_new = body.node("Mul", [o, body.node("Tanh", [c_new])])
        if tensors.pt is not None:
            h_new = body.node("MatMul", [h_new, tensors.pt])
        return [h_new, c_new], h_new

    y, (y_h, y_c) = _emit_scan_layer(
        b,
        inputs,
        tensors.wt,
        tensors.bias,
        [(inputs.initial_h, S), (inputs.initial_c, H)],
        step,
        directions=directions,
        dtype=dtype,
        prefix=prefix,
    )
    return LayerOutputs(y, y_h, y_c)


def emit_portable_standard_layer(
    builder: GraphBuilder, spec: RNNSpec, weights: OnnxLayerWeights, inputs: LayerInputs, index: int
) -> LayerOutputs:
    """A layer standard ONNX expresses as an LSTM/GRU/RNN node, written with Scan and elementwise operators.

    Used for float64 models: ONNX Runtime's CPU provider has no float64 LSTM/GRU/RNN kernel, but runs MatMul,
    Sigmoid, Tanh, Relu and Scan in float64, so the layer stays float64 end to end (docs/portable.md).
    Semantics are ONNX's: LSTM (gate order i, o, f, c), GRU with ``linear_before_reset=1`` (what MXNet computes),
    RNN with Tanh or Relu.
    """
    if spec.mode == "lstm":
        return emit_portable_lstm_layer(builder, spec, weights, inputs, index)
    b, dtype = builder, np.dtype(weights.W.dtype)
    H, D, gates = spec.state_size, spec.directions, weights.W.shape[1] // spec.state_size
    W, R, B = weights.W, weights.R, weights.B
    wt = [b.initializer(np.ascontiguousarray(W[d].T), f"layer{index}_d{d}_WT") for d in range(D)]
    rt = b.initializer(np.ascontiguousarray(R.transpose(0, 2, 1)), f"layer{index}_RT")  # (D, H, G*H)
    if spec.mode == "gru":  # z and r take both biases outside the loop; h~ takes Rb_h inside, after the reset gate
        wb, rb = B[:, : 3 * H], B[:, 3 * H :]
        outside = np.concatenate([wb[:, : 2 * H] + rb[:, : 2 * H], wb[:, 2 * H :]], axis=1)
        bias = [b.initializer(np.ascontiguousarray(outside[d]), f"layer{index}_d{d}_bias") for d in range(D)]
        rb_h = b.initializer(np.ascontiguousarray(rb[:, None, 2 * H :]), f"layer{index}_Rbh")  # (D, 1, H)
        split_2h_h = b.constant_i64([2 * H, H], "split_2h_h")
        split_h2 = b.constant_i64([H, H], "split_h_h")
        one = b.initializer(np.ones((), dtype=dtype), f"layer{index}_one")

        def step(body: _Body, states: list[str], xw_t: str) -> tuple[list[str], str]:
            (h,) = states
            hr = body.node("MatMul", [h, rt])  # (D, N, 3H), order z, r, h
            x_zr, x_h = body.split([xw_t, split_2h_h], 2, axis=2)
            h_zr, h_h = body.split([hr, split_2h_h], 2, axis=2)
            z, r = body.split([body.node("Sigmoid", [body.node("Add", [x_zr, h_zr])]), split_h2], 2, axis=2)
            cand = body.node("Tanh", [body.node("Add", [x_h, body.node("Mul", [r, body.node("Add", [h_h, rb_h])])])])
            h_new = body.node("Add", [body.node("Mul", [body.node("Sub", [one, z]), cand]), body.node("Mul", [z, h])])
            return [h_new], h_new

    else:
        bias = [b.initializer(B[d, : gates * H] + B[d, gates * H :], f"layer{index}_d{d}_bias") for d in range(D)]
        activation = "Tanh" if spec.mode == "rnn_tanh" else "Relu"

        def step(body: _Body, states: list[str], xw_t: str) -> tuple[list[str], str]:
            (h,) = states
            h_new = body.node(activation, [body.node("Add", [xw_t, body.node("MatMul", [h, rt])])])
            return [h_new], h_new

    y, (y_h,) = _emit_scan_layer(
        b, inputs, wt, bias, [(inputs.initial_h, H)], step, directions=D, dtype=dtype, prefix=f"layer{index}"
    )
    return LayerOutputs(y, y_h, None)


StepFn = Callable[["_Body", list[str], str], tuple[list[str], str]]


def _emit_scan_layer(
    b: GraphBuilder,
    inputs: LayerInputs,
    wt: list[str],
    bias: list[str],
    states: list[tuple[str | None, int]],
    step: StepFn,
    *,
    directions: int,
    dtype: np.dtype,
    prefix: str,
) -> tuple[str, list[str]]:
    """The loop shared by every cell: hoisted input projection, reversed backward direction, one Scan, lengths.

    ``states`` lists each state's initial tensor (None: zeros) and width; ``step`` appends one time step to the
    Scan body, mapping the states and the projected input (D, N, G) to the new states and the step's output.
    Returns Y (T, D, N, S) and the final states.
    """
    D, x = directions, inputs.x
    lengths = (
        None
        if inputs.sequence_length is None
        else b.node("Cast", [inputs.sequence_length], to=onnx.TensorProto.INT64)[0]
    )
    axis1 = b.constant_i64([1], "axis1")

    # Input projection, hoisted out of the loop: one MatMul over all time steps per direction.
    stacked = []
    for d in range(D):
        xw = b.node("Add", [b.node("MatMul", [x, wt[d]])[0], bias[d]])[0]
        if d == 1:
            xw = _reverse_time(b, xw, lengths)
        stacked.append(b.node("Unsqueeze", [xw, axis1])[0])
    xw_all = stacked[0] if D == 1 else b.node("Concat", stacked, axis=1)[0]  # (T, D, N, G)

    batch = _dim(b, x, 1)
    initial = [t or _zeros(b, [D], batch, [width], dtype, f"{prefix}_s{k}") for k, (t, width) in enumerate(states)]
    scan_inputs = [xw_all]
    if lengths is not None:
        scan_inputs.append(_step_mask(b, x, lengths))

    body = _step_body(b, len(states), step, dtype=dtype, masked=lengths is not None, prefix=prefix)
    outs = b.node("Scan", [*initial, *scan_inputs], len(states) + 1, body=body, num_scan_inputs=len(scan_inputs))
    finals, y = outs[:-1], outs[-1]

    if D == 2:  # the backward direction ran on reversed time: put its outputs back in place
        forward, backward = b.node("Split", [y, b.constant_i64([1, 1], "split_1_1")], 2, axis=1)
        backward = b.node("Squeeze", [backward, axis1])[0]
        backward = b.node("Unsqueeze", [_reverse_time(b, backward, lengths), axis1])[0]
        y = b.node("Concat", [forward, backward], axis=1)[0]
    return y, finals


def _step_body(
    b: GraphBuilder, num_states: int, step: StepFn, *, dtype: np.dtype, masked: bool, prefix: str
) -> onnx.GraphProto:
    """The Scan body: one step for both directions at once. Reads weights and constants from outside."""
    elem = np_to_onnx_dtype(dtype)
    if masked:
        zero = b.initializer(np.zeros((), dtype=dtype), f"{prefix}_zero")
    body = _Body(b)  # the body's own nodes; constants and weights are the outer graph's
    states = [b.unique(f"{prefix}_state{k}") for k in range(num_states)]
    xw_t = b.unique(f"{prefix}_xw_t")
    mask_t = b.unique(f"{prefix}_mask_t") if masked else ""

    new_states, y_t = step(body, states, xw_t)
    if masked:  # t >= len_b: keep the state, emit zeros
        new_states = [body.node("Where", [mask_t, new, old]) for new, old in zip(new_states, states)]
        y_t = body.node("Where", [mask_t, y_t, zero])
    outs = [body.node("Identity", [v]) for v in (*new_states, y_t)]

    def info(name: str, elem_type: int, rank: int) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, elem_type, [None] * rank)

    graph_inputs = [info(n, elem, 3) for n in (*states, xw_t)]
    if masked:
        graph_inputs.append(info(mask_t, onnx.TensorProto.BOOL, 2))
    return helper.make_graph(body.nodes, b.unique(f"{prefix}_step"), graph_inputs, [info(n, elem, 3) for n in outs])


class _Body:
    """Nodes of a subgraph, named through the outer builder so no name shadows or repeats another."""

    def __init__(self, outer: GraphBuilder) -> None:
        self.outer = outer
        self.nodes: list[onnx.NodeProto] = []

    def node(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        """Append a node with one output; returns its name."""
        return self._append(op_type, inputs, 1, attrs)[0]

    def split(self, inputs: Sequence[str], n_outputs: int, **attrs: Any) -> list[str]:
        """Append a ``Split`` node with ``n_outputs`` outputs."""
        return self._append("Split", inputs, n_outputs, attrs)

    def _append(self, op_type: str, inputs: Sequence[str], n_outputs: int, attrs: dict[str, Any]) -> list[str]:
        outputs = [self.outer.unique(f"{op_type.lower()}_out") for _ in range(n_outputs)]
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outputs, name=self.outer.unique(f"{op_type}_node"), **attrs)
        )
        return outputs


def _reverse_time(b: GraphBuilder, tensor: str, lengths: str | None) -> str:
    """Reverse (T, N, ...) on time: per batch element over its first len_b steps, or over all T.

    Lengths are raised to at least 1 first: reversing one step is the identity, as is reversing none, and
    ONNX Runtime before 1.28 zeroes the columns of ReverseSequence whose length is 0.
    """
    if lengths is not None:
        at_least_one = b.node("Max", [lengths, b.constant_i64([1], "one")])[0]
        return b.node("ReverseSequence", [tensor, at_least_one], batch_axis=1, time_axis=0)[0]
    return b.node(
        "Slice",
        [
            tensor,
            b.constant_i64([-1], "minus1"),
            b.constant_i64([INT64_MIN], "int64_min"),
            b.constant_i64([0], "axis0"),
            b.constant_i64([-1], "minus1"),
        ],
    )[0]


def _dim(b: GraphBuilder, tensor: str, axis: int) -> str:
    """Dimension ``axis`` of ``tensor`` at run time, as a (1,) int64 tensor."""
    shape = b.node("Shape", [tensor])[0]
    return b.node("Gather", [shape, b.constant_i64([axis], f"index{axis}")], axis=0)[0]


def _zeros(b: GraphBuilder, lead: list[int], batch: str, tail: list[int], dtype: np.dtype, hint: str) -> str:
    """Zeros of shape lead + [N] + tail, N from the input at run time."""
    shape = b.node(
        "Concat", [b.constant_i64(lead, f"{hint}_lead"), batch, b.constant_i64(tail, f"{hint}_tail")], axis=0
    )[0]
    value = helper.make_tensor("value", np_to_onnx_dtype(dtype), [1], [0])
    return b.node("ConstantOfShape", [shape], value=value)[0]


def _step_mask(b: GraphBuilder, x: str, lengths: str) -> str:
    """(T, N, 1) bool: step t is valid for batch element b (t < len_b)."""
    axis0 = b.constant_i64([0], "axis0")

    def scalar(tensor: str) -> str:  # Range takes scalars
        return b.node("Squeeze", [tensor, axis0])[0]

    steps = b.node(
        "Range", [scalar(b.constant_i64([0], "zero")), scalar(_dim(b, x, 0)), scalar(b.constant_i64([1], "one"))]
    )[0]
    column = b.node("Unsqueeze", [steps, b.constant_i64([1], "axis1")])[0]  # (T, 1)
    valid = b.node("Less", [column, b.node("Unsqueeze", [lengths, b.constant_i64([0], "axis0")])[0]])[0]
    return b.node("Unsqueeze", [valid, b.constant_i64([2], "axis2")])[0]
