"""Elementwise ops: unary math, activations, binary/broadcast arithmetic and comparisons, scalar ops,
clip, where, casts, identities, softmax family and reductions."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...export.builder import np_to_onnx_dtype
from ..context import Context, DimT, Value, check_constant, const_value, is_float
from ..symbol import Attrs
from . import Ranks, broadcast, first_back, no_back, register, same_back
from .common import all_const, as_dtype, broadcast_shapes, common_dtype, norm_axis

# ---------------------------------------------------------------- unary

Emit = Callable[[Context, str, np.dtype], str]


def _unary(
    ctx: Context,
    v: Value,
    emit: Emit,
    fold: Callable[[np.ndarray], np.ndarray] | None,
    out_dtype: np.dtype | None = None,
) -> Value:
    dtype = np.dtype(out_dtype or v.dtype)
    if v.const is not None and fold is not None:
        with np.errstate(all="ignore"):
            return const_value(np.asarray(fold(v.const)).astype(dtype), v.bcast)
    return ctx.value(emit(ctx, ctx.t(v), v.dtype), dtype, v.shape, v.bcast)


def _simple(op_type: str) -> Emit:
    return lambda ctx, t, dtype: ctx.emit(op_type, [t])


def _round_half_away(ctx: Context, t: str, dtype: np.dtype) -> str:
    """MXNet's round: halves away from zero (ONNX Round rounds halves to even)."""
    magnitude = ctx.emit("Floor", [ctx.emit("Add", [ctx.emit("Abs", [t]), ctx.scalar(0.5, dtype)])])
    return ctx.emit("Mul", [ctx.emit("Sign", [t]), magnitude])


def _rint(ctx: Context, t: str, dtype: np.dtype) -> str:
    """MXNet's rint: the nearer of floor and ceil, halves going to floor (not ONNX Round's half-to-even)."""
    lower, upper = ctx.emit("Floor", [t]), ctx.emit("Ceil", [t])
    nearer_lower = ctx.emit("LessOrEqual", [ctx.emit("Sub", [t, lower]), ctx.emit("Sub", [upper, t])])
    return ctx.emit("Where", [nearer_lower, lower, upper])


def _rint_np(x: np.ndarray) -> np.ndarray:
    lower, upper = np.floor(x), np.ceil(x)
    nearer: np.ndarray = np.where(x - lower <= upper - x, lower, upper)
    return nearer


def _trunc(ctx: Context, t: str, dtype: np.dtype) -> str:
    return ctx.emit("Mul", [ctx.emit("Sign", [t]), ctx.emit("Floor", [ctx.emit("Abs", [t])])])


def _scaled_log(base: float) -> Emit:
    return lambda ctx, t, dtype: ctx.emit("Div", [ctx.emit("Log", [t]), ctx.scalar(math.log(base), dtype)])


def _cbrt(power: float) -> Emit:
    def emit(ctx: Context, t: str, dtype: np.dtype) -> str:
        root = ctx.emit("Pow", [ctx.emit("Abs", [t]), ctx.scalar(abs(power), dtype)])
        if power < 0:
            root = ctx.emit("Reciprocal", [root])
        return ctx.emit("Mul", [ctx.emit("Sign", [t]), root])

    return emit


def _softrelu(ctx: Context, t: str, dtype: np.dtype) -> str:
    return ctx.emit("Softplus", [t])


def _log_sigmoid(ctx: Context, t: str, dtype: np.dtype) -> str:
    return ctx.emit("Neg", [ctx.emit("Softplus", [ctx.emit("Neg", [t])])])


def _mish(ctx: Context, t: str, dtype: np.dtype) -> str:
    return ctx.emit("Mul", [t, ctx.emit("Tanh", [ctx.emit("Softplus", [t])])])


def _gelu(ctx: Context, t: str, dtype: np.dtype) -> str:
    """MXNet's LeakyReLU(act_type='gelu'): the erf form 0.5 x (1 + erf(x / sqrt 2))."""
    erf = ctx.emit("Erf", [ctx.emit("Mul", [t, ctx.scalar(1 / math.sqrt(2), dtype)])])
    half_x = ctx.emit("Mul", [t, ctx.scalar(0.5, dtype)])
    return ctx.emit("Mul", [half_x, ctx.emit("Add", [erf, ctx.scalar(1.0, dtype)])])


def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


UNARY: dict[str, tuple[Emit, Callable[[np.ndarray], np.ndarray] | None]] = {
    "relu": (_simple("Relu"), lambda x: np.maximum(x, 0)),
    "sigmoid": (_simple("Sigmoid"), _sigmoid_np),
    "tanh": (_simple("Tanh"), np.tanh),
    "exp": (_simple("Exp"), np.exp),
    "log": (_simple("Log"), np.log),
    "sqrt": (_simple("Sqrt"), np.sqrt),
    "abs": (_simple("Abs"), np.abs),
    "negative": (_simple("Neg"), np.negative),
    "reciprocal": (_simple("Reciprocal"), np.reciprocal),
    "floor": (_simple("Floor"), np.floor),
    "ceil": (_simple("Ceil"), np.ceil),
    "sign": (_simple("Sign"), np.sign),
    "rint": (_rint, _rint_np),
    "round": (_round_half_away, lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5)),
    "fix": (_trunc, np.trunc),
    "trunc": (_trunc, np.trunc),
    "sin": (_simple("Sin"), np.sin),
    "cos": (_simple("Cos"), np.cos),
    "tan": (_simple("Tan"), np.tan),
    "arcsin": (_simple("Asin"), np.arcsin),
    "arccos": (_simple("Acos"), np.arccos),
    "arctan": (_simple("Atan"), np.arctan),
    "sinh": (_simple("Sinh"), np.sinh),
    "cosh": (_simple("Cosh"), np.cosh),
    "arcsinh": (_simple("Asinh"), np.arcsinh),
    "arccosh": (_simple("Acosh"), np.arccosh),
    "arctanh": (_simple("Atanh"), np.arctanh),
    "erf": (_simple("Erf"), None),
    "softsign": (_simple("Softsign"), lambda x: x / (1 + np.abs(x))),
    "rsqrt": (lambda c, t, d: c.emit("Reciprocal", [c.emit("Sqrt", [t])]), lambda x: 1 / np.sqrt(x)),
    "square": (lambda c, t, d: c.emit("Mul", [t, t]), np.square),
    "log1p": (lambda c, t, d: c.emit("Log", [c.emit("Add", [t, c.scalar(1, d)])]), np.log1p),
    "expm1": (lambda c, t, d: c.emit("Sub", [c.emit("Exp", [t]), c.scalar(1, d)]), np.expm1),
    "log2": (_scaled_log(2.0), np.log2),
    "log10": (_scaled_log(10.0), np.log10),
    "cbrt": (_cbrt(1 / 3), np.cbrt),
    "rcbrt": (_cbrt(-1 / 3), lambda x: 1 / np.cbrt(x)),
    "degrees": (lambda c, t, d: c.emit("Mul", [t, c.scalar(180 / math.pi, d)]), np.degrees),
    "radians": (lambda c, t, d: c.emit("Mul", [t, c.scalar(math.pi / 180, d)]), np.radians),
}

ACTIVATIONS: dict[str, tuple[Emit, Callable[[np.ndarray], np.ndarray] | None]] = {
    "relu": UNARY["relu"],
    "sigmoid": UNARY["sigmoid"],
    "tanh": UNARY["tanh"],
    "softsign": UNARY["softsign"],
    "softrelu": (_softrelu, lambda x: np.log1p(np.exp(x))),
    "log_sigmoid": (_log_sigmoid, lambda x: -np.log1p(np.exp(-x))),
    "mish": (_mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
}


def _register_unary(name: str, emit: Emit, fold: Callable[[np.ndarray], np.ndarray] | None) -> None:
    register(name, bcast_ok=True)(lambda ctx, attrs, ins: [_unary(ctx, ins[0], emit, fold)])


for _name, (_emit, _fold) in UNARY.items():
    _register_unary(_name, _emit, _fold)


@register("logical_not", bcast_ok=True)
def logical_not(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    v = ins[0]

    def emit(c: Context, t: str, dtype: np.dtype) -> str:
        flag = c.emit("Not", [c.emit("Cast", [t], to=np_to_onnx_dtype(np.bool_))])
        return c.emit("Cast", [flag], to=np_to_onnx_dtype(dtype))

    return [_unary(ctx, v, emit, lambda x: (x == 0).astype(v.dtype))]


@register("Activation", bcast_ok=True)
def activation(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    act = attrs.text("act_type")
    if act not in ACTIVATIONS:
        raise attrs.fail("act_type", f"one of {', '.join(sorted(ACTIVATIONS))}")
    emit, fold = ACTIVATIONS[act]
    return [_unary(ctx, ins[0], emit, fold)]


@register("LeakyReLU", back=first_back, bcast_ok=True, arity=(1, 2))
def leaky_relu(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    act = attrs.text("act_type", "leaky")
    x = ins[0]
    slope = attrs.number("slope", 0.25)
    if act == "leaky":
        return [_unary(ctx, x, lambda c, t, d: c.emit("LeakyRelu", [t], alpha=slope), None)]
    if act == "rrelu":  # inference uses the mean of the random slope's range
        mean = (attrs.number("lower_bound", 0.125) + attrs.number("upper_bound", 0.334)) / 2
        return [_unary(ctx, x, lambda c, t, d: c.emit("LeakyRelu", [t], alpha=mean), None)]
    if act == "elu":
        return [_unary(ctx, x, lambda c, t, d: c.emit("Elu", [t], alpha=slope), None)]
    if act == "selu":  # MXNet's constants are ONNX's defaults
        return [_unary(ctx, x, lambda c, t, d: c.emit("Selu", [t]), None)]
    if act == "gelu":
        return [_unary(ctx, x, _gelu, None)]
    if act == "prelu":
        if len(ins) < 2:
            raise ctx.fail("act_type='prelu' needs the gamma input")
        gamma, rank = ins[1], ctx.require_rank(x)
        if gamma.const is not None and gamma.const.size == 1:
            slope_t = ctx.t(const_value(gamma.const.reshape(()).astype(x.dtype)))
        else:
            g = as_dtype(ctx, gamma, x.dtype)
            # gamma holds one slope per channel (axis 1): shape it (C, 1, ..., 1) for ONNX's broadcasting
            slope_t = ctx.emit("Reshape", [g, ctx.i64([-1] + [1] * max(rank - 2, 0))]) if rank > 2 else g
        return [ctx.value(ctx.emit("PRelu", [ctx.t(x), slope_t]), x.dtype, x.shape, x.bcast)]
    raise attrs.fail("act_type", "one of leaky, prelu, rrelu, elu, selu, gelu")


# ---------------------------------------------------------------- identities and casts


def _identity(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [ins[0]]


register(
    "_copy",
    "BlockGrad",
    "stop_gradient",
    "identity",
    "MakeLoss",
    "make_loss",
    "_identity_with_attr_like_rhs",
    "_CrossDeviceCopy",
    back=first_back,
    bcast_ok=True,
    arity=(1, 2),
)(_identity)


@register("Dropout", bcast_ok=True)
def dropout(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    mode = attrs.text("mode", "training")
    if mode == "always":
        raise ctx.fail(
            "mode='always' drops values at random at inference too; expected mode='training' "
            "(Dropout is the identity at inference)"
        )
    return [ins[0]]


def _cast_value(ctx: Context, v: Value, dtype: np.dtype) -> Value:
    if v.dtype == dtype:
        return v
    if v.const is not None:
        return const_value(v.const.astype(dtype), v.bcast)
    return ctx.value(ctx.cast(ctx.t(v), v.dtype, dtype), dtype, v.shape, v.bcast)


@register("Cast", "cast", "amp_cast", bcast_ok=True)
def cast(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_cast_value(ctx, ins[0], attrs.dtype("dtype"))]


@register("amp_multicast", n_out=lambda a: a.integer("num_outputs"), bcast_ok=True, arity=(1, None))
def amp_multicast(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Casts all inputs to the widest float dtype among them (``cast_narrow`` picks the narrowest)."""
    if attrs.integer("num_outputs") != len(ins):
        raise attrs.fail("num_outputs", f"the number of inputs, {len(ins)} (one output per input)")
    floats = [v.dtype for v in ins if is_float(v.dtype)] or [np.dtype(np.float32)]
    pick = min if attrs.flag("cast_narrow") else max
    target = pick(floats, key=lambda d: d.itemsize)
    return [_cast_value(ctx, v, target) for v in ins]


# ---------------------------------------------------------------- binary


def _mod_np(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b)))


def _mod(ctx: Context, a: str, b: str, dtype: np.dtype) -> str:
    """MXNet's mod takes the divisor's sign (Python's %), and x mod 0 is 0."""
    if not is_float(dtype):
        zero = ctx.scalar(0, dtype)
        safe = ctx.emit("Where", [ctx.emit("Equal", [b, zero]), ctx.scalar(1, dtype), b])
        return ctx.emit("Where", [ctx.emit("Equal", [b, zero]), zero, ctx.emit("Mod", [a, safe], fmod=0)])
    zero = ctx.scalar(0, dtype)
    is_zero = ctx.emit("Equal", [b, zero])
    safe = ctx.emit("Where", [is_zero, ctx.scalar(1, dtype), b])
    floor = ctx.emit("Floor", [ctx.emit("Div", [a, safe])])
    rest = ctx.emit("Sub", [a, ctx.emit("Mul", [safe, floor])])
    return ctx.emit("Where", [is_zero, zero, rest])


def _hypot(ctx: Context, a: str, b: str, dtype: np.dtype) -> str:
    return ctx.emit("Sqrt", [ctx.emit("Add", [ctx.emit("Mul", [a, a]), ctx.emit("Mul", [b, b])])])


def _binary_op(op_type: str) -> Callable[[Context, str, str, np.dtype], str]:
    return lambda ctx, a, b, dtype: ctx.emit(op_type, [a, b])


def _compare(op_type: str) -> Callable[[Context, str, str, np.dtype], str]:
    """MXNet's comparisons return 1/0 in the inputs' dtype."""

    def emit(ctx: Context, a: str, b: str, dtype: np.dtype) -> str:
        return ctx.emit("Cast", [ctx.emit(op_type, [a, b])], to=np_to_onnx_dtype(dtype))

    return emit


def _not_equal(ctx: Context, a: str, b: str, dtype: np.dtype) -> str:
    return ctx.emit("Cast", [ctx.emit("Not", [ctx.emit("Equal", [a, b])])], to=np_to_onnx_dtype(dtype))


def _logical(op_type: str) -> Callable[[Context, str, str, np.dtype], str]:
    def emit(ctx: Context, a: str, b: str, dtype: np.dtype) -> str:
        to_bool = np_to_onnx_dtype(np.bool_)
        flag = ctx.emit(op_type, [ctx.emit("Cast", [a], to=to_bool), ctx.emit("Cast", [b], to=to_bool)])
        return ctx.emit("Cast", [flag], to=np_to_onnx_dtype(dtype))

    return emit


BinaryEmit = Callable[[Context, str, str, np.dtype], str]

BINARY: dict[str, tuple[BinaryEmit, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "add": (_binary_op("Add"), np.add),
    "sub": (_binary_op("Sub"), np.subtract),
    "mul": (_binary_op("Mul"), np.multiply),
    "div": (_binary_op("Div"), np.divide),
    "maximum": (_binary_op("Max"), np.maximum),
    "minimum": (_binary_op("Min"), np.minimum),
    "power": (_binary_op("Pow"), np.power),
    "mod": (_mod, _mod_np),
    "hypot": (_hypot, np.hypot),
    "equal": (_compare("Equal"), np.equal),
    "not_equal": (_not_equal, np.not_equal),
    "greater": (_compare("Greater"), np.greater),
    "greater_equal": (_compare("GreaterOrEqual"), np.greater_equal),
    "lesser": (_compare("Less"), np.less),
    "lesser_equal": (_compare("LessOrEqual"), np.less_equal),
    "logical_and": (_logical("And"), lambda a, b: np.logical_and(a != 0, b != 0)),
    "logical_or": (_logical("Or"), lambda a, b: np.logical_or(a != 0, b != 0)),
    "logical_xor": (_logical("Xor"), lambda a, b: np.logical_xor(a != 0, b != 0)),
}

# MXNet names (1.x, plus 0.x's capitalised ones) -> BINARY keys
BINARY_NAMES: dict[str, list[str]] = {
    "add": ["elemwise_add", "_plus", "_Plus", "_add", "_grad_add", "broadcast_add", "broadcast_plus"],
    "sub": ["elemwise_sub", "_minus", "_Minus", "_sub", "broadcast_sub", "broadcast_minus"],
    "mul": ["elemwise_mul", "_mul", "_Mul", "broadcast_mul"],
    "div": ["elemwise_div", "_div", "_Div", "broadcast_div"],
    "maximum": ["_maximum", "_Maximum", "broadcast_maximum"],
    "minimum": ["_minimum", "_Minimum", "broadcast_minimum"],
    "power": ["_power", "_Power", "broadcast_power"],
    "mod": ["_mod", "broadcast_mod"],
    "hypot": ["_hypot", "broadcast_hypot"],
    "equal": ["_equal", "broadcast_equal"],
    "not_equal": ["_not_equal", "broadcast_not_equal"],
    "greater": ["_greater", "broadcast_greater"],
    "greater_equal": ["_greater_equal", "broadcast_greater_equal"],
    "lesser": ["_lesser", "broadcast_lesser"],
    "lesser_equal": ["_lesser_equal", "broadcast_lesser_equal"],
    "logical_and": ["_logical_and", "broadcast_logical_and"],
    "logical_or": ["_logical_or", "broadcast_logical_or"],
    "logical_xor": ["_logical_xor", "broadcast_logical_xor"],
}

SCALAR_NAMES: dict[str, list[str]] = {  # (op, reversed operands)
    "add": ["_plus_scalar", "_PlusScalar"],
    "sub": ["_minus_scalar", "_MinusScalar"],
    "rsub": ["_rminus_scalar", "_RMinusScalar"],
    "mul": ["_mul_scalar", "_MulScalar"],
    "div": ["_div_scalar", "_DivScalar"],
    "rdiv": ["_rdiv_scalar", "_RDivScalar"],
    "power": ["_power_scalar", "_PowerScalar"],
    "rpower": ["_rpower_scalar", "_RPowerScalar"],
    "maximum": ["_maximum_scalar", "_MaximumScalar"],
    "minimum": ["_minimum_scalar", "_MinimumScalar"],
    "mod": ["_mod_scalar"],
    "rmod": ["_rmod_scalar"],
    "hypot": ["_hypot_scalar"],
    "equal": ["_equal_scalar"],
    "not_equal": ["_not_equal_scalar"],
    "greater": ["_greater_scalar"],
    "greater_equal": ["_greater_equal_scalar"],
    "lesser": ["_lesser_scalar"],
    "lesser_equal": ["_lesser_equal_scalar"],
    "logical_and": ["_logical_and_scalar"],
    "logical_or": ["_logical_or_scalar"],
    "logical_xor": ["_logical_xor_scalar"],
}


def binary(ctx: Context, key: str, a: Value, b: Value) -> Value:
    emit, fold = BINARY[key]
    dtype = common_dtype(ctx, [a, b])
    shape, bcast = broadcast_shapes(ctx, [a, b])
    if all_const([a, b]):
        check_constant(np.broadcast_shapes(a.array().shape, b.array().shape), dtype, "the folded constant")
        with np.errstate(all="ignore"):
            result = np.asarray(fold(a.array().astype(dtype), b.array().astype(dtype))).astype(dtype)
        return const_value(result, bcast)
    tensor = emit(ctx, as_dtype(ctx, a, dtype), as_dtype(ctx, b, dtype), dtype)
    return ctx.value(tensor, dtype, shape, bcast)


def equal_shapes(attrs: Attrs, ranks: list[int | None], n_out: int) -> list[int | None]:
    """Inputs of one shape (elemwise_*, add_n): any input of known rank gives the output's."""
    known = [r for r in ranks if r is not None]
    return [known[0] if known else None] * n_out


def same_shape_binary(ctx: Context, key: str, a: Value, b: Value) -> Value:
    """An elemwise_* op: both inputs have one shape, so a shape known for one is the other's too."""
    if a.shape is None and b.shape is not None and not b.bcast:
        a = ctx.value(ctx.t(a), a.dtype, b.shape) if a.const is None else a
    elif b.shape is None and a.shape is not None and not a.bcast:
        b = ctx.value(ctx.t(b), b.dtype, a.shape) if b.const is None else b
    return binary(ctx, key, a, b)


def _register_binary(key: str, names: list[str]) -> None:
    elementwise = names[0].startswith("elemwise") or names[0].startswith("_")

    def translate(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
        if len(ins) != 2:
            raise ctx.fail(f"expected 2 inputs, got {len(ins)}")
        if elementwise:
            return [same_shape_binary(ctx, key, ins[0], ins[1])]
        return [binary(ctx, key, ins[0], ins[1])]

    register(
        *names,
        rank=equal_shapes if elementwise else broadcast,
        back=same_back if elementwise else no_back,
        bcast_ok=True,
        arity=(2, 2),
    )(translate)


for _key, _names in BINARY_NAMES.items():
    # elemwise_* and _* need equal shapes; broadcast_* only broadcastable ones
    _register_binary(_key, [n for n in _names if not n.startswith("broadcast_")])
    _register_binary(_key, [n for n in _names if n.startswith("broadcast_")])


def _register_scalar(key: str, names: list[str]) -> None:
    reverse = key.startswith("r") and key[1:] in BINARY or key == "rsub"
    base = {"rsub": "sub"}.get(key, key[1:] if reverse else key)

    def translate(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
        x = ins[0]
        number = attrs.number("scalar", 1.0 if base in ("mul", "div", "power") else 0.0)
        s = const_value(np.array(number).astype(x.dtype))
        return [binary(ctx, base, s, x) if reverse else binary(ctx, base, x, s)]

    register(*names, bcast_ok=True)(translate)


for _key, _names in SCALAR_NAMES.items():
    _register_scalar(_key, _names)


@register("add_n", "ElementWiseSum", "_sum", rank=equal_shapes, back=same_back, bcast_ok=True, arity=(1, None))
def add_n(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    total = ins[0]
    for v in ins[1:]:
        total = same_shape_binary(ctx, "add", total, v)
    return [total]


@register("clip", bcast_ok=True)
def clip(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    lo, hi = attrs.number("a_min"), attrs.number("a_max")
    if x.const is not None:
        return [const_value(np.clip(x.const, lo, hi).astype(x.dtype), x.bcast)]
    tensor = ctx.emit("Clip", [ctx.t(x), ctx.scalar(lo, x.dtype), ctx.scalar(hi, x.dtype)])
    return [ctx.value(tensor, x.dtype, x.shape, x.bcast)]


@register(
    "where",
    rank=lambda a, r, n: [r[1] if len(r) > 1 else None],
    back=lambda a, o, n: [None, o[0], o[0]],
    bcast_ok=True,
    arity=(3, 3),
)
def where(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """where(condition, x, y); a 1-D condition picks whole rows (first axis) of x and y."""
    if len(ins) != 3:
        raise ctx.fail(f"expected 3 inputs (condition, x, y), got {len(ins)}")
    cond, x, y = ins
    dtype = common_dtype(ctx, [x, y])
    flag = ctx.emit("Cast", [ctx.t(cond)], to=np_to_onnx_dtype(np.bool_))
    rank = x.rank if x.rank is not None else y.rank
    if cond.rank == 1 and rank is not None and rank > 1:
        flag = ctx.unsqueeze(flag, list(range(1, rank)))
        cond_like = Value(cond.dtype, (ctx.require_shape(cond)[0],) + (1,) * (rank - 1))
    else:
        cond_like = cond
    shape, bcast = broadcast_shapes(ctx, [cond_like, x, y])
    tensor = ctx.emit("Where", [flag, as_dtype(ctx, x, dtype), as_dtype(ctx, y, dtype)])
    return [ctx.value(tensor, dtype, shape, bcast)]


# ---------------------------------------------------------------- softmax family


def _softmax_core(ctx: Context, attrs: Attrs, x: Value, op_type: str, negate: bool = False) -> Value:
    ctx.require_no_bcast(x)
    if attrs.flag("use_length"):
        raise ctx.fail("use_length=True (masked softmax) is not supported; expected use_length=False")
    axis = norm_axis(ctx, attrs.integer("axis", -1), x.rank) if x.rank is not None else attrs.integer("axis", -1)
    tensor = ctx.t(x)
    temperature = attrs.number("temperature", 1.0)
    if temperature != 1.0:
        tensor = ctx.emit("Div", [tensor, ctx.scalar(temperature, x.dtype)])
    if negate:
        tensor = ctx.emit("Neg", [tensor])
    out = ctx.emit(op_type, [tensor], axis=axis)
    dtype = attrs.dtype("dtype", x.dtype)
    return ctx.value(ctx.cast(out, x.dtype, dtype), dtype, x.shape)


@register("softmax", back=first_back)
def softmax(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_softmax_core(ctx, attrs, ins[0], "Softmax")]


@register("log_softmax", back=first_back)
def log_softmax(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_softmax_core(ctx, attrs, ins[0], "LogSoftmax")]


@register("softmin", back=first_back)
def softmin(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_softmax_core(ctx, attrs, ins[0], "Softmax", negate=True)]


def _flattened_softmax(ctx: Context, x: Value) -> Value:
    """Softmax over all axes but the first, keeping the input's shape."""
    ctx.require_no_bcast(x)
    if x.rank == 2:
        return ctx.value(ctx.emit("Softmax", [ctx.t(x)], axis=1), x.dtype, x.shape)
    flat = ctx.emit("Flatten", [ctx.t(x)], axis=1)
    out = ctx.emit("Reshape", [ctx.emit("Softmax", [flat], axis=1), ctx.shape_of(x)])
    return ctx.value(out, x.dtype, x.shape)


@register("SoftmaxActivation")
def softmax_activation(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    x = ins[0]
    if attrs.text("mode", "instance") == "channel":
        return [ctx.value(ctx.emit("Softmax", [ctx.t(x)], axis=1), x.dtype, x.shape)]
    return [_flattened_softmax(ctx, x)]


@register("SoftmaxOutput", "Softmax", back=first_back, arity=(1, 2))
def softmax_output(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    """Inference: a softmax; the label input is unused."""
    x = ins[0]
    ctx.require_no_bcast(x)
    if attrs.flag("multi_output"):
        return [ctx.value(ctx.emit("Softmax", [ctx.t(x)], axis=1), x.dtype, x.shape)]
    if attrs.flag("preserve_shape"):
        return [ctx.value(ctx.emit("Softmax", [ctx.t(x)], axis=-1), x.dtype, x.shape)]
    return [_flattened_softmax(ctx, x)]


@register("LogisticRegressionOutput", back=first_back, bcast_ok=True, arity=(1, 2))
def logistic_regression_output(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [_unary(ctx, ins[0], _simple("Sigmoid"), _sigmoid_np)]


@register("LinearRegressionOutput", "MAERegressionOutput", back=first_back, bcast_ok=True, arity=(1, 2))
def regression_output(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    return [ins[0]]


# ---------------------------------------------------------------- reductions


def _reduce_axes(ctx: Context, attrs: Attrs, x: Value) -> list[int] | None:
    axes = attrs.ints("axis", None)
    if attrs.flag("exclude"):
        rank = ctx.require_rank(x)
        keep = {norm_axis(ctx, a, rank) for a in (axes or ())}
        return [a for a in range(rank) if a not in keep]
    if not axes:
        return None
    return sorted({norm_axis(ctx, a, x.rank) for a in axes})


def _reduce_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    r = ranks[0]
    if r is None or attrs.flag("keepdims"):
        return [r]
    axes = attrs.ints("axis", None)
    if attrs.flag("exclude"):
        return [max(len(set(axes or ())), 1)]
    return [max(r - len(set(axes)), 1) if axes else 1]


def _reduce_shape(x: Value, axes: list[int] | None, keepdims: bool) -> tuple[DimT, ...] | None:
    if x.shape is None:
        return None
    picked = set(range(len(x.shape))) if axes is None else set(axes)
    shape = (
        tuple(1 if i in picked else d for i, d in enumerate(x.shape))
        if keepdims
        else tuple(d for i, d in enumerate(x.shape) if i not in picked)
    )
    return shape or (1,)


def _register_reduce(names: tuple[str, ...], op_type: str) -> None:
    def translate(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
        x = ins[0]
        ctx.require_no_bcast(x)
        axes = _reduce_axes(ctx, attrs, x)
        keepdims = attrs.flag("keepdims")
        out = ctx.reduce(op_type, ctx.t(x), axes, keepdims)
        shape = _reduce_shape(x, axes, keepdims)
        if not keepdims and (axes is None or (x.rank is not None and len(axes) == x.rank)):
            out = ctx.emit("Reshape", [out, ctx.i64([1])])  # MXNet's full reduction has shape (1,)
        return [ctx.value(out, x.dtype, shape)]

    register(*names, rank=_reduce_rank, back=no_back)(translate)


_register_reduce(("sum", "sum_axis"), "ReduceSum")
_register_reduce(("mean",), "ReduceMean")
_register_reduce(("max", "max_axis"), "ReduceMax")
_register_reduce(("min", "min_axis"), "ReduceMin")
_register_reduce(("prod",), "ReduceProd")


def _arg_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    r = ranks[0]
    if not attrs.has("axis"):
        return [1]
    return [r if r is None or attrs.flag("keepdims") else max(r - 1, 1)]


def _register_arg(name: str, op_type: str) -> None:
    def translate(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
        """MXNet's argmax/argmin return indices in the input's dtype; no axis means the flattened input."""
        x = ins[0]
        ctx.require_no_bcast(x)
        keepdims = attrs.flag("keepdims")
        shape: tuple[DimT, ...] | None
        if not attrs.has("axis"):
            flat = ctx.emit("Reshape", [ctx.t(x), ctx.i64([-1])])
            out, shape = ctx.emit(op_type, [flat], axis=0, keepdims=1), (1,)
        else:
            axis = norm_axis(ctx, attrs.integer("axis"), x.rank)
            out = ctx.emit(op_type, [ctx.t(x)], axis=axis, keepdims=int(keepdims))
            shape = _reduce_shape(x, [axis], keepdims)
            if not keepdims and x.rank == 1:
                out = ctx.emit("Reshape", [out, ctx.i64([1])])
        return [ctx.value(ctx.cast(out, np.dtype(np.int64), x.dtype), x.dtype, shape)]

    register(name, rank=_arg_rank, back=no_back)(translate)


_register_arg("argmax", "ArgMax")
_register_arg("argmin", "ArgMin")
