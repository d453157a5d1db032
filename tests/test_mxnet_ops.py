"""Op translations, one small symbol each, run on ONNX Runtime against NumPy statements of MXNet's semantics.

The expected values follow MXNet 1.9.1's documented and implemented behaviour (checked once against MXNet
itself by running every case's symbol in MXNet: see the report of the checkpoint work). ``SymbolBuilder``
writes real ``-symbol.json`` and ``.params`` files, so every case goes through the readers as well.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from onnx_rnn import reference
from onnx_rnn.mxnet import convert_checkpoint
from onnx_rnn.mxnet.ndarray_file import dump_ndarray_list
from onnx_rnn.runtime import library_path, plugin_available

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------- building symbols


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join("None" if v is None else str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return str(value)


class Ref(tuple):
    """(node index, output index) of a symbol entry; ``ref.out(i)`` is output i of the same node."""

    def out(self, i: int) -> Ref:
        return Ref((self[0], i))


class SymbolBuilder:
    """A minimal writer of MXNet symbol JSON plus the matching .params content."""

    def __init__(self) -> None:
        self.nodes: list[dict] = []
        self.params: dict[str, np.ndarray] = {}

    def var(self, name: str, value: np.ndarray | None = None, **attrs: Any) -> Ref:
        for index, existing in enumerate(self.nodes):  # one variable per name, as in MXNet
            if existing["op"] == "null" and existing["name"] == name:
                return Ref((index, 0))
        node: dict = {"op": "null", "name": name, "inputs": []}
        if attrs:
            node["attrs"] = {k: _attr(v) for k, v in attrs.items()}
        self.nodes.append(node)
        if value is not None:
            self.params[name] = np.asarray(value)
        return Ref((len(self.nodes) - 1, 0))

    def op(self, op: str, *inputs: Ref, name: str | None = None, **attrs: Any) -> Ref:
        node = {"op": op, "name": name or f"{op.lower()}{len(self.nodes)}", "inputs": [[r[0], r[1], 0] for r in inputs]}
        if attrs:
            node["attrs"] = {k: _attr(v) for k, v in attrs.items()}
        self.nodes.append(node)
        return Ref((len(self.nodes) - 1, 0))

    def json(self, heads: list[Ref]) -> str:
        arg_nodes = [i for i, n in enumerate(self.nodes) if n["op"] == "null"]
        return json.dumps(
            {
                "nodes": self.nodes,
                "arg_nodes": arg_nodes,
                "node_row_ptr": list(range(len(self.nodes) + 1)),
                "heads": [[h[0], h[1], 0] for h in heads],
                "attrs": {"mxnet_version": ["int", 10901]},
            }
        )

    def params_bytes(self) -> bytes:
        return dump_ndarray_list(self.params.values(), [f"arg:{k}" for k in self.params])

    def write(self, folder: Path, heads: list[Ref], prefix: str = "m") -> tuple[Path, Path]:
        symbol = folder / f"{prefix}-symbol.json"
        params = folder / f"{prefix}-0000.params"
        symbol.write_text(self.json(heads))
        params.write_bytes(self.params_bytes())
        return symbol, params


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if plugin_available():
        options.register_custom_ops_library(library_path())
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def convert_run(
    tmp_path: Path, b: SymbolBuilder, heads: list[Ref], feeds: dict[str, np.ndarray], **kwargs: Any
) -> list[np.ndarray]:
    symbol, params = b.write(tmp_path, heads)
    model = convert_checkpoint(symbol, params, **kwargs)
    return session(model).run(None, feeds)


def f32(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


# ---------------------------------------------------------------- the case table


@dataclass
class Case:
    id: str
    build: Callable[[SymbolBuilder], list[Ref]]
    feeds: dict[str, np.ndarray]
    expected: Callable[[dict[str, np.ndarray]], list[np.ndarray]]
    params: dict[str, np.ndarray] = field(default_factory=dict)
    atol: float = 1e-5
    static_only: bool = False  # needs every input dimension known


CASES: list[Case] = []


def case(
    id: str,
    feeds: dict[str, np.ndarray],
    expected,
    params: dict[str, np.ndarray] | None = None,
    atol: float = 1e-5,
    static_only: bool = False,
):
    def deco(build):
        CASES.append(Case(id, build, feeds, expected, params or {}, atol, static_only))
        return build

    return deco


def unary_case(op: str, fn, x: np.ndarray | None = None, **attrs):
    x = f32(2, 3) if x is None else x
    case(
        f"{op}{'_' + '_'.join(f'{k}{v}' for k, v in attrs.items()) if attrs else ''}",
        {"data": x},
        lambda f: [fn(f["data"]).astype(np.float32)],
    )(lambda b: [b.op(op, b.var("data"), **attrs)])


X234 = f32(2, 3, 4)

# Reshape's special values
for _spec, _expected_shape, _reverse in [
    ((-3, 0), (6, 4), False),
    ((0, -1), (2, 12), False),
    ((-2,), (2, 3, 4), False),
    ((-4, 1, 2, -2), (1, 2, 3, 4), False),
    ((0, -4, -1, 1, 0), (2, 3, 1, 4), False),
    ((4, 0, 2), (4, 3, 2), False),
    ((-1, 0), (6, 4), True),
    ((0, -3), (2, 12), False),
    ((-1,), (24,), False),
    ((2, -4, 3, -1, 0), (2, 3, 1, 4), False),
]:
    case(
        f"Reshape{_spec}{'_reverse' if _reverse else ''}",
        {"data": X234},
        lambda f, s=_expected_shape: [f["data"].reshape(s)],
    )(lambda b, s=_spec, r=_reverse: [b.op("Reshape", b.var("data"), shape=s, reverse=r)])

case("Reshape_legacy_target_shape", {"data": X234}, lambda f: [f["data"].reshape(2, 12)])(
    lambda b: [b.op("Reshape", b.var("data"), target_shape=(0, 12), keep_highest=True)]
)
case("SwapAxis", {"data": X234}, lambda f: [f["data"].swapaxes(0, 2)])(
    lambda b: [b.op("SwapAxis", b.var("data"), dim1=0, dim2=2)]
)
case("transpose_default", {"data": X234}, lambda f: [f["data"].transpose()])(
    lambda b: [b.op("transpose", b.var("data"))]
)
case("transpose_axes", {"data": X234}, lambda f: [f["data"].transpose(1, 2, 0)])(
    lambda b: [b.op("transpose", b.var("data"), axes=(1, 2, 0))]
)
case("expand_dims_neg", {"data": X234}, lambda f: [f["data"][:, :, :, None]])(
    lambda b: [b.op("expand_dims", b.var("data"), axis=-1)]
)
case("squeeze_axis", {"data": f32(2, 1, 3)}, lambda f: [f["data"][:, 0]])(
    lambda b: [b.op("squeeze", b.var("data", __shape__=(2, 1, 3)), axis=1)]
)
case("squeeze_all", {"data": f32(2, 1, 3, 1)}, lambda f: [f["data"][:, 0, :, 0]], static_only=True)(
    lambda b: [b.op("squeeze", b.var("data", __shape__=(2, 1, 3, 1)))]
)
case("Flatten", {"data": X234}, lambda f: [f["data"].reshape(2, 12)])(lambda b: [b.op("Flatten", b.var("data"))])

# joining and splitting
case("Concat_neg_dim", {"a": X234, "b": f32(2, 3, 2)}, lambda f: [np.concatenate([f["a"], f["b"]], -1)])(
    lambda b: [b.op("Concat", b.var("a"), b.var("b"), dim=-1, num_args=2)]
)
case("stack", {"a": f32(2, 3), "b": f32(2, 3)}, lambda f: [np.stack([f["a"], f["b"]], 1)])(
    lambda b: [b.op("stack", b.var("a"), b.var("b"), axis=1, num_args=2)]
)
case("SliceChannel_squeeze", {"data": X234}, lambda f: [f["data"][:, i, :] for i in range(3)])(
    lambda b: (lambda s: [s.out(0), s.out(1), s.out(2)])(
        b.op("SliceChannel", b.var("data"), num_outputs=3, axis=1, squeeze_axis=True)
    )
)
case("split_last_axis", {"data": X234}, lambda f: np.split(f["data"], 2, axis=-1))(
    lambda b: (lambda s: [s.out(0), s.out(1)])(b.op("split", b.var("data"), num_outputs=2, axis=-1))
)
case("_split_v2_indices", {"data": X234}, lambda f: [f["data"][:, :, 0:1], f["data"][:, :, 1:3], f["data"][:, :, 3:]])(
    lambda b: (lambda s: [s.out(0), s.out(1), s.out(2)])(
        b.op("_split_v2", b.var("data"), indices=(0, 1, 3), axis=2, squeeze_axis=False, sections=0)
    )
)
case("slice_axis", {"data": X234}, lambda f: [f["data"][:, :, -3:]])(
    lambda b: [b.op("slice_axis", b.var("data"), axis=2, begin=-3, end="None")]
)
case("slice_steps", {"data": X234}, lambda f: [f["data"][1:, ::-2, 1:3]])(
    lambda b: [b.op("slice", b.var("data"), begin=(1, None, 1), end=(None, None, 3), step=(1, -2, 1))]
)
case("reverse", {"data": X234}, lambda f: [f["data"][:, ::-1, ::-1]])(
    lambda b: [b.op("reverse", b.var("data"), axis=(1, 2))]
)
case("tile", {"data": f32(2, 3)}, lambda f: [np.tile(f["data"], (2, 1, 2))])(
    lambda b: [b.op("tile", b.var("data"), reps=(2, 1, 2))]
)
case("broadcast_to", {"data": f32(1, 3)}, lambda f: [np.broadcast_to(f["data"], (4, 3))])(
    lambda b: [b.op("broadcast_to", b.var("data"), shape=(4, 0))]
)
case("broadcast_like", {"a": f32(1, 3), "b": f32(5, 3)}, lambda f: [np.broadcast_to(f["a"], (5, 3))])(
    lambda b: [b.op("broadcast_like", b.var("a"), b.var("b"))]
)

# gathering
_TOKENS = np.array([[0, 2.7, 4], [7, -1, 3]], np.float32)  # truncated, then clipped into [0, 4]
_EMB = f32(5, 3)
case(
    "Embedding_clip_truncate",
    {"data": _TOKENS},
    lambda f: [_EMB[np.clip(f["data"].astype(np.int64), 0, 4)]],
    {"w": _EMB},
)(lambda b: [b.op("Embedding", b.var("data"), b.var("w", _EMB), input_dim=5, output_dim=3)])
case(
    "take_clip",
    {"a": f32(4, 3), "i": np.array([-2, 1, 9], np.float32)},
    lambda f: [f["a"][np.clip(f["i"].astype(np.int64), 0, 3)]],
)(lambda b: [b.op("take", b.var("a"), b.var("i"))])
case(
    "take_wrap_axis1",
    {"a": f32(2, 4), "i": np.array([[-1, 5]], np.float32)},
    lambda f: [f["a"][:, np.mod(f["i"].astype(np.int64), 4)]],
)(lambda b: [b.op("take", b.var("a"), b.var("i"), axis=1, mode="wrap")])
case(
    "one_hot",
    {"i": np.array([0, 2, -1, 5], np.float32)},
    lambda f: [np.where(np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]]) == 1, 2.0, -0.5).astype(np.float32)],
)(lambda b: [b.op("one_hot", b.var("i"), depth=3, on_value=2.0, off_value=-0.5)])

# layers
_W, _BIAS = f32(5, 12), f32(5)
case("FullyConnected_flatten", {"data": X234}, lambda f: [f["data"].reshape(2, 12) @ _W.T + _BIAS])(
    lambda b: [b.op("FullyConnected", b.var("data"), b.var("w", _W), b.var("b", _BIAS), num_hidden=5)]
)
_W4 = f32(6, 4)
case("FullyConnected_no_flatten_no_bias", {"data": X234}, lambda f: [f["data"] @ _W4.T])(
    lambda b: [b.op("FullyConnected", b.var("data"), b.var("w", _W4), num_hidden=6, flatten=False, no_bias=True)]
)
_G, _BE, _MU, _VAR = f32(3), f32(3), f32(3), np.abs(f32(3)) + 0.5
case(
    "BatchNorm_fix_gamma",
    {"data": X234},
    lambda f: [(f["data"] - _MU[:, None]) / np.sqrt(_VAR[:, None] + 1e-3) + _BE[:, None]],
)(lambda b: [b.op("BatchNorm", b.var("data"), b.var("g", _G), b.var("be", _BE), b.var("mu", _MU), b.var("var", _VAR))])
case(
    "BatchNorm_gamma",
    {"data": X234},
    lambda f: [(f["data"] - _MU[:, None]) / np.sqrt(_VAR[:, None] + 1e-5) * _G[:, None] + _BE[:, None]],
)(
    lambda b: [
        b.op(
            "BatchNorm",
            b.var("data"),
            b.var("g", _G),
            b.var("be", _BE),
            b.var("mu", _MU),
            b.var("var", _VAR),
            fix_gamma=False,
            eps=1e-5,
        )
    ]
)
_LG, _LB = f32(4), f32(4)


def _layer_norm(x):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * _LG + _LB


case("LayerNorm", {"data": X234}, lambda f: [_layer_norm(f["data"])])(
    lambda b: [b.op("LayerNorm", b.var("data"), b.var("g", _LG), b.var("b", _LB))]
)
case("dot_transpose_b", {"a": f32(2, 3), "b": f32(4, 3)}, lambda f: [f["a"] @ f["b"].T])(
    lambda b: [b.op("dot", b.var("a"), b.var("b"), transpose_b=True)]
)
case("batch_dot", {"a": f32(2, 3, 4), "b": f32(2, 5, 4)}, lambda f: [f["a"] @ f["b"].transpose(0, 2, 1)])(
    lambda b: [b.op("batch_dot", b.var("a"), b.var("b"), transpose_b=True)]
)

# activations and unary math


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


for _act, _fn in [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", _sigmoid),
    ("tanh", np.tanh),
    ("softrelu", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("log_sigmoid", lambda x: np.log(_sigmoid(x))),
    ("mish", lambda x: x * np.tanh(np.log1p(np.exp(x)))),
]:
    unary_case("Activation", _fn, act_type=_act)
_ERF = np.vectorize(math.erf)
for _act, _fn, _extra in [
    ("leaky", lambda x: np.where(x > 0, x, 0.1 * x), {"slope": 0.1}),
    ("elu", lambda x: np.where(x > 0, x, 0.3 * np.expm1(x)), {"slope": 0.3}),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)), {}),
    ("gelu", lambda x: 0.5 * x * (1 + _ERF(x / np.sqrt(2))), {}),
    ("rrelu", lambda x: np.where(x > 0, x, (0.125 + 0.334) / 2 * x), {}),
]:
    unary_case("LeakyReLU", _fn, act_type=_act, **_extra)
_GAMMA = np.array([0.1, 0.2, 0.3], np.float32)
case("LeakyReLU_prelu", {"data": X234}, lambda f: [np.where(f["data"] > 0, f["data"], _GAMMA[:, None] * f["data"])])(
    lambda b: [b.op("LeakyReLU", b.var("data"), b.var("gamma", _GAMMA), act_type="prelu")]
)
_HALVES = np.array([[-2.5, -1.5, -0.5], [0.5, 1.5, 2.5]], np.float32)
unary_case("round", lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5), _HALVES)
unary_case("rint", lambda x: np.where(x - np.floor(x) <= np.ceil(x) - x, np.floor(x), np.ceil(x)), _HALVES)
unary_case("fix", np.trunc, _HALVES)
for _op, _fn in [
    ("sigmoid", _sigmoid),
    ("tanh", np.tanh),
    ("relu", lambda x: np.maximum(x, 0)),
    ("exp", np.exp),
    ("negative", np.negative),
    ("abs", np.abs),
    ("square", np.square),
    ("sign", np.sign),
    ("floor", np.floor),
    ("ceil", np.ceil),
    ("expm1", np.expm1),
    ("sin", np.sin),
    ("erf", _ERF),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("cbrt", np.cbrt),
]:
    unary_case(_op, _fn)
_POS = np.abs(f32(2, 3)) + 0.1
for _op, _fn in [
    ("log", np.log),
    ("sqrt", np.sqrt),
    ("rsqrt", lambda x: 1 / np.sqrt(x)),
    ("log1p", np.log1p),
    ("log2", np.log2),
    ("log10", np.log10),
    ("reciprocal", np.reciprocal),
]:
    unary_case(_op, _fn, _POS)
for _op in ["_copy", "BlockGrad", "identity", "Dropout", "stop_gradient", "make_loss"]:
    unary_case(_op, lambda x: x)
unary_case("clip", lambda x: np.clip(x, -0.5, 0.25), a_min=-0.5, a_max=0.25)
unary_case("Cast", lambda x: x.astype(np.float16).astype(np.float32), dtype="float16")
case("Cast_int", {"data": _HALVES}, lambda f: [f["data"].astype(np.int32)])(
    lambda b: [b.op("Cast", b.var("data"), dtype="int32")]
)

# binary, broadcast and scalar arithmetic
_A, _B = f32(2, 3), f32(2, 3)
_B[0, 0] = _A[0, 0]  # an equal pair for the comparisons
_INTS_A = np.array([[-7, 7, 5], [-5, 0, 3]], np.float32)
_INTS_B = np.array([[3, -3, -2], [2, 4, 0]], np.float32)


def _mxnet_mod(a, b):
    with np.errstate(all="ignore"):
        return np.where(b == 0, 0, np.mod(a, np.where(b == 0, 1, b))).astype(np.float32)


for _op, _fn in [
    ("elemwise_add", np.add),
    ("elemwise_sub", np.subtract),
    ("elemwise_mul", np.multiply),
    ("elemwise_div", np.divide),
    ("_plus", np.add),
    ("_minus", np.subtract),
    ("_mul", np.multiply),
    ("_maximum", np.maximum),
    ("_minimum", np.minimum),
    ("_hypot", np.hypot),
    ("_equal", np.equal),
    ("_not_equal", np.not_equal),
    ("_greater", np.greater),
    ("_greater_equal", np.greater_equal),
    ("_lesser", np.less),
    ("_lesser_equal", np.less_equal),
]:
    case(_op, {"a": _A, "b": _B}, lambda f, fn=_fn: [fn(f["a"], f["b"]).astype(np.float32)])(
        lambda b, op=_op: [b.op(op, b.var("a"), b.var("b"))]
    )
case("_mod", {"a": _INTS_A, "b": _INTS_B}, lambda f: [_mxnet_mod(f["a"], f["b"])])(
    lambda b: [b.op("_mod", b.var("a"), b.var("b"))]
)
case("_power", {"a": _POS, "b": _B}, lambda f: [np.power(f["a"], f["b"])])(
    lambda b: [b.op("_power", b.var("a"), b.var("b"))]
)
_COL = f32(2, 1)
for _op, _fn in [
    ("broadcast_add", np.add),
    ("broadcast_sub", np.subtract),
    ("broadcast_mul", np.multiply),
    ("broadcast_div", np.divide),
    ("broadcast_maximum", np.maximum),
    ("broadcast_minimum", np.minimum),
    ("broadcast_greater", np.greater),
    ("broadcast_lesser_equal", np.less_equal),
    ("broadcast_logical_and", lambda a, b: np.logical_and(a != 0, b != 0)),
]:
    case(_op, {"a": _A, "b": _COL}, lambda f, fn=_fn: [fn(f["a"], f["b"]).astype(np.float32)])(
        lambda b, op=_op: [b.op(op, b.var("a"), b.var("b"))]
    )
case("add_n", {"a": _A, "b": _B, "c": _A}, lambda f: [f["a"] + f["b"] + f["c"]])(
    lambda b: [b.op("add_n", b.var("a"), b.var("b"), b.var("c"), num_args=3)]
)
for _op, _fn in [
    ("_plus_scalar", lambda x: x + 1.5),
    ("_minus_scalar", lambda x: x - 1.5),
    ("_rminus_scalar", lambda x: 1.5 - x),
    ("_mul_scalar", lambda x: x * 1.5),
    ("_div_scalar", lambda x: x / 1.5),
    ("_rdiv_scalar", lambda x: np.divide(1.5, x, out=np.full_like(x, np.inf), where=x != 0)),
    ("_maximum_scalar", lambda x: np.maximum(x, 1.5)),
    ("_minimum_scalar", lambda x: np.minimum(x, 1.5)),
    ("_greater_scalar", lambda x: (x > 1.5).astype(np.float32)),
    ("_equal_scalar", lambda x: (x == 1.5).astype(np.float32)),
    ("_mod_scalar", lambda x: _mxnet_mod(x, np.float32(1.5))),
    ("_rmod_scalar", lambda x: _mxnet_mod(np.float32(1.5), x)),
]:
    unary_case(_op, _fn, _INTS_A, scalar=1.5)
unary_case("_power_scalar", lambda x: x**2, scalar=2)
unary_case("_rpower_scalar", lambda x: 2.0**x, scalar=2)
case(
    "where_rows",
    {"c": np.array([1, 0], np.float32), "x": _A, "y": _B},
    lambda f: [np.where(f["c"][:, None] != 0, f["x"], f["y"])],
)(lambda b: [b.op("where", b.var("c"), b.var("x"), b.var("y"))])
case(
    "where_elementwise",
    {"c": (_A > 0).astype(np.float32), "x": _A, "y": _B},
    lambda f: [np.where(f["c"] != 0, f["x"], f["y"])],
)(lambda b: [b.op("where", b.var("c"), b.var("x"), b.var("y"))])

# softmax family and reductions


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


case("softmax_temperature", {"data": X234}, lambda f: [_softmax(f["data"] / 2.0)])(
    lambda b: [b.op("softmax", b.var("data"), temperature=2.0)]
)
case("log_softmax_axis0", {"data": X234}, lambda f: [np.log(_softmax(f["data"], 0))])(
    lambda b: [b.op("log_softmax", b.var("data"), axis=0)]
)
case("softmin", {"data": X234}, lambda f: [_softmax(-f["data"], 1)])(lambda b: [b.op("softmin", b.var("data"), axis=1)])
case("SoftmaxOutput_flattens", {"data": X234}, lambda f: [_softmax(f["data"].reshape(2, 12)).reshape(2, 3, 4)])(
    lambda b: [b.op("SoftmaxOutput", b.var("data"), b.var("softmax_label"))]
)
case("SoftmaxOutput_multi_output", {"data": X234}, lambda f: [_softmax(f["data"], 1)])(
    lambda b: [b.op("SoftmaxOutput", b.var("data"), b.var("softmax_label"), multi_output=True)]
)
case("SoftmaxOutput_preserve_shape", {"data": X234}, lambda f: [_softmax(f["data"], -1)])(
    lambda b: [b.op("SoftmaxOutput", b.var("data"), b.var("softmax_label"), preserve_shape=True)]
)
case("SoftmaxActivation_channel", {"data": X234}, lambda f: [_softmax(f["data"], 1)])(
    lambda b: [b.op("SoftmaxActivation", b.var("data"), mode="channel")]
)
case("LogisticRegressionOutput", {"data": _A}, lambda f: [_sigmoid(f["data"])])(
    lambda b: [b.op("LogisticRegressionOutput", b.var("data"), b.var("label"))]
)
case("sum_axis_keepdims", {"data": X234}, lambda f: [f["data"].sum(axis=(0, 2), keepdims=True)])(
    lambda b: [b.op("sum", b.var("data"), axis=(0, 2), keepdims=True)]
)
case("sum_all", {"data": X234}, lambda f: [f["data"].sum().reshape(1)], atol=1e-4)(
    lambda b: [b.op("sum", b.var("data"))]
)
case("mean_exclude", {"data": X234}, lambda f: [f["data"].mean(axis=(0, 2))])(
    lambda b: [b.op("mean", b.var("data"), axis=1, exclude=True)]
)
case("max_axis", {"data": X234}, lambda f: [f["data"].max(axis=-1)])(lambda b: [b.op("max", b.var("data"), axis=-1)])
case("argmax", {"data": X234}, lambda f: [f["data"].argmax(axis=1).astype(np.float32)])(
    lambda b: [b.op("argmax", b.var("data"), axis=1)]
)

# sequences
_SEQ = f32(4, 3, 2)  # (T, N, C)
_LEN = np.array([4, 1, 2], np.float32)


def _mask(x, lengths, value, axis):
    out = x.copy()
    for n, length in enumerate(lengths.astype(int)):
        if axis == 0:
            out[length:, n] = value
        else:
            out[n, length:] = value
    return out


case("SequenceMask_axis0", {"data": _SEQ, "len": _LEN}, lambda f: [_mask(f["data"], f["len"], -1.0, 0)])(
    lambda b: [b.op("SequenceMask", b.var("data"), b.var("len"), use_sequence_length=True, value=-1.0)]
)
case(
    "SequenceMask_axis1", {"data": _SEQ.transpose(1, 0, 2), "len": _LEN}, lambda f: [_mask(f["data"], f["len"], 0.0, 1)]
)(lambda b: [b.op("SequenceMask", b.var("data"), b.var("len"), use_sequence_length=True, axis=1)])
case("SequenceMask_off", {"data": _SEQ}, lambda f: [f["data"]])(lambda b: [b.op("SequenceMask", b.var("data"))])
case(
    "SequenceLast_lengths",
    {"data": _SEQ, "len": _LEN},
    lambda f: [np.stack([f["data"][int(n) - 1, i] for i, n in enumerate(f["len"])])],
)(lambda b: [b.op("SequenceLast", b.var("data"), b.var("len"), use_sequence_length=True)])
case(
    "SequenceLast_axis1",
    {"data": _SEQ.transpose(1, 0, 2), "len": _LEN},
    lambda f: [np.stack([f["data"][i, int(n) - 1] for i, n in enumerate(f["len"])])],
)(lambda b: [b.op("SequenceLast", b.var("data"), b.var("len"), use_sequence_length=True, axis=1)])
case("SequenceLast_plain", {"data": _SEQ}, lambda f: [f["data"][-1]])(lambda b: [b.op("SequenceLast", b.var("data"))])


def _seq_reverse(x, lengths):
    out = x.copy()
    for n, length in enumerate(lengths.astype(int)):
        out[:length, n] = x[:length, n][::-1]
    return out


case("SequenceReverse_lengths", {"data": _SEQ, "len": _LEN}, lambda f: [_seq_reverse(f["data"], f["len"])])(
    lambda b: [b.op("SequenceReverse", b.var("data"), b.var("len"), use_sequence_length=True)]
)
case("SequenceReverse_plain", {"data": _SEQ}, lambda f: [f["data"][::-1]])(
    lambda b: [b.op("SequenceReverse", b.var("data"))]
)

# creation ops and MXNet's 0 = "inferred from the consumer"
_WH = f32(4, 3)
case("zeros_begin_state_into_FC_and_add", {"data": f32(5, 4)}, lambda f: [f["data"] @ _WH + 0.0 + 1.0])(
    lambda b: (
        lambda z: [
            b.op(
                "elemwise_add",
                b.op("FullyConnected", b.var("data"), b.var("w", _WH.T.copy()), num_hidden=3, no_bias=True),
                b.op(
                    "_plus_scalar",
                    b.op("FullyConnected", z, b.var("w2", f32(3, 7)), num_hidden=3, no_bias=True),
                    scalar=1.0,
                ),
            )
        ]
    )(b.op("_zeros", shape=(0, 7), __layout__="NC"))
)
case(
    "ones_concat_against_partner",
    {"data": f32(5, 2)},
    lambda f: [np.concatenate([f["data"], np.ones((5, 3), np.float32)], 1)],
)(lambda b: [b.op("Concat", b.var("data"), b.op("_ones", shape=(0, 3)), dim=1, num_args=2)])
case(
    "full_and_zeros_like",
    {"data": _A},
    lambda f: [np.full((2, 2), 3.5, np.float32), np.zeros_like(f["data"]), np.ones_like(f["data"])],
)(
    lambda b: [
        b.op("_full", shape=(2, 2), value=3.5),
        b.op("zeros_like", b.var("data")),
        b.op("ones_like", b.var("data")),
    ]
)


@pytest.mark.parametrize("static", [False, True], ids=["symbolic", "static"])
@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_op(tmp_path: Path, c: Case, static: bool) -> None:
    """Each case twice: inputs with every dimension symbolic (only the rank given), and fully static."""
    if c.static_only and not static:
        pytest.skip("needs static input shapes")
    b = SymbolBuilder()
    heads = c.build(b)
    shapes = {k: v.shape if static else (None,) * v.ndim for k, v in c.feeds.items()}
    used = {n["name"] for n in b.nodes if n["op"] == "null"}
    got = convert_run(tmp_path, b, heads, c.feeds, input_shapes={k: v for k, v in shapes.items() if k in used})
    want = c.expected(c.feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=c.atol)


# ---------------------------------------------------------------- the RNN op inside a graph


def _rnn_case(
    mode: str,
    layers: int,
    bidirectional: bool,
    projection: int | None = None,
    clip=None,
    seq_len: bool = False,
    state_outputs: bool = True,
    zeros_state: bool = False,
):
    T, N, I, H = 5, 3, 4, 6
    D = 2 if bidirectional else 1
    R = projection or H
    from onnx_rnn.spec import RNNSpec

    spec = RNNSpec(
        mode=mode,
        state_size=H,
        num_layers=layers,
        bidirectional=bidirectional,
        projection_size=projection,
        lstm_state_clip_min=None if clip is None else clip[0],
        lstm_state_clip_max=None if clip is None else clip[1],
        use_sequence_length=seq_len,
    )
    params = (0.5 * RNG.standard_normal(spec.param_count(I))).astype(np.float32)
    feeds = {"data": f32(T, N, I)}
    b = SymbolBuilder()
    inputs = [b.var("data"), b.var("rnn_parameters", params)]
    if zeros_state:
        inputs.append(b.op("_zeros", shape=(layers * D, 0, R), __layout__="LNC"))
        if mode == "lstm":
            inputs.append(b.op("_zeros", shape=(layers * D, 0, H), __layout__="LNC"))
    else:
        feeds["state"] = f32(layers * D, N, R)
        inputs.append(b.var("state"))
        if mode == "lstm":
            feeds["state_cell"] = f32(layers * D, N, H)
            inputs.append(b.var("state_cell"))
    if seq_len:
        feeds["sequence_length"] = np.array([5, 2, 3], np.float32)
        inputs.append(b.var("sequence_length"))
    attrs = dict(
        mode=mode,
        state_size=H,
        num_layers=layers,
        bidirectional=bidirectional,
        state_outputs=state_outputs,
        use_sequence_length=seq_len,
        p=0.2,
    )
    if projection:
        attrs["projection_size"] = projection
    if clip:
        attrs.update(lstm_state_clip_min=clip[0], lstm_state_clip_max=clip[1], lstm_state_clip_nan=True)
    node = b.op("RNN", *inputs, **attrs)
    n_out = 1 if not state_outputs else (3 if mode == "lstm" else 2)
    heads = [node.out(i) for i in range(n_out)]
    out, hy, cy = reference.rnn(
        feeds["data"],
        params,
        mode=mode,
        state_size=H,
        num_layers=layers,
        bidirectional=bidirectional,
        projection_size=projection,
        lstm_state_clip_min=None if clip is None else clip[0],
        lstm_state_clip_max=None if clip is None else clip[1],
        lstm_state_clip_nan=bool(clip),
        state=feeds.get("state"),
        state_cell=feeds.get("state_cell"),
        sequence_length=None if not seq_len else feeds["sequence_length"].astype(np.int32),
    )
    expected = [out, hy, cy][:n_out]
    return b, heads, feeds, expected


RNN_CASES = {
    "lstm_L2_bi": dict(mode="lstm", layers=2, bidirectional=True),
    "gru_L2_bi_seqlen": dict(mode="gru", layers=2, bidirectional=True, seq_len=True),
    "rnn_relu_L1": dict(mode="rnn_relu", layers=1, bidirectional=False, state_outputs=False),
    "rnn_tanh_L3_zeros": dict(mode="rnn_tanh", layers=3, bidirectional=False, zeros_state=True),
    "lstm_zeros_state": dict(mode="lstm", layers=1, bidirectional=True, zeros_state=True),
    "lstm_proj": dict(mode="lstm", layers=2, bidirectional=True, projection=3),
    "lstm_proj_clip_seqlen": dict(
        mode="lstm", layers=2, bidirectional=False, projection=3, clip=(-0.3, 0.4), seq_len=True
    ),
    "lstm_clip_zeros": dict(mode="lstm", layers=1, bidirectional=False, clip=(-0.2, 0.2), zeros_state=True),
}


@pytest.mark.parametrize("portable", [True, False])
@pytest.mark.parametrize("name", list(RNN_CASES))
def test_rnn_op(tmp_path: Path, name: str, portable: bool) -> None:
    b, heads, feeds, expected = _rnn_case(**RNN_CASES[name])
    got = convert_run(tmp_path, b, heads, feeds, portable=portable)
    for g, w in zip(got, expected):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")
@pytest.mark.parametrize("name", ["lstm_proj", "lstm_proj_clip_seqlen", "lstm_clip_zeros"])
def test_rnn_op_plugin(tmp_path: Path, name: str) -> None:
    b, heads, feeds, expected = _rnn_case(**RNN_CASES[name])
    got = convert_run(tmp_path, b, heads, feeds, plugin_only=True)
    for g, w in zip(got, expected):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_gluon_style_parameters_through_reshape_and_param_concat(tmp_path: Path) -> None:
    """Gluon writes each weight as a variable, Reshape(-1)s it and joins them with _rnn_param_concat."""
    H, I = 4, 3
    pieces = {
        "l0_i2h_weight": f32(4 * H, I),
        "l0_h2h_weight": f32(4 * H, H),
        "l0_i2h_bias": f32(4 * H),
        "l0_h2h_bias": f32(4 * H),
    }
    b = SymbolBuilder()
    flat = [b.op("Reshape", b.var(k, v, __shape__=v.shape), shape=(-1,)) for k, v in pieces.items()]
    params = b.op("_rnn_param_concat", *flat, dim=0, num_args=4)
    data = b.var("data")
    states = [b.op("_zeros", shape=(1, 0, H)), b.op("_zeros", shape=(1, 0, H))]
    out = b.op("RNN", data, params, *states, mode="lstm", state_size=H, num_layers=1, state_outputs=True)
    x = f32(6, 2, I)
    got = convert_run(tmp_path, b, [out.out(0), out.out(2)], {"data": x})
    want = reference.rnn(x, np.concatenate([v.ravel() for v in pieces.values()]), mode="lstm", state_size=H)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], want[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("opset", [14, 17, 18, 21])
def test_opsets(tmp_path: Path, opset: int) -> None:
    """Split, Squeeze and the reductions change signature across opsets."""
    b = SymbolBuilder()
    s = b.op("SliceChannel", b.var("data"), num_outputs=3, axis=1, squeeze_axis=True)
    heads = [s.out(0), b.op("max", b.var("data"), axis=1), b.op("sum", b.var("data"), axis=2)]
    x = f32(2, 3, 4)
    got = convert_run(tmp_path, b, heads, {"data": x}, opset=opset, input_shapes={"data": (None, 3, None)})
    np.testing.assert_allclose(got[0], x[:, 0])
    np.testing.assert_allclose(got[1], x.max(1))
    np.testing.assert_allclose(got[2], x.sum(2), rtol=1e-5)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-6), (np.float16, 2e-3)])  # float64 LSTM: float32 inside
def test_float64_and_float16_models(tmp_path: Path, dtype, tol: float) -> None:
    """Inputs take the parameters' dtype (as MXNet's type inference gives them); float16 within its precision."""
    from onnx_rnn.spec import RNNSpec

    H, I = 4, 3
    params = (0.3 * RNG.standard_normal(RNNSpec(mode="lstm", state_size=H).param_count(I))).astype(dtype)
    w = RNG.standard_normal((2, H)).astype(dtype)
    b = SymbolBuilder()
    zeros = [b.op("_zeros", shape=(1, 0, H), dtype=np.dtype(dtype).name) for _ in range(2)]
    out = b.op("RNN", b.var("data"), b.var("p", params), *zeros, mode="lstm", state_size=H)
    head = b.op("FullyConnected", out, b.var("w", w), num_hidden=2, no_bias=True, flatten=False)
    symbol, params_path = b.write(tmp_path, [head])
    model = convert_checkpoint(symbol, params_path)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    x = RNG.standard_normal((5, 2, I)).astype(dtype)
    (got,) = session(model).run(None, {"data": x})
    assert got.dtype == dtype
    want = reference.rnn(x.astype(np.float64), params.astype(np.float64), mode="lstm", state_size=H)[0] @ w.T.astype(
        np.float64
    )
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol)
