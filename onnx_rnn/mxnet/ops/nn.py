"""Layers around the recurrent core: Embedding, FullyConnected, BatchNorm, LayerNorm, dot, batch_dot."""

from __future__ import annotations

import math

import numpy as np

from ..context import Context, DimT, Value, const_value
from ..symbol import Attrs
from . import Ranks, first_back, fixed, no_back, register, shifted, shifted_back
from .common import as_dtype, norm_axis, show_shape
from .tensor import gather_indices


@register("Embedding", rank=shifted(1), back=shifted_back(1), arity=(2, 2))
def embedding(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Rows of the weight; indices (floats in MXNet) are truncated and clipped to [0, input_dim - 1]."""
    if len(ins) != 2:
        raise ctx.fail(f"expected 2 inputs (data, weight), got {len(ins)}")
    data, weight = ins
    ctx.require_no_bcast(data)
    input_dim, output_dim = attrs.integer("input_dim"), attrs.integer("output_dim")
    if weight.shape is not None and tuple(weight.shape) != (input_dim, output_dim) and weight.static_shape():
        raise ctx.fail(
            f"weight has shape {show_shape(weight)}; expected ({input_dim}, {output_dim}) from input_dim and output_dim"
        )
    out = ctx.emit("Gather", [ctx.t(weight), gather_indices(ctx, weight, data, 0, "clip")], axis=0)
    shape = None if data.shape is None else data.shape + (output_dim,)
    dtype = attrs.dtype("dtype", weight.dtype)
    return [ctx.value(ctx.cast(out, weight.dtype, dtype), dtype, shape)]


def _fc_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    return [2 if attrs.flag("flatten", True) else ranks[0]]


def _fc_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    first = None if attrs.flag("flatten", True) else out[0]
    return [first, 2, 1][:n_in]


@register(
    "FullyConnected",
    rank=_fc_rank,
    back=_fc_back,
    bcast_ok=True,
    arity=(2, 3),
    weak_back=lambda a, o, n: list[int | None]([2, 2, 1])[:n],
)
def fully_connected(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    num_hidden = attrs.integer("num_hidden")
    no_bias = attrs.flag("no_bias")
    flatten = attrs.flag("flatten", True)
    if len(ins) != (2 if no_bias else 3):
        raise ctx.fail(
            f"expected {2 if no_bias else 3} inputs (data, weight{'' if no_bias else ', bias'}), got {len(ins)}"
        )
    x, w = ins[0], ins[1]
    b = None if no_bias else ins[2]
    dtype = w.dtype
    if w.shape is not None and w.rank != 2:
        raise ctx.fail(f"weight has shape {show_shape(w)}; expected (num_hidden, input width)")
    if w.shape is not None and isinstance(w.shape[0], int) and w.shape[0] != num_hidden:
        raise ctx.fail(f"weight has shape {show_shape(w)}; expected {num_hidden} rows (num_hidden)")
    in_width = w.shape[1] if w.shape is not None else None
    rank = ctx.require_rank(x)
    if flatten:
        if x.bcast - {0}:
            ctx.require_no_bcast(x)
        tail = ctx.require_shape(x)[1:]
        width: DimT = None
        if len(tail) == 1:
            width = ctx.unify(tail[0], in_width)
        elif all(isinstance(d, int) for d in tail):
            width = math.prod(d for d in tail if isinstance(d, int))
        if isinstance(width, int) and isinstance(in_width, int) and width != in_width:
            raise ctx.fail(f"data of shape {show_shape(x)} has {width} features per row; the weight expects {in_width}")
        shape: tuple[DimT, ...] = (ctx.require_shape(x)[0], num_hidden)
        bcast = x.bcast & {0}
    else:
        if rank - 1 in x.bcast:
            ctx.require_no_bcast(x)
        x_shape = ctx.require_shape(x)
        last = x_shape[-1]
        if isinstance(last, int) and isinstance(in_width, int) and last != in_width:
            raise ctx.fail(f"data of shape {show_shape(x)} has last dimension {last}; the weight expects {in_width}")
        ctx.unify(last, in_width)
        shape = x_shape[:-1] + (num_hidden,)
        bcast = x.bcast
    if b is not None and b.shape is not None and b.static_shape() not in (None, (num_hidden,)):
        raise ctx.fail(f"bias has shape {show_shape(b)}; expected ({num_hidden},)")

    if x.const is not None and w.const is not None and (b is None or b.const is not None):
        rows = x.const.astype(dtype).reshape(x.const.shape[0], -1) if flatten else x.const.astype(dtype)
        result = rows @ w.array().T + (0 if b is None else b.array().astype(dtype))
        return [const_value(np.asarray(result, dtype=dtype), bcast)]

    xt = as_dtype(ctx, x, dtype)
    wt = (
        ctx.derived_const(w, "weight_t", np.transpose)
        if w.const is not None
        else ctx.emit("Transpose", [ctx.t(w)], perm=[1, 0])
    )
    if flatten and rank != 2:
        xt = ctx.emit("Flatten", [xt], axis=1)
    out = ctx.emit("MatMul", [xt, wt])
    if b is not None:
        out = ctx.emit("Add", [out, as_dtype(ctx, b, dtype)])
    return [ctx.value(out, dtype, shape, bcast)]


def _broadcast_param(ctx: Context, v: Value, axis: int, rank: int, dtype: np.dtype) -> str:
    """A per-channel vector shaped (C, 1, ..., 1) so it broadcasts along ``axis`` of a rank-``rank`` tensor."""
    tail = rank - axis - 1
    if v.const is not None:
        return ctx.t(const_value(v.const.astype(dtype).reshape((-1,) + (1,) * tail)))
    t = as_dtype(ctx, v, dtype)
    return ctx.emit("Reshape", [t, ctx.i64([-1] + [1] * tail)]) if tail else t


@register(
    "BatchNorm",
    back=first_back,
    n_out=lambda a: 3 if a.flag("output_mean_var") else 1,
    arity=(5, 5),
    out_names=lambda a: ["output", "mean", "var"],
)
def batch_norm(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Inference: normalise with the moving statistics (aux params); fix_gamma (the default) uses gamma = 1."""
    if len(ins) != 5:
        raise ctx.fail(f"expected 5 inputs (data, gamma, beta, moving_mean, moving_var), got {len(ins)}")
    x, gamma, beta, mean, var = ins
    ctx.require_no_bcast(x)
    rank = ctx.require_rank(x)
    axis = norm_axis(ctx, attrs.integer("axis", 1), rank)
    eps = attrs.number("eps", 1e-3)
    dtype = x.dtype
    if all(v.const is not None for v in (gamma, beta, mean, var)):
        g = (
            np.ones_like(gamma.const, dtype=np.float64)
            if attrs.flag("fix_gamma", True)
            else gamma.array().astype(np.float64)
        )
        scale = g / np.sqrt(var.array().astype(np.float64) + eps)
        shift = beta.array().astype(np.float64) - mean.array().astype(np.float64) * scale
        s = _broadcast_param(ctx, const_value(scale.astype(dtype)), axis, rank, dtype)
        h = _broadcast_param(ctx, const_value(shift.astype(dtype)), axis, rank, dtype)
        out = ctx.emit("Add", [ctx.emit("Mul", [ctx.t(x), s]), h])
    else:
        m = _broadcast_param(ctx, mean, axis, rank, dtype)
        v = _broadcast_param(ctx, var, axis, rank, dtype)
        norm = ctx.emit(
            "Div", [ctx.emit("Sub", [ctx.t(x), m]), ctx.emit("Sqrt", [ctx.emit("Add", [v, ctx.scalar(eps, dtype)])])]
        )
        if not attrs.flag("fix_gamma", True):
            norm = ctx.emit("Mul", [norm, _broadcast_param(ctx, gamma, axis, rank, dtype)])
        out = ctx.emit("Add", [norm, _broadcast_param(ctx, beta, axis, rank, dtype)])
    outs = [ctx.value(out, dtype, x.shape)]
    if attrs.flag("output_mean_var"):
        outs += [mean, var]
    return outs


@register(
    "LayerNorm",
    back=first_back,
    n_out=lambda a: 3 if a.flag("output_mean_var") else 1,
    arity=(3, 3),
    out_names=lambda a: ["output", "mean", "std"],
)
def layer_norm(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    if len(ins) != 3:
        raise ctx.fail(f"expected 3 inputs (data, gamma, beta), got {len(ins)}")
    x, gamma, beta = ins
    ctx.require_no_bcast(x)
    rank = ctx.require_rank(x)
    axis = norm_axis(ctx, attrs.integer("axis", -1), rank)
    eps = attrs.number("eps", 1e-5)
    dtype = x.dtype
    mean = ctx.reduce("ReduceMean", ctx.t(x), [axis], True)
    centred = ctx.emit("Sub", [ctx.t(x), mean])
    var = ctx.reduce("ReduceMean", ctx.emit("Mul", [centred, centred]), [axis], True)
    std = ctx.emit("Sqrt", [ctx.emit("Add", [var, ctx.scalar(eps, dtype)])])
    norm = ctx.emit("Div", [centred, std])
    norm = ctx.emit("Mul", [norm, _broadcast_param(ctx, gamma, axis, rank, dtype)])
    out = ctx.emit("Add", [norm, _broadcast_param(ctx, beta, axis, rank, dtype)])
    outs = [ctx.value(out, dtype, x.shape)]
    if attrs.flag("output_mean_var"):
        stat_shape = None if x.shape is None else tuple(1 if i == axis else d for i, d in enumerate(x.shape))
        outs += [ctx.value(mean, dtype, stat_shape), ctx.value(std, dtype, stat_shape)]
    return outs


def _dot_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    a, b = (ranks + [None, None])[:2]
    return [None if a is None or b is None else a + b - 2]


@register("dot", rank=_dot_rank, back=no_back, arity=(2, 2))
def dot(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """MXNet's dot contracts a's last axis with b's first (a tensordot); b must be 2-D here."""
    a, b = ins
    ctx.require_no_bcast(a)
    ctx.require_no_bcast(b)
    ra, rb = ctx.require_rank(a, "the first input"), ctx.require_rank(b, "the second input")
    ta, tb = attrs.flag("transpose_a"), attrs.flag("transpose_b")
    if rb != 2 or (ta and ra != 2):
        raise ctx.fail(
            f"dot of {ra}-D and {rb}-D inputs (transpose_a={ta}) is not supported; expected a 2-D "
            "second input (and a 2-D first input when transposing it)"
        )
    at = ctx.emit("Transpose", [ctx.t(a)], perm=[1, 0]) if ta else ctx.t(a)
    if b.const is not None and tb:
        bt = ctx.derived_const(b, "weight_t", np.transpose)
    else:
        bt = ctx.emit("Transpose", [ctx.t(b)], perm=[1, 0]) if tb else ctx.t(b)
    a_shape = None if a.shape is None else (tuple(reversed(a.shape)) if ta else a.shape)
    b_shape = None if b.shape is None else (tuple(reversed(b.shape)) if tb else b.shape)
    shape = None if a_shape is None or b_shape is None else a_shape[:-1] + b_shape[1:]
    dtype = a.dtype
    return [ctx.value(ctx.emit("MatMul", [at, ctx.cast(bt, b.dtype, dtype)]), dtype, shape)]


@register("batch_dot", rank=fixed(3), back=lambda a, o, n: [3, 3], arity=(2, 2))
def batch_dot(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    a, b = ins
    ctx.require_no_bcast(a)
    ctx.require_no_bcast(b)
    tensors: list[str] = []
    shapes: list[tuple[DimT, ...]] = []
    for v, flag in ((a, attrs.flag("transpose_a")), (b, attrs.flag("transpose_b"))):
        rank = ctx.require_rank(v)
        if rank != 3:
            raise ctx.fail(f"batch_dot needs 3-D inputs, got {show_shape(v)}")
        tensors.append(ctx.emit("Transpose", [ctx.t(v)], perm=[0, 2, 1]) if flag else ctx.t(v))
        dims = ctx.require_shape(v)
        shapes.append((dims[0], dims[2], dims[1]) if flag else dims)
    shape = (ctx.unify(shapes[0][0], shapes[1][0]), shapes[0][1], shapes[1][2])
    return [ctx.value(ctx.emit("MatMul", [tensors[0], ctx.cast(tensors[1], b.dtype, a.dtype)]), a.dtype, shape)]
