"""Numpy-mode aliases (``mx.npx.set_np()``): ``_np_*``/``_npi_*``/``_npx_*`` ops that mirror ops the registry
already translates, with their attributes renamed to the 1.x op's.

Each alias reuses the mirrored op's translation and rank rules on a copy of the node whose attributes are
rewritten; semantics that differ are refused rather than approximated (``_np_reshape`` only takes NumPy's
-1, not the 1.x Reshape's special codes; a 0 in NumPy's ``newshape`` means an empty axis, so it is refused).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ...errors import OnnxRnnError
from ..context import Context, Value
from ..symbol import Attrs
from . import OPS, OpDef, register

Rewrite = Callable[[Attrs], dict[str, str]]


def _same(attrs: Attrs) -> dict[str, str]:
    return dict(attrs.raw)


def _renamed(**names: str) -> Rewrite:
    """Attributes renamed (numpy name -> 1.x name); the others kept."""

    def rewrite(attrs: Attrs) -> dict[str, str]:
        return {names.get(k, k): v for k, v in attrs.raw.items()}

    return rewrite


def _without(*keys: str) -> Rewrite:
    return lambda attrs: {k: v for k, v in attrs.raw.items() if k not in keys}


def _np_reshape(attrs: Attrs) -> dict[str, str]:
    shape = attrs.ints("newshape")
    if attrs.text("order", "C") != "C":
        raise attrs.fail("order", "'C' (row-major)")
    if any(d == 0 or d < -1 for d in shape) or sum(d == -1 for d in shape) > 1:
        raise attrs.fail("newshape", "positive sizes and at most one -1 (NumPy's reshape)")
    return {"shape": attrs.raw["newshape"]}


def _reduce(attrs: Attrs) -> dict[str, str]:
    """numpy's axis=None reduces everything, as 1.x's does; ``dtype`` and ``initial`` must be defaults."""
    for key in ("dtype", "initial"):
        if attrs.has(key):
            raise attrs.fail(key, "None (onnx-rnn keeps the input's dtype)")
    return {k: v for k, v in attrs.raw.items() if k in ("axis", "keepdims")}


def _reduce_rank(attrs: Attrs, ranks: list[int | None], n_out: int) -> list[int | None]:
    r = ranks[0] if ranks else None
    if attrs.flag("keepdims"):
        return [r]
    if not attrs.has("axis"):
        return [0]
    return [None if r is None else r - len(attrs.ints("axis"))]


def _scalar(attrs: Attrs) -> dict[str, str]:
    return {"scalar": attrs.raw.get("scalar", "0")}


def _activation(kind: str) -> Rewrite:
    return lambda attrs: {"act_type": kind}


def _stack_or_concat(attrs: Attrs) -> dict[str, str]:
    out = {k: v for k, v in attrs.raw.items() if k != "axis"}
    out["dim"] = attrs.raw.get("axis", "0")
    return out


def _scalar_result(ctx: Context, attrs: Attrs, outs: list[Value]) -> list[Value]:
    """A numpy-mode reduction over every axis returns a 0-d array, not 1.x's shape (1,)."""
    if attrs.has("axis") or attrs.flag("keepdims"):
        return outs
    return [ctx.value(ctx.emit("Reshape", [ctx.t(v), ctx.i64([])]), v.dtype, ()) for v in outs]


def alias(
    name: str,
    target: str,
    rewrite: Rewrite = _same,
    post: Callable[[Context, Attrs, list[Value]], list[Value]] | None = None,
) -> None:
    """Register ``name`` as ``target`` with its attributes rewritten (and its outputs adjusted by ``post``)."""
    base: OpDef = OPS[target]

    def view(attrs: Attrs) -> Attrs:
        return Attrs(dataclasses.replace(attrs.node, attrs=rewrite(attrs)))

    def translate(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
        try:
            mirrored = view(attrs)
        except OnnxRnnError as exc:
            raise ctx.fail(str(exc).split(": ", 1)[-1]) from None
        outs = base.fn(ctx, mirrored, ins)
        return outs if post is None else post(ctx, attrs, outs)

    register(
        name,
        rank=(lambda a, r, n: base.rank(view(a), r, n)) if post is None else (lambda a, r, n: _reduce_rank(a, r, n)),
        back=lambda a, o, n: base.back(view(a), o, n),
        n_out=lambda a: base.n_out(view(a)),
        out_names=None if base.out_names is None else (lambda a: base.out_names(view(a))),  # type: ignore[misc]
        bcast_ok=base.bcast_ok,
        weak_back=None if base.weak_back is None else (lambda a, o, n: base.weak_back(view(a), o, n)),  # type: ignore[misc]
        arity=base.arity,
    )(translate)


alias("_np_reshape", "Reshape", _np_reshape)
alias("_np_copy", "_copy")
alias("_np_transpose", "transpose")
alias("_np_squeeze", "squeeze")
alias("_npi_expand_dims", "expand_dims")
alias("_npi_concatenate", "Concat", _stack_or_concat)
alias("_npi_stack", "stack")
alias("_npi_where", "where")
for _np, _mx in {
    "_npi_add": "broadcast_add",
    "_npi_subtract": "broadcast_sub",
    "_npi_multiply": "broadcast_mul",
    "_npi_true_divide": "broadcast_div",
    "_npi_maximum": "broadcast_maximum",
    "_npi_minimum": "broadcast_minimum",
    "_npi_power": "broadcast_power",
}.items():
    alias(_np, _mx, _same)
for _np, _mx in {
    "_npi_add_scalar": "_plus_scalar",
    "_npi_subtract_scalar": "_minus_scalar",
    "_npi_rsubtract_scalar": "_rminus_scalar",
    "_npi_multiply_scalar": "_mul_scalar",
    "_npi_true_divide_scalar": "_div_scalar",
    "_npi_rtrue_divide_scalar": "_rdiv_scalar",
    "_npi_power_scalar": "_power_scalar",
    "_npi_rpower_scalar": "_rpower_scalar",
    "_npi_maximum_scalar": "_maximum_scalar",
    "_npi_minimum_scalar": "_minimum_scalar",
}.items():
    alias(_np, _mx, _scalar)
for _unary in ("tanh", "exp", "log", "sqrt", "negative", "sin", "cos", "square", "reciprocal"):
    if _unary in OPS:
        alias(f"_npi_{_unary}", _unary, _without())
alias("_npi_absolute", "abs", _without())
for _reduction in ("mean", "sum", "max", "min"):
    alias(f"_npi_{_reduction}", _reduction, _reduce, _scalar_result)
alias("_npx_relu", "Activation", _activation("relu"))
alias("_npx_sigmoid", "Activation", _activation("sigmoid"))
