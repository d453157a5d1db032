"""Helpers shared by the op translations: axes, broadcasting of static shapes, dtype agreement."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..context import Context, DimT, Value, const_value


def norm_axis(ctx: Context, axis: int, rank: int | None, what: str = "axis", extra: int = 0) -> int:
    """A non-negative axis in [0, rank + extra); negative axes count from the end."""
    if rank is None:
        if axis >= 0:
            return axis
        raise ctx.fail(
            f"a negative {what} ({axis}) needs the input's number of dimensions, which is unknown; "
            "give the graph inputs' shapes (--input-shape)"
        )
    size = rank + extra
    if not -size <= axis < size:
        raise ctx.fail(f"{what}={axis} is out of range for {rank} dimensions")
    return axis % size


def broadcast_shapes(ctx: Context, values: Sequence[Value]) -> tuple[tuple[DimT, ...] | None, frozenset[int]]:
    """NumPy broadcasting of static shapes; placeholder axes stay placeholders only where no input is real."""
    shapes = [v.shape for v in values if v.shape is not None]
    if len(shapes) != len(values):
        return None, frozenset()
    rank = max(len(shape) for shape in shapes)
    out: list[DimT] = []
    bcast: set[int] = set()
    for axis in range(rank):
        real: list[DimT] = []
        placeholder = False
        for v, shape in zip(values, shapes):
            k = axis - (rank - len(shape))
            if k < 0:
                continue
            if k in v.bcast:
                placeholder = True
            else:
                real.append(shape[k])
        non_one = [d for d in real if d != 1]
        if placeholder and not non_one:
            out.append(None)
            bcast.add(axis)
            continue
        if not non_one:
            out.append(1)
            continue
        dim: DimT = non_one[0]
        for other in non_one[1:]:
            if isinstance(dim, int) and isinstance(other, int) and dim != other:
                raise ctx.fail(
                    f"inputs of shapes {[_show(v) for v in values]} do not broadcast (axis {axis}: {dim} vs {other})"
                )
            dim = ctx.unify(dim, other)
        out.append(dim)
    return tuple(out), frozenset(bcast)


def _show(v: Value) -> str:
    if v.shape is None:
        return "(?)"
    parts = ["0" if i in v.bcast else str(d) if isinstance(d, int) else "?" for i, d in enumerate(v.shape)]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def show_shape(v: Value) -> str:
    return _show(v)


def common_dtype(ctx: Context, values: Sequence[Value]) -> np.dtype:
    """MXNet's binary ops want equal dtypes; where they differ, floats win (the wider one)."""
    dtypes = [v.dtype for v in values]
    floats = [d for d in dtypes if np.issubdtype(d, np.floating)]
    if floats:
        return max(floats, key=lambda d: d.itemsize)
    return max(dtypes, key=lambda d: d.itemsize)


def as_dtype(ctx: Context, v: Value, dtype: np.dtype) -> str:
    if v.const is not None and v.tensor is None and v.const.dtype != dtype:
        return ctx.t(const_value(v.const.astype(dtype), v.bcast))
    return ctx.cast(ctx.t(v), v.dtype, dtype)


def all_const(values: Sequence[Value]) -> bool:
    return all(v.const is not None for v in values)
