"""Ops the GluonNLP models use around their cells and attention: ``repeat``, ``reshape_like``, ``cumsum``,
``_contrib_arange_like``, ``_contrib_div_sqrt_dim`` and ``norm`` (MXNet 1.9.1 semantics, stated per op).
``pick`` comes with the training-symbol work (ops/pick.py of the other zoo branch)."""

from __future__ import annotations

import math

import numpy as np

from ...export.builder import np_to_onnx_dtype
from ..context import Context, DimT, Value, const_value, is_float
from ..symbol import Attrs
from . import no_back, register, same
from .common import norm_axis

I64 = np.dtype(np.int64)


def _flat(ctx: Context, x: Value) -> Value:
    size: DimT = None
    static = x.static_shape()
    if static is not None:
        size = math.prod(static)
    return ctx.value(ctx.emit("Reshape", [ctx.t(x), ctx.i64([-1])]), x.dtype, (size,))


def _mul(a: DimT, k: int) -> DimT:
    return a * k if isinstance(a, int) else None


# ---------------------------------------------------------------- repeat


def _repeat_rank(attrs: Attrs, ranks: list[int | None], n_out: int) -> list[int | None]:
    return [1] if not attrs.has("axis") else same(attrs, ranks, n_out)


@register("repeat", rank=_repeat_rank, back=lambda a, o, n: [o[0] if a.has("axis") else None])
def repeat(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Each element ``repeats`` times along ``axis`` (np.repeat); without an axis the input is flattened."""
    x = ins[0]
    repeats = attrs.integer("repeats")
    if repeats < 0:
        raise attrs.fail("repeats", "a non-negative integer")
    if not attrs.has("axis"):
        x = _flat(ctx, x)
        axis = 0
    else:
        axis = norm_axis(ctx, attrs.integer("axis"), ctx.require_rank(x))
    rank = x.rank
    assert rank is not None and x.shape is not None
    if x.const is not None:
        return [const_value(np.repeat(x.const, repeats, axis=axis))]
    grown = ctx.unsqueeze(ctx.t(x), [axis + 1])
    tiled = ctx.emit("Tile", [grown, ctx.i64([1] * (axis + 1) + [repeats] + [1] * (rank - axis - 1))])
    parts: list[int | str] = [ctx.dim(x, k) for k in range(axis)]
    parts.append(ctx.emit("Mul", [ctx.dim(x, axis), ctx.i64([repeats])]))
    parts += [ctx.dim(x, k) for k in range(axis + 1, rank)]
    out = ctx.emit("Reshape", [tiled, ctx.shape_vector(parts)])
    shape = tuple(_mul(d, repeats) if k == axis else d for k, d in enumerate(x.shape))
    return [ctx.value(out, x.dtype, shape)]


# ---------------------------------------------------------------- reshape_like


def _span(ctx: Context, attrs: Attrs, side: str, rank: int | None) -> tuple[int, int | None]:
    """[begin, end) of ``side``'s axes (None end: to the last axis); negative values count from the end."""
    begin, end = attrs.integer(f"{side}_begin", 0), attrs.integer(f"{side}_end", None)
    if (begin < 0 or (end is not None and end < 0)) and rank is None:
        raise ctx.fail(
            f"negative {side}_begin/{side}_end need the {side} input's number of dimensions, which is unknown "
            "here; give the graph inputs' shapes (--input-shape name=d0,d1,...)"
        )
    if rank is not None:
        begin = norm_axis(ctx, begin, rank, f"{side}_begin", extra=1)
        end = None if end is None else norm_axis(ctx, end, rank, f"{side}_end", extra=1)
    return begin, end


def _reshape_like_rank(attrs: Attrs, ranks: list[int | None], n_out: int) -> list[int | None]:
    lhs, rhs = ranks
    spans = ("lhs_begin", "lhs_end", "rhs_begin", "rhs_end")
    if not any(attrs.has(k) for k in spans):
        return [rhs]
    if lhs is None or rhs is None:
        return [None]
    lb, le = attrs.integer("lhs_begin", 0) % (lhs + 1), attrs.integer("lhs_end", None)
    rb, re = attrs.integer("rhs_begin", 0) % (rhs + 1), attrs.integer("rhs_end", None)
    le = lhs if le is None else le % (lhs + 1)
    re = rhs if re is None else re % (rhs + 1)
    return [lb + (re - rb) + (lhs - le)]


@register("reshape_like", rank=_reshape_like_rank, back=no_back, arity=(2, 2))
def reshape_like(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """lhs reshaped to lhs.shape[:lhs_begin] + rhs.shape[rhs_begin:rhs_end] + lhs.shape[lhs_end:]."""
    lhs, rhs = ins
    ctx.require_no_bcast(lhs, "lhs")
    lb, le = _span(ctx, attrs, "lhs", lhs.rank)
    rb, re = _span(ctx, attrs, "rhs", rhs.rank)
    pieces: list[int | str] = []
    if lb > 0:
        pieces.append(ctx.emit("Slice", [ctx.shape_of(lhs), ctx.i64([0]), ctx.i64([lb])]))
    pieces.append(ctx.emit("Slice", [ctx.shape_of(rhs), ctx.i64([rb]), ctx.i64([2**62 if re is None else re])]))
    if le is not None and (lhs.rank is None or le < lhs.rank):
        pieces.append(ctx.emit("Slice", [ctx.shape_of(lhs), ctx.i64([le]), ctx.i64([2**62])]))
    out = ctx.emit("Reshape", [ctx.t(lhs), ctx.shape_vector(pieces)])
    shape: tuple[DimT, ...] | None = None
    if lhs.shape is not None and rhs.shape is not None:
        lhs_end = len(lhs.shape) if le is None else le
        rhs_end = len(rhs.shape) if re is None else re
        shape = tuple(lhs.shape[:lb]) + tuple(rhs.shape[rb:rhs_end]) + tuple(lhs.shape[lhs_end:])
    return [ctx.value(out, lhs.dtype, shape)]


# ---------------------------------------------------------------- cumsum


@register(
    "cumsum",
    "_np_cumsum",
    rank=lambda a, r, n: [r[0] if a.has("axis") else 1],
    back=lambda a, o, n: [o[0] if a.has("axis") else None],
)
def cumsum(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Running sums along ``axis``; without an axis over the flattened input; ``dtype`` sets the output's."""
    x = ins[0]
    dtype = attrs.dtype("dtype", x.dtype)
    if not attrs.has("axis"):
        x = _flat(ctx, x)
        axis = 0
    else:
        axis = norm_axis(ctx, attrs.integer("axis"), x.rank)
    source = ctx.cast(ctx.t(x), x.dtype, dtype)
    out = ctx.emit("CumSum", [source, ctx.i64(axis)])
    return [ctx.value(out, dtype, x.shape)]


# ---------------------------------------------------------------- _contrib_arange_like


@register(
    "_contrib_arange_like",
    rank=lambda a, r, n: [1] if a.has("axis") else same(a, r, n),
    back=lambda a, o, n: [None if a.has("axis") else o[0]],
    bcast_ok=False,
)
def arange_like(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """start + floor(i / repeat) * step for i over data's elements (data's shape), or along ``axis``
    (a vector of that axis's length); float32 unless ``dtype`` says otherwise."""
    x = ins[0]
    start, step = attrs.number("start", 0.0), attrs.number("step", 1.0)
    repeat_count = attrs.integer("repeat", 1)
    if repeat_count < 1:
        raise attrs.fail("repeat", "a positive integer")
    dtype = attrs.dtype("dtype", np.dtype(np.float32))
    if attrs.has("axis"):
        axis = norm_axis(ctx, attrs.integer("axis"), x.rank)
        count = ctx.squeeze(ctx.dim(x, axis), [0])
        shape: tuple[DimT, ...] | None = (None if x.shape is None or x.rank is None else x.shape[axis],)
    else:
        count = ctx.reduce("ReduceProd", ctx.shape_of(x), [0], keepdims=False)
        shape = x.shape
    i = ctx.emit("Range", [ctx.scalar(0, I64), count, ctx.scalar(1, I64)])
    if repeat_count > 1:
        i = ctx.emit("Div", [i, ctx.scalar(repeat_count, I64)])
    work = np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)
    values = ctx.emit("Cast", [i], to=np_to_onnx_dtype(work))
    values = ctx.emit("Add", [ctx.emit("Mul", [values, ctx.scalar(step, work)]), ctx.scalar(start, work)])
    values = ctx.cast(values, work, dtype)
    if not attrs.has("axis"):
        values = ctx.emit("Reshape", [values, ctx.shape_of(x)])
    return [ctx.value(values, dtype, shape)]


# ---------------------------------------------------------------- _contrib_div_sqrt_dim


@register("_contrib_div_sqrt_dim")
def div_sqrt_dim(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """data / sqrt(data.shape[-1]) (scaled dot-product attention's scaling)."""
    x = ins[0]
    if not is_float(x.dtype):
        raise ctx.fail(f"input is {x.dtype}; expected a floating-point tensor")
    if x.shape is not None and isinstance(x.shape[-1], int):
        scale = ctx.scalar(float(np.sqrt(x.shape[-1])), x.dtype)
    else:
        last = ctx.emit("Slice", [ctx.shape_of(x), ctx.i64([-1]), ctx.i64([2**62])])
        scale = ctx.emit("Sqrt", [ctx.emit("Cast", [last], to=np_to_onnx_dtype(x.dtype))])
    return [ctx.value(ctx.emit("Div", [ctx.t(x), scale]), x.dtype, x.shape)]


# ---------------------------------------------------------------- norm


def _norm_rank(attrs: Attrs, ranks: list[int | None], n_out: int) -> list[int | None]:
    r = ranks[0]
    if attrs.flag("keepdims"):
        return [r]
    if not attrs.has("axis"):
        return [1]  # MXNet returns shape (1,) for a norm over everything
    return [None if r is None else max(r - len(attrs.ints("axis")), 1)]


@register("norm", rank=_norm_rank, back=lambda a, o, n: [o[0] if a.flag("keepdims") else None])
def norm(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """The L2 (``ord=2``) or L1 (``ord=1``) norm over ``axis`` (all axes when absent: a (1,) result)."""
    x = ins[0]
    order = attrs.integer("ord", 2)
    if order not in (1, 2):
        raise attrs.fail("ord", "1 or 2")
    if attrs.has("out_dtype"):
        raise attrs.fail("out_dtype", "None (the input's dtype)")
    keepdims = attrs.flag("keepdims")
    op_type = "ReduceL2" if order == 2 else "ReduceL1"
    if not attrs.has("axis"):
        flat = ctx.emit("Reshape", [ctx.t(x), ctx.i64([-1])])
        return [ctx.value(ctx.reduce(op_type, flat, [0], keepdims=True), x.dtype, (1,))]
    rank = ctx.require_rank(x)
    axes = sorted({norm_axis(ctx, a, rank) for a in attrs.ints("axis")})
    out = ctx.reduce(op_type, ctx.t(x), axes, keepdims)
    assert x.shape is not None
    shape = tuple(1 if k in axes else d for k, d in enumerate(x.shape)) if keepdims else None
    if not keepdims:
        kept = tuple(d for k, d in enumerate(x.shape) if k not in axes)
        if not kept:  # MXNet keeps one axis of size 1
            out = ctx.emit("Reshape", [out, ctx.i64([1])])
            kept = (1,)
        shape = kept
    return [ctx.value(out, x.dtype, shape)]
