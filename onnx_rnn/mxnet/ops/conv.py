"""Convolution, Deconvolution and Pooling (1-D, 2-D, 3-D; channels first), as DeepSpeech2 and OCR front ends use them.

MXNet's defaults: stride and dilate 1, pad 0 on every spatial axis (pad is symmetric: the same on both sides).
Pooling's ``pooling_convention`` ``valid`` floors the output size, ``full`` ceils it (ONNX ``ceil_mode``);
``sum`` pooling is average pooling that counts every window position (pad included) times the window size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..context import Context, DimT, Value
from ..symbol import Attrs
from . import Ranks, register
from .common import as_dtype, show_shape

#: Channels-first layouts, by spatial rank; channels-last ones would need a transpose around the op.
LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _spatial(ctx: Context, attrs: Attrs, x: Value, kernel: tuple[int, ...]) -> int:
    """The number of spatial axes: the kernel's length, which the data's rank must match."""
    n = len(kernel)
    if n not in LAYOUTS:
        raise attrs.fail("kernel", "1 to 3 sizes (1-D, 2-D or 3-D)")
    rank = ctx.require_rank(x)
    if rank != n + 2:
        raise ctx.fail(f"a {n}-D kernel needs data of {n + 2} dimensions (N, C, spatial...), got {show_shape(x)}")
    layout = attrs.text("layout", "None")
    if layout not in ("None", LAYOUTS[n]):
        raise attrs.fail("layout", f"{LAYOUTS[n]} (channels first); channels-last layouts are not supported")
    return n


def _per_axis(attrs: Attrs, key: str, n: int, default: int) -> tuple[int, ...]:
    values = attrs.ints(key, ())
    if not values:
        return (default,) * n
    if len(values) != n:
        raise attrs.fail(key, f"{n} sizes, one per spatial axis")
    return tuple(values)


def _out_size(size: DimT, kernel: int, stride: int, pad: int, dilate: int, ceil: bool) -> DimT:
    if not isinstance(size, int):
        return None
    span = (size + 2 * pad - dilate * (kernel - 1) - 1) / stride
    return (math.ceil(span) if ceil else math.floor(span)) + 1


def _kernel_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    """(N, C, spatial...): the kernel's length decides the data's rank (global pooling may give no kernel)."""
    kernel = attrs.ints("kernel", ())
    return [len(kernel) + 2 if kernel else ranks[0]]


def _kernel_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    kernel = attrs.ints("kernel", ())
    return [len(kernel) + 2 if kernel else out[0]] + [None] * (n_in - 1)


@register("Convolution", rank=_kernel_rank, back=_kernel_back, arity=(2, 3))
def convolution(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """ONNX Conv with MXNet's symmetric pads; weights (num_filter, C / num_group, *kernel)."""
    no_bias = attrs.flag("no_bias")
    if len(ins) != (2 if no_bias else 3):
        raise ctx.fail(f"expected {2 if no_bias else 3} inputs (data, weight{'' if no_bias else ', bias'})")
    x, w = ins[0], ins[1]
    kernel = attrs.ints("kernel")
    n = _spatial(ctx, attrs, x, kernel)
    stride, dilate, pad = (_per_axis(attrs, k, n, d) for k, d in (("stride", 1), ("dilate", 1), ("pad", 0)))
    filters, groups = attrs.integer("num_filter"), attrs.integer("num_group", 1)
    if w.shape is not None and w.static_shape() is not None and tuple(w.shape[2:]) != tuple(kernel):
        raise ctx.fail(f"weight has shape {show_shape(w)}; expected spatial sizes {tuple(kernel)} (kernel)")
    if w.shape is not None and isinstance(w.shape[0], int) and w.shape[0] != filters:
        raise ctx.fail(f"weight has shape {show_shape(w)}; expected {filters} filters (num_filter)")
    dtype = x.dtype
    inputs = [ctx.t(x), as_dtype(ctx, w, dtype)] + ([] if no_bias else [as_dtype(ctx, ins[2], dtype)])
    out = ctx.emit(
        "Conv",
        inputs,
        kernel_shape=list(kernel),
        strides=list(stride),
        dilations=list(dilate),
        pads=list(pad) * 2,
        group=groups,
    )
    assert x.shape is not None
    spatial = [_out_size(x.shape[2 + i], kernel[i], stride[i], pad[i], dilate[i], False) for i in range(n)]
    return [ctx.value(out, dtype, (x.shape[0], filters, *spatial))]


@register("Pooling", rank=_kernel_rank, back=_kernel_back)
def pooling(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """max / avg / sum pooling; global pooling over every spatial axis; ``valid`` or ``full`` convention."""
    x = ins[0]
    ctx.require_no_bcast(x)
    pool_type = attrs.text("pool_type", "max")
    if pool_type not in ("max", "avg", "sum"):
        raise attrs.fail("pool_type", "max, avg or sum (lp pooling is not supported)")
    rank = ctx.require_rank(x)
    assert x.shape is not None
    if attrs.flag("global_pool"):
        if rank < 3:
            raise ctx.fail(f"global pooling needs data of 3 to 5 dimensions, got {show_shape(x)}")
        out = ctx.emit("GlobalMaxPool" if pool_type == "max" else "GlobalAveragePool", [ctx.t(x)])
        if pool_type == "sum":
            area = [d for d in x.shape[2:] if isinstance(d, int)]
            if len(area) == rank - 2:
                out = ctx.emit("Mul", [out, ctx.scalar(float(np.prod(area)), x.dtype)])
            else:
                size = ctx.reduce(
                    "ReduceProd", ctx.emit("Slice", [ctx.shape_of(x), ctx.i64([2]), ctx.i64([rank])]), [0], True
                )
                out = ctx.emit("Mul", [out, ctx.cast(size, np.dtype(np.int64), x.dtype)])
        return [ctx.value(out, x.dtype, x.shape[:2] + (1,) * (rank - 2))]
    kernel = attrs.ints("kernel")
    n = _spatial(ctx, attrs, x, kernel)
    stride, pad = _per_axis(attrs, "stride", n, 1), _per_axis(attrs, "pad", n, 0)
    convention = attrs.text("pooling_convention", "valid")
    if convention not in ("valid", "full"):
        raise attrs.fail("pooling_convention", "valid or full ('same' is not supported)")
    ceil = convention == "full"
    common: dict[str, Any] = {
        "kernel_shape": list(kernel),
        "strides": list(stride),
        "pads": list(pad) * 2,
        "ceil_mode": int(ceil),
    }
    if pool_type == "max":
        out = ctx.emit("MaxPool", [ctx.t(x)], **common)
    else:
        include_pad = attrs.flag("count_include_pad", True) or pool_type == "sum"
        out = ctx.emit("AveragePool", [ctx.t(x)], count_include_pad=int(include_pad), **common)
        if pool_type == "sum":
            out = ctx.emit("Mul", [out, ctx.scalar(float(np.prod(kernel)), x.dtype)])
    spatial = [_out_size(x.shape[2 + i], kernel[i], stride[i], pad[i], 1, ceil) for i in range(n)]
    return [ctx.value(out, x.dtype, (x.shape[0], x.shape[1], *spatial))]


@register("Deconvolution", rank=_kernel_rank, back=_kernel_back, arity=(2, 3))
def deconvolution(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """ONNX ConvTranspose: weights (C, num_filter / num_group, *kernel) in both; MXNet's ``adj`` is
    ``output_padding``. MXNet's default is ``no_bias=True`` here (unlike Convolution)."""
    no_bias = attrs.flag("no_bias", True)
    if len(ins) != (2 if no_bias else 3):
        raise ctx.fail(f"expected {2 if no_bias else 3} inputs (data, weight{'' if no_bias else ', bias'})")
    if attrs.ints("target_shape", ()):
        raise attrs.fail("target_shape", "no target shape (give pad and adj instead)")
    x, w = ins[0], ins[1]
    kernel = attrs.ints("kernel")
    n = _spatial(ctx, attrs, x, kernel)
    stride, dilate, pad = (_per_axis(attrs, k, n, d) for k, d in (("stride", 1), ("dilate", 1), ("pad", 0)))
    adj = _per_axis(attrs, "adj", n, 0)
    filters, groups = attrs.integer("num_filter"), attrs.integer("num_group", 1)
    dtype = x.dtype
    inputs = [ctx.t(x), as_dtype(ctx, w, dtype)] + ([] if no_bias else [as_dtype(ctx, ins[2], dtype)])
    out = ctx.emit(
        "ConvTranspose",
        inputs,
        kernel_shape=list(kernel),
        strides=list(stride),
        dilations=list(dilate),
        pads=list(pad) * 2,
        output_padding=list(adj),
        group=groups,
    )
    assert x.shape is not None
    spatial: list[DimT] = []
    for i in range(n):
        size = x.shape[2 + i]
        spatial.append(
            (size - 1) * stride[i] - 2 * pad[i] + dilate[i] * (kernel[i] - 1) + 1 + adj[i]
            if isinstance(size, int)
            else None
        )
    return [ctx.value(out, dtype, (x.shape[0], filters, *spatial))]
