"""``pick``: one element per position along an axis, as a loss head picks the label's log-probability.

MXNet: ``out[..., j, ...] = data[..., index[..., j, ...], ...]`` along ``axis``; the index has the data's
shape without that axis (or with size 1 there when ``keepdims``), is cast to an integer by truncation, and
out-of-range entries are clipped to [0, size - 1] (``mode="clip"``, the default) or wrapped (``"wrap"``).
"""

from __future__ import annotations

import numpy as np

from ..context import Context, Value
from ..symbol import Attrs
from . import Ranks, register
from .common import norm_axis, show_shape


def _pick_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    r = ranks[0]
    return [None if r is None else r - (0 if attrs.flag("keepdims") else 1)]


def _pick_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    o = out[0]
    if o is None:
        return [None] * n_in
    return [o, o] if attrs.flag("keepdims") else [o + 1, o]


@register("pick", "choose_element_0index", rank=_pick_rank, back=_pick_back, arity=(2, 2))
def pick(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    data, index = ins
    ctx.require_no_bcast(data)
    ctx.require_no_bcast(index)
    rank = ctx.require_rank(data, "the data")
    if not attrs.has("axis") and "axis" in attrs.raw:
        raise attrs.fail("axis", "an integer (axis=None, picking from the flattened data, is not supported)")
    axis = norm_axis(ctx, attrs.integer("axis", -1), rank)
    keepdims = attrs.flag("keepdims")
    mode = attrs.text("mode", "clip")
    if mode not in ("clip", "wrap"):
        raise attrs.fail("mode", "clip or wrap")
    if index.rank is not None and index.rank not in (rank, rank - 1):
        raise ctx.fail(f"index of shape {show_shape(index)} does not fit data of shape {show_shape(data)}")
    idx = ctx.cast(ctx.t(index), index.dtype, np.dtype(np.int64))
    if index.rank != rank:  # (..., j, ...) without the axis: give it size 1 there
        idx = ctx.unsqueeze(idx, [axis])
    size = ctx.dim(data, axis)
    if mode == "wrap":
        idx = ctx.emit("Mod", [idx, size], fmod=0)
    else:
        idx = ctx.emit("Min", [ctx.emit("Max", [idx, ctx.i64([0])]), ctx.emit("Sub", [size, ctx.i64([1])])])
    out = ctx.emit("GatherElements", [ctx.t(data), idx], axis=axis)
    shape_out = None
    if data.shape is not None:
        shape_out = tuple(1 if i == axis else d for i, d in enumerate(data.shape))
    if not keepdims:
        out = ctx.squeeze(out, [axis])
        shape_out = None if shape_out is None else shape_out[:axis] + shape_out[axis + 1 :]
    return [ctx.value(out, data.dtype, shape_out)]
