"""Shape and data-movement ops: Reshape (with MXNet's special values), SwapAxis, transpose, expand_dims,
squeeze, Flatten, Concat, stack, SliceChannel/split, slice_axis, slice, take, reverse, tile, broadcast_*,
one_hot, and the creation ops _zeros/_ones/_full/zeros_like/ones_like."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx import numpy_helper

from ..context import Context, DimT, SymDim, Value, check_constant, const_value
from ..symbol import Attrs
from . import Ranks, first_back, fixed, no_back, register, same_back, shifted, shifted_back
from .common import all_const, norm_axis, show_shape

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def _mul(a: DimT, b: DimT) -> DimT:
    return a * b if isinstance(a, int) and isinstance(b, int) else None


# ---------------------------------------------------------------- Reshape


def _reshape_spec(ctx: Context, attrs: Attrs) -> tuple[list[int], bool]:
    spec = list(attrs.ints("shape", ()))
    if not spec and attrs.has("target_shape"):  # MXNet 0.x: 0 = infer, keep_highest keeps the first dim
        spec = [-1 if d == 0 else d for d in attrs.ints("target_shape")]
        if attrs.flag("keep_highest") and spec:
            spec[0] = 0
    if not spec:
        raise attrs.fail("shape", "a non-empty target shape")
    return spec, attrs.flag("reverse")


def _reshape_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    try:
        spec = list(attrs.ints("shape", ())) or list(attrs.ints("target_shape", ()))
    except Exception:  # noqa: BLE001  (the translation reports bad attributes)
        return [None]
    count, i = 0, 0
    while i < len(spec):
        if spec[i] == -2:
            return [None]  # depends on the input's rank
        if spec[i] == -4:
            count, i = count + 2, i + 3
            continue
        count, i = count + 1, i + 1
    return [count]


def _reshape_back(attrs: Attrs, out: Any, n_in: Any) -> list[int | None]:
    """The input's rank where the shape only copies (0), merges (-3) and splits (-4) input dimensions: each
    entry then consumes a known number of them (sizes and -1 leave it open)."""
    try:
        spec = list(attrs.ints("shape", ()))
    except Exception:  # noqa: BLE001  (the translation reports bad attributes)
        return [None]
    consumed, i = 0, 0
    while i < len(spec):
        if spec[i] == 0:
            consumed, i = consumed + 1, i + 1
        elif spec[i] == -3:
            consumed, i = consumed + 2, i + 1
        elif spec[i] == -4:
            consumed, i = consumed + 1, i + 3
        else:
            return [None]
    return [consumed if spec and not attrs.flag("reverse") else None]


def plan_reshape(ctx: Context, spec: list[int], shape: Sequence[DimT], reverse: bool) -> list[tuple[Any, ...]]:
    """MXNet's Reshape inference as a list of parts over the input's dimensions.

    Parts: ("copy", i), ("const", k), ("infer",), ("merge", i, j), ("split", i, d1, d2), ("rest", i) (-2).
    Indices refer to the input's axes in original order (reverse is undone here).
    """
    rank = len(shape)
    idx = list(range(rank))
    if reverse:
        if -4 in spec:
            raise ctx.fail("reverse=True with the special value -4 is not supported")
        spec, idx = spec[::-1], idx[::-1]
    parts: list[tuple[Any, ...]] = []
    src, i = 0, 0
    infer_seen = False

    def need(k: int, what: str) -> None:
        if src + k > rank:
            raise ctx.fail(f"shape {tuple(spec)}: {what} needs more dimensions than the input's {rank}")

    while i < len(spec):
        d = spec[i]
        if d == 0:
            need(1, "0 (copy)")
            parts.append(("copy", idx[src]))
            src += 1
        elif d == -1:
            if infer_seen:
                raise ctx.fail(f"shape {tuple(spec)} has more than one -1")
            infer_seen = True
            parts.append(("infer",))
            src += 1
        elif d == -2:
            parts.extend(("copy", idx[k]) for k in range(src, rank))
            src = rank
        elif d == -3:
            need(2, "-3 (merge two)")
            parts.append(("merge", idx[src], idx[src + 1]))
            src += 2
        elif d == -4:
            if i + 2 >= len(spec):
                raise ctx.fail(f"shape {tuple(spec)}: -4 must be followed by two values")
            need(1, "-4 (split one)")
            d1, d2 = spec[i + 1], spec[i + 2]
            if d1 < -1 or d2 < -1 or d1 == 0 or d2 == 0 or (d1 == -1 and d2 == -1):
                raise ctx.fail(f"shape {tuple(spec)}: -4 takes two sizes, at most one of them -1")
            parts.append(("split", idx[src], d1, d2))
            src += 1
            i += 2
        elif d > 0:
            parts.append(("const", d))
            src += 1
        else:
            raise ctx.fail(f"shape {tuple(spec)}: {d} is not a size or one of MXNet's 0, -1, -2, -3, -4")
        i += 1
    if reverse:
        parts.reverse()
    return parts


def _part_dims(ctx: Context, x: Value, part: tuple[Any, ...]) -> list[DimT]:
    kind = part[0]
    shape = x.shape
    assert shape is not None
    if kind == "copy":
        return [shape[part[1]]]
    if kind == "const":
        return [part[1]]
    if kind == "infer":
        return [None]
    if kind == "merge":
        return [_mul(shape[part[1]], shape[part[2]])]
    d0, d1, d2 = shape[part[1]], part[2], part[3]
    if d1 == -1:
        d1 = d0 // d2 if isinstance(d0, int) else None
    if d2 == -1:
        d2 = d0 // d1 if isinstance(d0, int) and isinstance(d1, int) else None
    return [d1, d2]


@register("Reshape", "reshape", rank=_reshape_rank, back=_reshape_back)
def reshape(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    spec, reverse = _reshape_spec(ctx, attrs)
    if x.rank is None and all(d > 0 or d == -1 for d in spec) and list(spec).count(-1) <= 1:
        # sizes and one -1 only: no input axis is referred to, so its rank need not be known
        out = ctx.emit("Reshape", [ctx.t(x), ctx.i64(list(spec))])
        return [ctx.value(out, x.dtype, [d if d > 0 else None for d in spec])]
    x_shape = ctx.require_shape(x)
    parts = plan_reshape(ctx, spec, x_shape, reverse)
    dims: list[DimT] = [d for p in parts for d in _part_dims(ctx, x, p)]
    static = x.static_shape()
    total = None if static is None else math.prod(static)
    if total is not None and any(p[0] == "infer" for p in parts):
        known = [d for d in dims if d is not None]
        known_ints = [d for d in known if isinstance(d, int)]
        if len(known) == len(dims) - 1 and len(known_ints) == len(known):
            rest = math.prod(known_ints)
            if rest == 0 or total % rest:
                raise ctx.fail(f"cannot reshape {show_shape(x)} into {tuple(spec)}")
            dims = [total // rest if d is None else d for d in dims]
    int_dims = [d for d in dims if isinstance(d, int)]
    if total is not None and len(int_dims) == len(dims) and math.prod(int_dims) != total:
        raise ctx.fail(f"cannot reshape {show_shape(x)} into {tuple(spec)}: {total} elements vs {math.prod(int_dims)}")
    if x.const is not None and all(isinstance(d, int) for d in dims):
        return [const_value(x.const.reshape(dims))]
    pieces: list[int | str] = []
    for p in parts:
        kind = p[0]
        if kind == "copy":
            pieces.append(ctx.dim(x, p[1]))
        elif kind == "const":
            pieces.append(p[1])
        elif kind == "infer":
            pieces.append(-1)
        elif kind == "merge":
            a, b = x_shape[p[1]], x_shape[p[2]]
            if isinstance(a, int) and isinstance(b, int):
                pieces.append(a * b)
            else:
                pieces.append(ctx.emit("Mul", [ctx.dim(x, p[1]), ctx.dim(x, p[2])]))
        else:  # split
            d0, d1, d2 = x_shape[p[1]], p[2], p[3]
            for own, other in ((d1, d2), (d2, d1)):
                if own != -1:
                    pieces.append(own)
                elif isinstance(d0, int):
                    pieces.append(d0 // other)
                else:
                    pieces.append(ctx.emit("Div", [ctx.dim(x, p[1]), ctx.i64([other])]))
    # ONNX reads 0 as "copy"; MXNet's explicit dims never are 0 here, and -1 appears at most once.
    out = ctx.emit("Reshape", [ctx.t(x), ctx.shape_vector(pieces)])
    return [ctx.value(out, x.dtype, dims)]


# ---------------------------------------------------------------- permutations and axes


def _permute(ctx: Context, x: Value, perm: list[int]) -> Value:
    bcast = frozenset(k for k, p in enumerate(perm) if p in x.bcast)
    if x.const is not None:
        return const_value(np.transpose(x.const, perm), bcast)
    x_shape = ctx.require_shape(x)
    shape = tuple(x_shape[p] for p in perm)
    return ctx.value(ctx.emit("Transpose", [ctx.t(x)], perm=perm), x.dtype, shape, bcast)


@register("SwapAxis", "swapaxes", bcast_ok=True)
def swap_axis(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    rank = ctx.require_rank(x)
    a = norm_axis(ctx, attrs.integer("dim1", 0), rank, "dim1")
    b = norm_axis(ctx, attrs.integer("dim2", 0), rank, "dim2")
    perm = list(range(rank))
    perm[a], perm[b] = perm[b], perm[a]
    return [x if a == b else _permute(ctx, x, perm)]


def _transpose_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    axes = attrs.ints("axes", ())
    return [len(axes) if axes else ranks[0]]


def _transpose_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    axes = attrs.ints("axes", ())
    return [len(axes) if axes else out[0]]


@register("transpose", rank=_transpose_rank, back=_transpose_back, bcast_ok=True)
def transpose(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    rank = ctx.require_rank(x)
    axes = attrs.ints("axes", ())
    if not axes:
        perm = list(range(rank))[::-1]
    else:
        perm = [norm_axis(ctx, a, rank, "axes") for a in axes]
        if sorted(perm) != list(range(rank)):
            raise attrs.fail("axes", f"a permutation of the input's {rank} axes")
    return [_permute(ctx, x, perm)]


@register("expand_dims", rank=shifted(1), back=shifted_back(1), bcast_ok=True)
def expand_dims(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    rank = ctx.require_rank(x)
    axis = norm_axis(ctx, attrs.integer("axis"), rank, extra=1)
    bcast = frozenset(a + (a >= axis) for a in x.bcast)
    if x.const is not None:
        return [const_value(np.expand_dims(x.const, axis), bcast)]
    dims = ctx.require_shape(x)
    shape = dims[:axis] + (1,) + dims[axis:]
    return [ctx.value(ctx.unsqueeze(ctx.t(x), [axis]), x.dtype, shape, bcast)]


def _squeeze_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    axes = attrs.ints("axis", None)
    r = ranks[0]
    return [None if r is None or axes is None else max(r - len(set(axes)), 1)]


def _squeeze_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    axes = attrs.ints("axis", None)
    return [None if out[0] is None or axes is None else out[0] + len(set(axes))]


@register("squeeze", rank=_squeeze_rank, back=_squeeze_back)
def squeeze(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    axes = attrs.ints("axis", None)
    if axes is None:
        static = x.static_shape()
        if static is None:
            raise ctx.fail(
                "squeeze without axis needs every dimension of its input known to find the "
                f"size-1 axes; the input is {show_shape(x)}. Give the graph inputs' shapes"
            )
        picked = [i for i, d in enumerate(static) if d == 1]
    else:
        picked = sorted({norm_axis(ctx, a, x.rank) for a in axes})
        for a in picked:
            if x.shape is not None and isinstance(x.shape[a], int) and x.shape[a] != 1:
                raise ctx.fail(f"cannot squeeze axis {a} of size {x.shape[a]}")
    if not picked:
        return [x]
    keep_one = x.rank is not None and len(picked) == x.rank  # MXNet keeps shape (1,) for an all-ones input
    if keep_one:
        picked = picked[1:]
    shape = None if x.shape is None else tuple(d for i, d in enumerate(x.shape) if i not in picked)
    if x.const is not None:
        return [const_value(np.squeeze(x.const, tuple(picked)))]
    return [ctx.value(ctx.squeeze(ctx.t(x), picked), x.dtype, shape)]


@register("Flatten", "flatten", rank=fixed(2), back=no_back, bcast_ok=True)
def flatten(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    if x.bcast - {0}:
        ctx.require_no_bcast(x)
    if x.const is not None and not x.bcast:
        return [const_value(x.const.reshape(x.const.shape[0], -1))]
    rest: DimT = None
    if x.shape is not None:
        tail = x.shape[1:]
        tail_ints = [d for d in tail if isinstance(d, int)]
        rest = math.prod(tail_ints) if len(tail_ints) == len(tail) else None
    first = x.shape[0] if x.shape else None
    if x.rank == 2:
        return [x]
    return [ctx.value(ctx.emit("Flatten", [ctx.t(x)], axis=1), x.dtype, (first, rest), x.bcast & {0})]


# ---------------------------------------------------------------- joining and splitting


def _concat_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    known = [r for r in ranks if r is not None]
    return [known[0] if known else None]


def concat_values(ctx: Context, values: list[Value], axis_attr: int) -> Value:
    rank = next((v.rank for v in values if v.rank is not None), None)
    if rank is None:
        if axis_attr < 0:
            raise ctx.fail("a negative concatenation axis needs the inputs' number of dimensions")
        return ctx.value(ctx.emit("Concat", [ctx.t(v) for v in values], axis=axis_attr), values[0].dtype, None)
    axis = norm_axis(ctx, axis_attr, rank, "dim")
    for v in values:
        if v.rank is not None and v.rank != rank:
            raise ctx.fail(f"inputs have {v.rank} and {rank} dimensions; expected equal ranks")
        if axis in v.bcast:
            ctx.require_no_bcast(v, "an input")
    dtype = values[0].dtype
    # placeholder axes: real where any input is real there (expanded against it), else still a placeholder
    shared = frozenset.intersection(*(v.bcast for v in values))
    tensors: list[str] = []
    for v in values:
        need = v.bcast - shared
        if need:
            ref = next(u for u in values if not (need & u.bcast))
            tensors.append(ctx.expand_like(Value(v.dtype, v.shape, ctx.t(v), bcast=need), ref))
        else:
            tensors.append(ctx.cast(ctx.t(v), v.dtype, dtype) if v.dtype != dtype else ctx.t(v))
    shape: list[DimT] = []
    for a in range(rank):
        dims = [v.shape[a] if v.shape is not None and a not in v.bcast else None for v in values]
        if a == axis:
            sizes = [d for d in dims if isinstance(d, int)]
            shape.append(sum(sizes) if len(sizes) == len(dims) else None)
        else:
            dim: DimT = None
            for d in dims:
                dim = d if dim is None else ctx.unify(dim, d)
            shape.append(dim)
    if all_const(values) and not any(v.bcast for v in values):
        sources = [v.array() for v in values]
        check_constant([int(d) for d in shape], dtype, "the concatenated constant", sources)  # type: ignore[arg-type]
        return const_value(np.concatenate([a.astype(dtype) for a in sources], axis=axis))
    return ctx.value(ctx.emit("Concat", tensors, axis=axis), dtype, shape, shared)


@register("Concat", "concat", rank=_concat_rank, back=same_back, bcast_ok=True, arity=(1, None))
def concat(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    if len(ins) == 1:
        return [ins[0]]
    return [concat_values(ctx, ins, attrs.integer("dim", 1))]


@register(
    "stack",
    rank=shifted(1),
    back=lambda a, o, n: [None if o[0] is None else o[0] - 1] * n,
    bcast_ok=True,
    arity=(1, None),
)
def stack(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    rank = next((v.rank for v in ins if v.rank is not None), None)
    if rank is None:
        raise ctx.fail("stack needs its inputs' number of dimensions; give the graph inputs' shapes")
    axis = norm_axis(ctx, attrs.integer("axis", 0), rank, extra=1)
    expanded = []
    for v in ins:
        bcast = frozenset(a + (a >= axis) for a in v.bcast)
        if v.const is not None:
            expanded.append(const_value(np.expand_dims(v.const, axis), bcast))
        else:
            dims = ctx.require_shape(v)
            shape = dims[:axis] + (1,) + dims[axis:]
            expanded.append(ctx.value(ctx.unsqueeze(ctx.t(v), [axis]), v.dtype, shape, bcast))
    return [concat_values(ctx, expanded, axis) if len(expanded) > 1 else expanded[0]]


def _split_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    r = ranks[0]
    return [None if r is None else r - int(attrs.flag("squeeze_axis"))] * n_out


def _split_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    r = next((o for o in out if o is not None), None)
    return [None if r is None else r + int(attrs.flag("squeeze_axis"))]


def _finish_split(ctx: Context, x: Value, axis: int, parts: list[Value], squeeze_axis: bool) -> list[Value]:
    if not squeeze_axis:
        return parts
    out = []
    for p in parts:
        shape = None if p.shape is None else p.shape[:axis] + p.shape[axis + 1 :]
        bcast = frozenset(a - (a > axis) for a in p.bcast)
        if p.const is not None:
            out.append(const_value(np.squeeze(p.const, axis), bcast))
        else:
            out.append(ctx.value(ctx.squeeze(ctx.t(p), [axis]), p.dtype, shape, bcast))
    return out


@register(
    "SliceChannel", "split", rank=_split_rank, back=_split_back, n_out=lambda a: a.integer("num_outputs"), bcast_ok=True
)
def slice_channel(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    n = attrs.integer("num_outputs")
    if n < 1:
        raise attrs.fail("num_outputs", "a positive integer")
    rank = ctx.require_rank(x)
    axis = norm_axis(ctx, attrs.integer("axis", 1), rank)
    if axis in x.bcast:
        ctx.require_no_bcast(x)
    size = ctx.require_shape(x)[axis]
    if isinstance(size, int) and size % n:
        raise ctx.fail(f"cannot split axis {axis} of size {size} into {n} equal parts")
    squeeze_axis = attrs.flag("squeeze_axis")
    if squeeze_axis and isinstance(size, int) and size != n:
        raise ctx.fail(f"squeeze_axis=True needs axis {axis} of size {n}, got {size}")
    if isinstance(size, SymDim) and squeeze_axis:
        ctx.bind(size, n)
    part = size // n if isinstance(size, int) else (1 if squeeze_axis else None)
    dims = ctx.require_shape(x)
    shape = dims[:axis] + (part,) + dims[axis + 1 :]
    if x.const is not None:
        parts = [const_value(p, x.bcast) for p in np.split(x.const, n, axis=axis)]
    elif n == 1:
        parts = [x]
    else:
        tensors = ctx.split(ctx.t(x), axis, n, None if part is None else [part] * n)
        parts = [ctx.value(t, x.dtype, shape, x.bcast) for t in tensors]
    return _finish_split(ctx, x, axis, parts, squeeze_axis)


def _split_v2_count(attrs: Attrs) -> int:
    sections = attrs.integer("sections", 0)
    return sections if sections > 0 else len(attrs.ints("indices"))


@register("_split_v2", rank=_split_rank, back=_split_back, n_out=_split_v2_count)
def split_v2(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    rank = ctx.require_rank(x)
    axis = norm_axis(ctx, attrs.integer("axis", 0), rank)
    sections = attrs.integer("sections", 0)
    if sections > 0:
        attrs_like = Attrs.__new__(Attrs)
        attrs_like.node, attrs_like.raw = (
            attrs.node,
            {"num_outputs": str(sections), "axis": str(axis), "squeeze_axis": str(attrs.flag("squeeze_axis"))},
        )
        return slice_channel(ctx, attrs_like, [x])
    indices = list(attrs.ints("indices"))
    bounds = indices + [INT64_MAX]
    parts = [_slice(ctx, x, [axis], [bounds[k]], [bounds[k + 1]], [1]) for k in range(len(indices))]
    return _finish_split(ctx, x, axis, parts, attrs.flag("squeeze_axis"))


# ---------------------------------------------------------------- slicing and gathering


def _slice(ctx: Context, x: Value, axes: list[int], begins: list[int], ends: list[int], steps: list[int]) -> Value:
    shape = list(x.shape) if x.shape is not None else None
    index: list[slice] = [slice(None)] * (x.rank or 0)
    for a, b, e, s in zip(axes, begins, ends, steps):
        sl = slice(None if b in (INT64_MAX, INT64_MIN) else b, None if e in (INT64_MAX, INT64_MIN) else e, s)
        if x.rank is not None:
            index[a] = sl
        if shape is not None:
            d = shape[a]
            shape[a] = len(range(d)[sl]) if isinstance(d, int) else None
    if x.const is not None and x.rank is not None:
        return const_value(x.const[tuple(index)])
    out = ctx.emit("Slice", [ctx.t(x), ctx.i64(begins), ctx.i64(ends), ctx.i64(axes), ctx.i64(steps)])
    return ctx.value(out, x.dtype, shape)


@register("slice_axis", back=first_back)
def slice_axis(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    axis = norm_axis(ctx, attrs.integer("axis"), x.rank)
    begin = attrs.integer("begin")
    end = attrs.integer("end", None)
    return [_slice(ctx, x, [axis], [begin], [INT64_MAX if end is None else end], [1])]


@register("slice", "crop", back=first_back)
def slice_op(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    begin = attrs.ints("begin", allow_none=True)
    end = attrs.ints("end", allow_none=True)
    step = attrs.ints("step", (), allow_none=True)
    if len(begin) != len(end) or (step and len(step) != len(begin)):
        raise ctx.fail(f"begin {begin}, end {end} and step {step} must have equal lengths")
    axes, b_out, e_out, s_out = [], [], [], []
    for a, (b, e) in enumerate(zip(begin, end)):
        s = step[a] if step and step[a] is not None else 1
        if s == 0:
            raise attrs.fail("step", "non-zero steps")
        if b is None and e is None and s == 1:
            continue
        axes.append(a)
        b_out.append((0 if s > 0 else INT64_MAX) if b is None else b)
        e_out.append((INT64_MAX if s > 0 else INT64_MIN) if e is None else e)
        s_out.append(s)
    if not axes:
        return [x]
    return [_slice(ctx, x, axes, b_out, e_out, s_out)]


@register("reverse", "flip", back=first_back)
def reverse(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    axes = sorted({norm_axis(ctx, a, x.rank) for a in attrs.ints("axis")})
    n = len(axes)
    return [_slice(ctx, x, axes, [INT64_MAX] * n, [INT64_MIN] * n, [-1] * n)]


def _take_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    a, i = (ranks + [None, None])[:2]
    return [None if a is None or i is None else a + i - 1]


def gather_indices(ctx: Context, data: Value, indices: Value, axis: int, mode: str) -> str:
    """int64 indices for Gather, treated as MXNet does: clip (default) or wrap out-of-range ones."""
    idx = ctx.cast(ctx.t(indices), indices.dtype, np.dtype(np.int64))
    if mode == "raise":
        return idx
    size = ctx.dim(data, axis)
    if mode == "wrap":
        return ctx.emit("Mod", [idx, size], fmod=0)
    last = ctx.emit("Sub", [size, ctx.i64([1])])
    return (
        ctx.emit("Min", [ctx.emit("Max", [idx, ctx.i64([0])]), last])
        if indices.rank != 0
        else ctx.squeeze(ctx.emit("Min", [ctx.emit("Max", [ctx.unsqueeze(idx, [0]), ctx.i64([0])]), last]), [0])
    )


@register("take", rank=_take_rank, back=no_back, arity=(2, 2))
def take(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    data, indices = ins
    ctx.require_no_bcast(data)
    ctx.require_no_bcast(indices)
    mode = attrs.text("mode", "clip")
    if mode not in ("clip", "wrap", "raise"):
        raise attrs.fail("mode", "clip, wrap or raise")
    axis = norm_axis(ctx, attrs.integer("axis", 0), data.rank)
    out = ctx.emit("Gather", [ctx.t(data), gather_indices(ctx, data, indices, axis, mode)], axis=axis)
    shape = None
    if data.shape is not None and indices.shape is not None:
        shape = data.shape[:axis] + indices.shape + data.shape[axis + 1 :]
    return [ctx.value(out, data.dtype, shape)]


@register("one_hot", rank=shifted(1), back=shifted_back(1))
def one_hot(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    indices = ins[0]
    ctx.require_no_bcast(indices)
    depth = attrs.integer("depth")
    dtype = attrs.dtype("dtype", np.dtype(np.float32))
    values = ctx.t(const_value(np.array([attrs.number("off_value", 0.0), attrs.number("on_value", 1.0)], dtype)))
    idx = ctx.cast(ctx.t(indices), indices.dtype, np.dtype(np.int64))
    # MXNet gives all-off rows for negative indices; ONNX would count them from the end
    idx = ctx.emit("Where", [ctx.emit("Less", [idx, ctx.i64([0])]), ctx.i64([depth]), idx])
    out = ctx.emit("OneHot", [idx, ctx.i64([depth]), values], axis=-1)
    shape = None if indices.shape is None else indices.shape + (depth,)
    return [ctx.value(out, dtype, shape)]


# ---------------------------------------------------------------- broadcasting and tiling


@register("broadcast_to", rank=lambda a, r, n: [len(a.ints("shape"))], back=lambda a, o, n: [o[0]])
def broadcast_to(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    target = attrs.ints("shape")
    rank = ctx.require_rank(x)
    if rank != len(target):
        raise ctx.fail(f"shape {target} has {len(target)} dimensions, the input {rank}; expected equal")
    out = ctx.emit("Expand", [ctx.t(x), ctx.i64([1 if d == 0 else d for d in target])])
    x_shape = ctx.require_shape(x)
    shape = tuple(x_shape[i] if d == 0 else d for i, d in enumerate(target))
    return [ctx.value(out, x.dtype, shape)]


@register(
    "broadcast_like",
    rank=lambda a, r, n: [r[1] if len(r) > 1 else None],
    back=lambda a, o, n: [o[0], o[0]],
    bcast_ok=True,
    arity=(2, 2),
)
def broadcast_like(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x, like = ins
    ctx.require_no_bcast(like, "the shape source")
    if attrs.has("lhs_axes") or attrs.has("rhs_axes"):
        raise ctx.fail("lhs_axes/rhs_axes are not supported; expected a plain broadcast_like")
    out = ctx.emit("Expand", [ctx.t(x), ctx.shape_of(like)])
    return [ctx.value(out, x.dtype, like.shape)]


@register("broadcast_axis", "broadcast_axes")
def broadcast_axis(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    rank = ctx.require_rank(x)
    axes = [norm_axis(ctx, a, rank) for a in attrs.ints("axis", ())]
    sizes = attrs.ints("size", ())
    if len(axes) != len(sizes):
        raise ctx.fail(f"axis {axes} and size {sizes} must have equal lengths")
    target = [1] * rank
    shape = list(ctx.require_shape(x))
    for a, s in zip(axes, sizes):
        target[a], shape[a] = s, s
    return [ctx.value(ctx.emit("Expand", [ctx.t(x), ctx.i64(target)]), x.dtype, shape)]


@register("tile", rank=lambda a, r, n: [None if r[0] is None else max(r[0], len(a.ints("reps")))], back=no_back)
def tile(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    ctx.require_no_bcast(x)
    rank = ctx.require_rank(x)
    reps = list(attrs.ints("reps"))
    tensor, shape = ctx.t(x), list(ctx.require_shape(x))
    if len(reps) > rank:
        extra = len(reps) - rank
        tensor, shape = ctx.unsqueeze(tensor, list(range(extra))), [*([1] * extra), *shape]
    reps = [1] * (len(shape) - len(reps)) + reps
    shape = [d * r if isinstance(d, int) else None for d, r in zip(shape, reps)]
    return [ctx.value(ctx.emit("Tile", [tensor, ctx.i64(reps)]), x.dtype, shape)]


# ---------------------------------------------------------------- creation


def _creation_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    return [len(attrs.ints("shape", ()))]


def _filled(ctx: Context, attrs: Attrs, fill: float) -> Value:
    shape = attrs.ints("shape", ())
    if any(d < 0 for d in shape):
        raise attrs.fail("shape", "non-negative sizes (0: take this size from where the value is used)")
    dtype = attrs.dtype("dtype", np.dtype(np.float32))
    unknown = [i for i, d in enumerate(shape) if d == 0]  # MXNet: inferred from the consumer
    return ctx.filled([1 if d == 0 else d for d in shape], fill, dtype, unknown)


@register("_zeros", "_zeros_without_dtype", "zeros", rank=_creation_rank, back=no_back, arity=(0, 0))
def zeros(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_filled(ctx, attrs, 0.0)]


@register("_ones", "ones", rank=_creation_rank, back=no_back, arity=(0, 0))
def ones(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_filled(ctx, attrs, 1.0)]


@register("_full", "full", rank=_creation_rank, back=no_back, arity=(0, 0))
def full(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_filled(ctx, attrs, attrs.number("value"))]


def _filled_like(ctx: Context, x: Value, fill: float) -> Value:
    if x.shape is not None and all(isinstance(d, int) or i in x.bcast for i, d in enumerate(x.shape)):
        sizes = [1 if i in x.bcast or not isinstance(d, int) else d for i, d in enumerate(x.shape)]
        return ctx.filled(sizes, fill, x.dtype, x.bcast)
    value = numpy_helper.from_array(np.array([fill], dtype=x.dtype), "value")
    out = ctx.emit("ConstantOfShape", [ctx.shape_of(x)], value=value)
    return ctx.value(out, x.dtype, x.shape)


@register("zeros_like", bcast_ok=True)
def zeros_like(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_filled_like(ctx, ins[0], 0.0)]


@register("ones_like", bcast_ok=True)
def ones_like(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_filled_like(ctx, ins[0], 1.0)]
