"""The state one conversion carries: values of the MXNet graph, ONNX emission helpers, symbolic dimensions.

A ``Value`` is one output of an MXNet node as seen by the translator: an ONNX tensor name (or a constant not
yet written), its dtype, and its shape as far as it is known statically. Shape entries are ints, ``SymDim``
(an unknown dimension of a graph input, e.g. batch or time) or None (unknown, derived).

Gluon's begin states are ``_zeros(shape=(L*D, 0, H))``: MXNet's 0 means "infer this dimension from the
partner". Such a constant is kept with size 1 on those axes, listed in ``Value.bcast``; elementwise
partners broadcast it to the real size, the RNN operator treats an all-zero one as "no initial state", and
other consumers expand it against a reference tensor (``Context.expand_like``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import numpy_helper

from .. import limits
from ..errors import OnnxRnnError
from ..export.builder import GraphBuilder, np_to_onnx_dtype
from .symbol import Node


class SymDim:
    """An unknown dimension of a graph input; unified with others where the graph proves them equal."""

    __slots__ = ("axis", "input")

    def __init__(self, input: str, axis: int) -> None:
        self.input = input
        self.axis = axis

    def __repr__(self) -> str:
        return f"{self.input}[{self.axis}]"


DimT = int | SymDim | None


@dataclass(eq=False)
class Value:
    dtype: np.dtype
    shape: tuple[DimT, ...] | None  # None: rank unknown
    tensor: str | None = None
    const: np.ndarray | None = None
    bcast: frozenset[int] = field(default_factory=frozenset)
    input: str | None = None  # the graph input this value is, if any

    @property
    def rank(self) -> int | None:
        return None if self.shape is None else len(self.shape)

    def static_shape(self) -> tuple[int, ...] | None:
        """The shape when every dimension is a known int, else None."""
        if self.shape is None or not all(isinstance(d, int) for d in self.shape):
            return None
        return tuple(self.shape)  # type: ignore[arg-type]  # every entry is an int: checked just above

    def array(self) -> np.ndarray:
        """The constant's array, for values known to be constant (``all_const``); an internal error otherwise."""
        if self.const is None:
            raise OnnxRnnError("internal: a translation read a non-constant value as a constant")
        return self.const


def const_value(array: np.ndarray, bcast: Iterable[int] = ()) -> Value:
    array = np.asarray(array)
    bcast = frozenset(bcast)
    shape = tuple(None if i in bcast else int(d) for i, d in enumerate(array.shape))
    return Value(array.dtype, shape, const=array, bcast=bcast)


def check_constant(shape: Sequence[int], dtype: np.dtype, what: str, sources: Sequence[np.ndarray | None] = ()) -> None:
    """Refuse, before allocating it, a constant above the limit on what the converter materializes.

    A constant no larger than the distinct arrays it is computed from (weights joined, cast, reshaped) is
    allowed at any size: those arrays came from the .params file, whose size is bounded by the file limit.
    """
    distinct = {id(a): a.nbytes for a in sources if a is not None}
    size = 1
    for d in shape:
        size *= max(int(d), 0)
    if distinct and size * np.dtype(dtype).itemsize <= sum(distinct.values()):
        return
    limits.check(
        limits.CONSTANT_BYTES,
        size * np.dtype(dtype).itemsize,
        f"{what} of shape {tuple(int(d) for d in shape)} and dtype {np.dtype(dtype)}: its size in bytes",
    )


def is_float(dtype: np.dtype) -> bool:
    return np.issubdtype(dtype, np.floating)


class Context:
    """Emission helpers bound to one GraphBuilder; ``node`` is the MXNet node being translated."""

    def __init__(self, builder: GraphBuilder, backend: str = "plugin") -> None:
        self.b = builder
        self.opset = builder.opset
        self.backend = backend
        self.node: Node | None = None
        self.used_inputs: dict[str, Value] = {}
        self._parent: dict[SymDim, SymDim] = {}
        self._bound: dict[SymDim, int] = {}
        self._role: dict[SymDim, str] = {}
        self._shape_cache: dict[str, str] = {}
        self._derived: dict[tuple[int, str], str] = {}
        self._scalars: dict[tuple[str, str], str] = {}

    def child(self, builder: GraphBuilder) -> Context:
        """A context for a control-flow body emitted into ``builder``: the same dimension classes, graph inputs
        and initializer caches (the body's builder puts initializers in the outer graph), but its own run-time
        shape cache, so no tensor made inside the body is used outside it."""
        body = Context(builder, self.backend)
        body.used_inputs = self.used_inputs
        body._parent, body._bound, body._role = self._parent, self._bound, self._role
        body._derived, body._scalars = self._derived, self._scalars
        body._shape_cache = dict(self._shape_cache)
        return body

    # ------------------------------------------------------------ errors and names

    def fail(self, message: str) -> OnnxRnnError:
        where = self.node.describe() if self.node is not None else "graph"
        return OnnxRnnError(f"{where}: {message}")

    def hint(self, suffix: str = "") -> str:
        base = self.node.name if self.node is not None else "t"
        return f"{base}_{suffix}" if suffix else base

    # ------------------------------------------------------------ tensors

    def t(self, v: Value) -> str:
        """The ONNX tensor name of ``v``; constants become initializers on first use."""
        if v.tensor is None:
            if v.const is None:
                raise self.fail("internal error: a value with neither tensor nor constant")
            v.tensor = self.b.initializer(v.const, self.hint("const"))
        if v.input is not None:
            self.used_inputs[v.input] = v
        return v.tensor

    def derived_const(self, v: Value, key: str, make: Callable[[np.ndarray], np.ndarray]) -> str:
        """An initializer computed from constant ``v`` (e.g. a transposed weight), made once per value: an
        unrolled cell uses the same weight at every step."""
        if v.const is None:
            raise OnnxRnnError(f"internal: {key} derived from a value that is not a constant")
        cache_key = (id(v), key)
        if cache_key not in self._derived:
            self._derived[cache_key] = self.b.initializer(np.ascontiguousarray(make(v.const)), self.hint(key))
        return self._derived[cache_key]

    def filled(self, sizes: Sequence[int], fill: float, dtype: np.dtype, bcast: Iterable[int] = ()) -> Value:
        """A constant of one value: a NumPy array when small, else a ConstantOfShape node (built at run time)
        so that a few bytes of symbol never become gigabytes of initializer."""
        dtype = np.dtype(dtype)
        bcast = frozenset(bcast)
        size = 1
        for d in sizes:
            size *= int(d)
        if size * dtype.itemsize <= limits.value(limits.INLINE_FILL_BYTES):
            return const_value(np.full(list(sizes), fill, dtype=dtype), bcast)
        value = numpy_helper.from_array(np.array([fill], dtype=dtype), "value")
        out = self.emit("ConstantOfShape", [self.i64(list(sizes))], value=value)
        shape = tuple(None if i in bcast else int(d) for i, d in enumerate(sizes))
        return Value(dtype, shape, tensor=out, bcast=bcast)

    def emit(self, op_type: str, inputs: Sequence[str | None], n_outputs: int = 1, **attrs: Any) -> str:
        return self.b.node(op_type, list(inputs), n_outputs, **attrs)[0]

    def emit_n(self, op_type: str, inputs: Sequence[str | None], n_outputs: int, **attrs: Any) -> list[str]:
        return self.b.node(op_type, list(inputs), n_outputs, **attrs)

    def value(self, tensor: str, dtype: np.dtype, shape: Sequence[DimT] | None, bcast: Iterable[int] = ()) -> Value:
        return Value(np.dtype(dtype), None if shape is None else tuple(shape), tensor=tensor, bcast=frozenset(bcast))

    def i64(self, values: Sequence[int] | int) -> str:
        return self.b.constant_i64(values, "const_i64")

    def scalar(self, number: float | bool, dtype: np.dtype) -> str:
        """A 0-d initializer of ``dtype``; equal scalars share one tensor."""
        dtype = np.dtype(dtype)
        array = np.array(number).astype(dtype)
        key = (dtype.str, repr(array.item()))
        if key not in self._scalars:
            self._scalars[key] = self.b.initializer(array, "scalar")
        return self._scalars[key]

    def cast(self, tensor: str, frm: np.dtype, to: np.dtype) -> str:
        if np.dtype(frm) == np.dtype(to):
            return tensor
        return self.emit("Cast", [tensor], to=np_to_onnx_dtype(to))

    # ------------------------------------------------------------ shapes at run time

    def shape_of(self, v: Value) -> str:
        name = self.t(v)
        if name not in self._shape_cache:
            self._shape_cache[name] = self.emit("Shape", [name])
        return self._shape_cache[name]

    def dim(self, v: Value, axis: int) -> str:
        """A 1-element int64 tensor holding dimension ``axis`` of ``v`` (a constant when static)."""
        size = None if v.shape is None else v.shape[axis]
        if isinstance(size, int) and axis not in v.bcast:
            return self.i64([size])
        if v.rank is not None:
            axis %= v.rank
        stop = axis + 1 if axis != -1 else 2**62
        return self.emit("Slice", [self.shape_of(v), self.i64([axis]), self.i64([stop])])

    def shape_vector(self, parts: Sequence[int | str]) -> str:
        """Concatenate ints and int64 vectors (tensor names) into one int64 shape vector."""
        if all(isinstance(p, int) for p in parts):
            return self.i64(list(parts))  # type: ignore[arg-type]  # all ints: checked on the line above
        pieces: list[str] = []
        run: list[int] = []
        for p in parts:
            if isinstance(p, int):
                run.append(p)
            else:
                if run:
                    pieces.append(self.i64(run))
                    run = []
                pieces.append(p)
        if run:
            pieces.append(self.i64(run))
        return pieces[0] if len(pieces) == 1 else self.emit("Concat", pieces, axis=0)

    def unsqueeze(self, tensor: str, axes: Sequence[int]) -> str:
        return self.emit("Unsqueeze", [tensor, self.i64(list(axes))])

    def squeeze(self, tensor: str, axes: Sequence[int] | None = None) -> str:
        return self.emit("Squeeze", [tensor] + ([self.i64(list(axes))] if axes is not None else []))

    def reduce(self, op_type: str, tensor: str, axes: Sequence[int] | None, keepdims: bool) -> str:
        """Reduce* with the axes as an attribute or an input, whichever the opset wants."""
        as_input = op_type == "ReduceSum" or self.opset >= 18
        if axes is None:
            return self.emit(op_type, [tensor], keepdims=int(keepdims))
        if as_input:
            return self.emit(op_type, [tensor, self.i64(list(axes))], keepdims=int(keepdims))
        return self.emit(op_type, [tensor], axes=list(axes), keepdims=int(keepdims))

    def split(self, tensor: str, axis: int, n: int, sizes: Sequence[int] | None = None) -> list[str]:
        """Split into ``n`` parts: given sizes, or equal parts of a dimension unknown until run time."""
        if sizes is not None:
            return self.emit_n("Split", [tensor, self.i64(list(sizes))], n, axis=axis)
        if self.opset >= 18:
            return self.emit_n("Split", [tensor], n, axis=axis, num_outputs=n)
        return self.emit_n("Split", [tensor], n, axis=axis)

    def expand_like(self, v: Value, ref: Value, axis_map: dict[int, int] | None = None) -> str:
        """``v`` with its placeholder (``bcast``) axes expanded to the matching dimensions of ``ref``.

        ``axis_map`` maps v's axes to ref's (default: the same axis, aligned from the right).
        """
        tensor = self.t(v)
        if not v.bcast:
            return tensor
        rank = v.rank
        assert rank is not None
        parts: list[int | str] = []
        for axis in range(rank):
            if axis in v.bcast:
                ref_axis = axis_map[axis] if axis_map is not None else axis - rank + (ref.rank or rank)
                parts.append(self.dim(ref, ref_axis))
            else:
                parts.append(1)
        return self.emit("Expand", [tensor, self.shape_vector(parts)])

    def require_rank(self, v: Value, what: str = "its input") -> int:
        if v.rank is None:
            raise self.fail(
                f"needs the number of dimensions of {what}, which is unknown here; "
                "give the graph inputs' shapes (--input-shape name=d0,d1,...)"
            )
        return v.rank

    def require_shape(self, v: Value, what: str = "its input") -> tuple[DimT, ...]:
        """``v``'s shape (entries may be symbolic or unknown); an error when even the rank is unknown."""
        self.require_rank(v, what)
        assert v.shape is not None  # the rank is known
        return v.shape

    def require_no_bcast(self, v: Value, what: str = "input") -> None:
        if v.bcast:
            raise self.fail(
                f"{what} comes from a zeros/ones node with a 0 (unknown) dimension that this op "
                "cannot take from elsewhere; give that dimension explicitly in the model"
            )

    # ------------------------------------------------------------ symbolic dimensions

    def find(self, d: SymDim) -> SymDim:
        root = d
        while root in self._parent:
            root = self._parent[root]
        while d in self._parent and self._parent[d] is not root:
            self._parent[d], d = root, self._parent[d]
        return root

    def unify(self, a: DimT, b: DimT) -> DimT:
        """Record that two dimensions are equal; returns the more informative one."""
        if isinstance(a, SymDim) and isinstance(b, SymDim):
            ra, rb = self.find(a), self.find(b)
            if ra is not rb:
                self._parent[rb] = ra
                if rb in self._bound and ra not in self._bound:
                    self._bound[ra] = self._bound[rb]
                if rb in self._role and ra not in self._role:
                    self._role[ra] = self._role[rb]
            return a
        if isinstance(a, SymDim) and isinstance(b, int):
            self.bind(a, b)
            return b
        if isinstance(b, SymDim) and isinstance(a, int):
            self.bind(b, a)
            return a
        return a if a is not None else b

    def bind(self, d: DimT, size: int) -> None:
        """A graph input's dimension turned out to have a fixed size (e.g. the RNN's input width)."""
        if not isinstance(d, SymDim):
            return
        root = self.find(d)
        old = self._bound.get(root)
        if old is not None and old != size:
            raise self.fail(f"dimension {d} of graph input {d.input!r} must be both {old} and {size}")
        self._bound[root] = size

    def set_role(self, d: DimT, role: str) -> None:
        if isinstance(d, SymDim):
            self._role.setdefault(self.find(d), role)

    def resolve(self, d: DimT) -> tuple[int | None, SymDim | None, str | None]:
        """(fixed size or None, class representative, role) of a dimension."""
        if isinstance(d, int):
            return d, None, None
        if d is None:
            return None, None, None
        root = self.find(d)
        return self._bound.get(root), root, self._role.get(root)
