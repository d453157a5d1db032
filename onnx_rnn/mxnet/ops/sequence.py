"""SequenceMask, SequenceLast, SequenceReverse: time-major (axis 0) or batch-major (axis 1) sequences with
optional per-example lengths (MXNet passes them as floats; they are truncated to integers, as MXNet does)."""

from __future__ import annotations

import numpy as np

from ..context import Context, Value
from ..symbol import Attrs
from . import register, shifted
from .common import show_shape


def _lengths(ctx: Context, attrs: Attrs, ins: list[Value]) -> Value | None:
    if not attrs.flag("use_sequence_length"):
        return None
    if len(ins) < 2:
        raise ctx.fail("use_sequence_length=True needs the sequence_length input")
    lengths = ins[1]
    ctx.require_no_bcast(lengths, "sequence_length")
    if lengths.rank not in (None, 1):
        raise ctx.fail(f"sequence_length has shape {show_shape(lengths)}; expected (batch,)")
    return lengths


def _axis(ctx: Context, attrs: Attrs, allowed: tuple[int, ...]) -> int:
    axis: int = attrs.integer("axis", 0)
    if axis not in allowed:
        raise attrs.fail("axis", " or ".join(map(str, allowed)) + " (the time axis)")
    return axis


def _batch_dim(ctx: Context, data: Value, axis: int, lengths: Value | None) -> None:
    if lengths is not None and data.shape is not None and lengths.shape is not None:
        ctx.unify(data.shape[1 - axis], lengths.shape[0])


@register("SequenceMask", back=lambda a, o, n: [o[0], 1][:n], arity=(1, 2))
def sequence_mask(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    data = ins[0]
    lengths = _lengths(ctx, attrs, ins)
    if lengths is None:
        return [data]
    ctx.require_no_bcast(data)
    axis = _axis(ctx, attrs, (0, 1))
    rank = ctx.require_rank(data)
    if rank < 2:
        raise ctx.fail(f"data has shape {show_shape(data)}; expected at least (time, batch)")
    _batch_dim(ctx, data, axis, lengths)
    steps_total = ctx.squeeze(ctx.dim(data, axis), [0])
    steps = ctx.emit("Range", [ctx.i64(0), steps_total, ctx.i64(1)])
    lens = ctx.cast(ctx.t(lengths), lengths.dtype, np.dtype(np.int64))
    if axis == 0:  # (T, 1) < (1, N)
        mask = ctx.emit("Less", [ctx.unsqueeze(steps, [1]), ctx.unsqueeze(lens, [0])])
    else:  # (1, T) < (N, 1)
        mask = ctx.emit("Less", [ctx.unsqueeze(steps, [0]), ctx.unsqueeze(lens, [1])])
    if rank > 2:
        mask = ctx.unsqueeze(mask, list(range(2, rank)))
    value = ctx.scalar(attrs.number("value", 0.0), data.dtype)
    return [ctx.value(ctx.emit("Where", [mask, ctx.t(data), value]), data.dtype, data.shape)]


@register(
    "SequenceLast", rank=shifted(-1), back=lambda a, o, n: [None if o[0] is None else o[0] + 1, 1][:n], arity=(1, 2)
)
def sequence_last(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    data = ins[0]
    ctx.require_no_bcast(data)
    lengths = _lengths(ctx, attrs, ins)
    axis = _axis(ctx, attrs, (0, 1))
    rank = ctx.require_rank(data)
    if rank < 2:
        raise ctx.fail(f"data has shape {show_shape(data)}; expected at least (time, batch)")
    dims = ctx.require_shape(data)
    shape = dims[:axis] + dims[axis + 1 :]
    if lengths is None:
        out = ctx.emit("Gather", [ctx.t(data), ctx.i64(-1)], axis=axis)
        return [ctx.value(out, data.dtype, shape)]
    _batch_dim(ctx, data, axis, lengths)
    batch_major = ctx.t(data)
    if axis == 0:
        perm = [1, 0] + list(range(2, rank))
        batch_major = ctx.emit("Transpose", [batch_major], perm=perm)
    last = ctx.emit("Sub", [ctx.cast(ctx.t(lengths), lengths.dtype, np.dtype(np.int64)), ctx.i64([1])])
    out = ctx.emit("GatherND", [batch_major, ctx.unsqueeze(last, [1])], batch_dims=1)
    return [ctx.value(out, data.dtype, shape)]


@register("SequenceReverse", back=lambda a, o, n: [o[0], 1][:n], arity=(1, 2))
def sequence_reverse(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    data = ins[0]
    ctx.require_no_bcast(data)
    lengths = _lengths(ctx, attrs, ins)
    _axis(ctx, attrs, (0,))
    if lengths is None:
        out = ctx.emit("Slice", [ctx.t(data), ctx.i64([-1]), ctx.i64([-(2**63)]), ctx.i64([0]), ctx.i64([-1])])
        return [ctx.value(out, data.dtype, data.shape)]
    rank = ctx.require_rank(data)
    if rank < 2:
        raise ctx.fail(f"data has shape {show_shape(data)}; expected at least (time, batch)")
    _batch_dim(ctx, data, 0, lengths)
    lens = ctx.cast(ctx.t(lengths), lengths.dtype, np.dtype(np.int64))
    out = ctx.emit("ReverseSequence", [ctx.t(data), lens], batch_axis=1, time_axis=0)
    return [ctx.value(out, data.dtype, data.shape)]
