"""The RNN operator (through the core exporter) and Gluon's ``_rnn_param_concat``."""

from __future__ import annotations

import numpy as np

from ...errors import OnnxRnnError
from ...export.rnn import emit_rnn
from ...spec import RNNSpec
from ..context import Context, Value, check_constant, const_value
from ..symbol import Attrs
from . import Ranks, register
from .common import norm_axis, show_shape
from .tensor import concat_values


def _spec(ctx: Context, attrs: Attrs) -> RNNSpec:
    try:
        return RNNSpec.from_mxnet_attrs(attrs.raw)
    except OnnxRnnError as exc:
        raise ctx.fail(str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise ctx.fail(f"unusable RNN attributes {dict(attrs.raw)}: {exc}") from None


def _n_out(attrs: Attrs) -> int:
    if not attrs.flag("state_outputs"):
        return 1
    return 3 if attrs.text("mode", "") == "lstm" else 2


def _rnn_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    ranks: Ranks = [3, 1, 3, 3, 1] if attrs.text("mode", "") == "lstm" else [3, 1, 3, 1]
    return ranks[:n_in]


@register(
    "RNN",
    rank=lambda a, r, n: [3] * n,
    back=_rnn_back,
    n_out=_n_out,
    arity=(3, 5),
    out_names=lambda a: ["output", "state_output", "statecell_output"],
    bcast_ok=True,
)
def rnn(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    spec = _spec(ctx, attrs)
    lstm = spec.mode == "lstm"
    expected = 3 + int(lstm) + int(spec.use_sequence_length)
    names = (
        ["data", "parameters", "state"]
        + (["state_cell"] if lstm else [])
        + (["sequence_length"] if spec.use_sequence_length else [])
    )
    if len(ins) != expected:
        raise ctx.fail(f"expected {expected} inputs ({', '.join(names)}), got {len(ins)}")
    data, params, state = ins[0], ins[1], ins[2]
    state_cell = ins[3] if lstm else None
    lengths = ins[-1] if spec.use_sequence_length else None

    ctx.require_no_bcast(data, "data")
    if data.rank is not None and data.rank != 3:
        raise ctx.fail(f"data has shape {show_shape(data)}; expected (time, batch, input width)")
    if params.const is None:
        raise ctx.fail(
            "the parameters input is not a constant; expected it to come from the .params file "
            "(a variable, or Gluon's _rnn_param_concat of variables)"
        )
    flat = params.const.reshape(-1)
    if not np.issubdtype(flat.dtype, np.floating):
        raise ctx.fail(f"parameters have dtype {flat.dtype}; expected float16, float32 or float64")
    dtype = flat.dtype
    T, N, width = data.shape if data.shape is not None else (None, None, None)
    ctx.set_role(T, "time")
    ctx.set_role(N, "batch")
    try:
        input_size = spec.input_size_from_count(flat.size)
    except OnnxRnnError as exc:
        raise ctx.fail(str(exc)) from None
    if isinstance(width, int) and width != input_size:
        raise ctx.fail(
            f"data has shape {show_shape(data)}, but the parameter vector (length {flat.size}) "
            f"is sized for input width {input_size}"
        )
    ctx.bind(width, input_size)

    L, D, H, R = spec.num_layers, spec.directions, spec.state_size, spec.output_size

    def state_tensor(v: Value | None, width_: int, what: str) -> str | None:
        if v is None:
            return None
        if v.rank is not None and v.rank != 3:
            raise ctx.fail(f"{what} has shape {show_shape(v)}; expected ({L * D}, batch, {width_})")
        if v.shape is not None:
            for axis, want in ((0, L * D), (2, width_)):
                got = v.shape[axis]
                if isinstance(got, int) and axis not in v.bcast and got != want:
                    raise ctx.fail(f"{what} has shape {show_shape(v)}; expected ({L * D}, batch, {width_})")
                ctx.bind(got, want)
            if 1 not in v.bcast and N is not None:
                ctx.unify(N, v.shape[1])
        if v.bcast:
            if v.const is not None and not np.any(v.const):
                return None  # Gluon's zeros begin state: the exporter's zero initial state
            if v.bcast != {1}:
                raise ctx.fail(
                    f"{what} is a constant with a 0 (unknown) size on an axis other than the batch "
                    "axis; expected 0 only for the batch size"
                )
            return ctx.cast(ctx.expand_like(v, data, {1: 1}), v.dtype, dtype)
        return ctx.cast(ctx.t(v), v.dtype, dtype)

    h0 = state_tensor(state, R, "state")
    c0 = state_tensor(state_cell, H, "state_cell")
    seq = None
    if lengths is not None:
        ctx.require_no_bcast(lengths, "sequence_length")
        if lengths.shape is not None:
            if lengths.rank != 1:
                raise ctx.fail(f"sequence_length has shape {show_shape(lengths)}; expected (batch,)")
            ctx.unify(N, lengths.shape[0])
        seq = ctx.cast(ctx.t(lengths), lengths.dtype, np.dtype(np.int32))
    x = ctx.cast(ctx.t(data), data.dtype, dtype)
    try:
        names_out = emit_rnn(
            ctx.b,
            spec,
            flat,
            data=x,
            state=h0,
            state_cell=c0,
            sequence_length=seq,
            input_size=input_size,
            backend=ctx.backend,
        )
    except OnnxRnnError as exc:
        raise ctx.fail(str(exc)) from None
    outs = [ctx.value(names_out.output, dtype, (T, N, D * R))]
    if spec.state_outputs:
        outs.append(ctx.value(names_out.state_output, dtype, (L * D, N, R)))
        if lstm:
            assert names_out.state_cell_output is not None  # emit_rnn names an LSTM's cell state
            outs.append(ctx.value(names_out.state_cell_output, dtype, (L * D, N, H)))
    return outs


@register("_rnn_param_concat", rank=lambda a, r, n: [1], back=lambda a, o, n: [None] * n, arity=(1, None))
def rnn_param_concat(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Gluon joins its per-layer weights (each reshaped to 1-D) into the operator's flat vector."""
    dim = attrs.integer("dim", 0)
    if all(v.const is not None for v in ins):
        dim = norm_axis(ctx, dim, ins[0].rank, "dim")
        arrays = [v.array() for v in ins]
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) != 1:
            raise ctx.fail(f"parameters of different dtypes {sorted(map(str, dtypes))}; expected one dtype")
        shape = list(arrays[0].shape)
        shape[dim] = sum(a.shape[dim] if a.ndim == len(shape) else 0 for a in arrays)
        check_constant(shape, arrays[0].dtype, "the joined parameter vector", arrays)
        try:
            return [const_value(np.concatenate(arrays, axis=dim))]
        except ValueError as exc:
            raise ctx.fail(f"cannot join parameters of shapes {[a.shape for a in arrays]}: {exc}") from None
    return [concat_values(ctx, ins, dim)]
