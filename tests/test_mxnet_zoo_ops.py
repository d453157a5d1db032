"""Ops added for the model zoo (issue 9): indexing ops, numpy-mode aliases, shape-rank rules and errors.

Each case is a one-node symbol (``SymbolBuilder`` of test_mxnet_ops), converted and run on ONNX Runtime, and
compared with a NumPy statement of MXNet 1.9.1's documented semantics (the same symbols were run once in
MXNet 1.9.1 to confirm each statement). Control flow (``_foreach``, ``_while_loop``, ``_cond``) is checked
against MXNet's own outputs by the zoo models (tests/test_zoo.py); its errors are checked here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_mxnet_ops import SymbolBuilder, convert_run, f32

from onnx_rnn.cli import main as cli_main
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.mxnet import convert_checkpoint

X = f32(2, 3, 4)


def _cumsum_flat(x: np.ndarray) -> np.ndarray:
    return np.cumsum(x.reshape(-1))


CASES: list[tuple[str, Callable[[SymbolBuilder], Any], dict[str, np.ndarray], Callable[..., list[np.ndarray]]]] = [
    (
        "repeat_axis",
        lambda b: [b.op("repeat", b.var("a"), repeats=3, axis=1)],
        {"a": X},
        lambda a: [np.repeat(a, 3, 1)],
    ),
    (
        "repeat_neg_axis",
        lambda b: [b.op("repeat", b.var("a"), repeats=2, axis=-1)],
        {"a": X},
        lambda a: [np.repeat(a, 2, -1)],
    ),
    ("repeat_flat", lambda b: [b.op("repeat", b.var("a"), repeats=2)], {"a": X}, lambda a: [np.repeat(a, 2)]),
    (
        "reshape_like_all",
        lambda b: [b.op("reshape_like", b.var("a"), b.var("b"))],
        {"a": X, "b": f32(4, 6)},
        lambda a, b: [a.reshape(4, 6)],
    ),
    (
        "reshape_like_spans",
        lambda b: [b.op("reshape_like", b.var("a"), b.var("b"), lhs_begin=1, lhs_end=3, rhs_begin=0, rhs_end=2)],
        {"a": f32(2, 3, 4, 5), "b": f32(6, 2, 7)},
        lambda a, b: [a.reshape(2, 6, 2, 5)],
    ),
    ("cumsum_axis", lambda b: [b.op("cumsum", b.var("a"), axis=1)], {"a": X}, lambda a: [np.cumsum(a, 1)]),
    ("cumsum_flat", lambda b: [b.op("cumsum", b.var("a"))], {"a": X}, lambda a: [_cumsum_flat(a)]),
    (
        "arange_like_axis",
        lambda b: [b.op("_contrib_arange_like", b.var("a"), axis=1, start=2.0, step=0.5)],
        {"a": X},
        lambda a: [2.0 + 0.5 * np.arange(3, dtype=np.float32)],
    ),
    (
        "arange_like_whole_repeat",
        lambda b: [b.op("_contrib_arange_like", b.var("a"), repeat=2)],
        {"a": X},
        lambda a: [(np.arange(24) // 2).astype(np.float32).reshape(2, 3, 4)],
    ),
    (
        "div_sqrt_dim",
        lambda b: [b.op("_contrib_div_sqrt_dim", b.var("a"))],
        {"a": X},
        lambda a: [a / np.sqrt(4.0)],
    ),
    ("norm_axis", lambda b: [b.op("norm", b.var("a"), axis=-1)], {"a": X}, lambda a: [np.linalg.norm(a, axis=-1)]),
    (
        "norm_l1_keepdims",
        lambda b: [b.op("norm", b.var("a"), ord=1, axis=(0, 2), keepdims=True)],
        {"a": X},
        lambda a: [np.abs(a).sum(axis=(0, 2), keepdims=True)],
    ),
    ("norm_all", lambda b: [b.op("norm", b.var("a"))], {"a": X}, lambda a: [np.linalg.norm(a.reshape(-1))[None]]),
    # numpy-mode aliases
    (
        "np_reshape",
        lambda b: [b.op("_np_reshape", b.var("a"), newshape=(-1, 4))],
        {"a": X},
        lambda a: [a.reshape(-1, 4)],
    ),
    ("npi_tanh", lambda b: [b.op("_npi_tanh", b.var("a"))], {"a": X}, lambda a: [np.tanh(a)]),
    (
        "npi_scalars",
        lambda b: [
            b.op("_npi_add_scalar", b.op("_npi_multiply_scalar", b.var("a"), scalar=0.5, is_int=False), scalar=1.0)
        ],
        {"a": X},
        lambda a: [a * 0.5 + 1.0],
    ),
    (
        "npi_rsubtract_rdivide",
        lambda b: [
            b.op("_npi_rsubtract_scalar", b.var("a"), scalar=2.0),
            b.op("_npi_rtrue_divide_scalar", b.var("a"), scalar=3.0),
        ],
        {"a": X + 5.0},
        lambda a: [2.0 - a, 3.0 / a],
    ),
    ("npi_mean", lambda b: [b.op("_npi_mean", b.var("a"), axis=1, keepdims=False)], {"a": X}, lambda a: [a.mean(1)]),
    ("npi_sum_all", lambda b: [b.op("_npi_sum", b.var("a"))], {"a": X}, lambda a: [np.array(a.sum(), np.float32)]),
    (
        "npi_binary",
        lambda b: [b.op("_npi_multiply", b.op("_npi_add", b.var("a"), b.var("c")), b.var("c"))],
        {"a": X, "c": f32(3, 4)},
        lambda a, c: [(a + c) * c],
    ),
    (
        "npi_concatenate",
        lambda b: [b.op("_npi_concatenate", b.var("a"), b.var("c"), axis=2, num_args=2)],
        {"a": X, "c": f32(2, 3, 1)},
        lambda a, c: [np.concatenate([a, c], 2)],
    ),
    (
        "np_transpose",
        lambda b: [b.op("_np_transpose", b.var("a"), axes=(2, 0, 1))],
        {"a": X},
        lambda a: [a.transpose(2, 0, 1)],
    ),
    ("npx_relu", lambda b: [b.op("_npx_relu", b.var("a"))], {"a": X}, lambda a: [np.maximum(a, 0)]),
]


@pytest.mark.parametrize("static", [False, True], ids=["symbolic", "static"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_zoo_op(tmp_path: Path, case: tuple, static: bool) -> None:
    _, build, feeds, expected = case
    b = SymbolBuilder()
    heads = build(b)
    shapes = {k: v.shape if static else (None,) * v.ndim for k, v in feeds.items()}
    got = convert_run(tmp_path, b, heads, feeds, input_shapes=shapes)
    want = expected(*feeds.values())
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w.astype(np.float32), rtol=1e-5, atol=1e-5)


def test_elemwise_op_needs_one_input_of_known_rank(tmp_path: Path) -> None:
    """elemwise_add of a shapeless input and a FullyConnected output: the input takes the partner's rank."""
    b = SymbolBuilder()
    weight = f32(5, 4)
    fc = b.op("FullyConnected", b.var("x", __shape__=(3, 4)), b.var("w", weight), num_hidden=5, no_bias=True)
    out = b.op("elemwise_add", b.var("data"), fc)
    feeds = {"x": f32(3, 4), "data": f32(3, 5)}
    symbol, params = b.write(tmp_path, [out])
    model = convert_checkpoint(symbol, params)
    inputs = {i.name: len(i.type.tensor_type.shape.dim) for i in model.graph.input}
    assert inputs["data"] == 2
    got = convert_run(tmp_path, b, [out], feeds)
    np.testing.assert_allclose(got[0], feeds["data"] + feeds["x"] @ weight.T, rtol=1e-5, atol=1e-5)


def test_unknown_rank_input_is_the_documented_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing fixes the rank of ``data`` (a plain-sizes Reshape reads no axis): the CLI names the input and
    --input-shape in one line and exits 2."""
    b = SymbolBuilder()
    out = b.op("Reshape", b.op("_npi_tanh", b.var("data")), shape=(-1, 1))
    symbol, params = b.write(tmp_path, [out])
    with pytest.raises(OnnxRnnError, match=r"input 'data' is unknown.*--input-shape data="):
        convert_checkpoint(symbol, params)
    assert cli_main(["convert", str(symbol), str(params), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--input-shape data=" in err and "internal error" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "m.onnx").exists()
    got = convert_run(tmp_path, b, [out], {"data": f32(2, 3)}, input_shapes={"data": (None, None)})
    assert got[0].shape == (6, 1)


def test_np_reshape_with_mxnet_codes_is_refused(tmp_path: Path) -> None:
    b = SymbolBuilder()
    out = b.op("_np_reshape", b.var("data"), newshape=(0, -1))
    symbol, params = b.write(tmp_path, [out])
    with pytest.raises(OnnxRnnError, match=r"_np_reshape node .*newshape.*NumPy's reshape"):
        convert_checkpoint(symbol, params, input_shapes={"data": (2, 3)})


def _foreach_symbol(locs: dict[str, list[int]]) -> dict[str, Any]:
    """data (T, N, 3) and a state (N, 3): out_t = state + x_t, as mx.sym.contrib.foreach writes it."""
    body = {
        "nodes": [
            {"op": "null", "name": "x", "inputs": []},
            {"op": "null", "name": "s", "inputs": []},
            {"op": "elemwise_add", "name": "add", "inputs": [[1, 0, 0], [0, 0, 0]]},
        ],
        "arg_nodes": [0, 1],
        "heads": [[2, 0, 0], [2, 0, 0]],
    }
    attrs = {"num_args": "3", "num_outputs": "2", "num_out_data": "1", **{k: str(v) for k, v in locs.items()}}
    return {
        "nodes": [
            {"op": "null", "name": "data", "inputs": []},
            {"op": "null", "name": "state", "inputs": []},
            {"op": "_foreach", "name": "loop", "attrs": attrs, "inputs": [[0, 0, 0], [1, 0, 0]], "subgraphs": [body]},
        ],
        "arg_nodes": [0, 1],
        "heads": [[2, 0, 0], [2, 1, 0]],
    }


def _write(tmp_path: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    symbol, params = tmp_path / "m-symbol.json", tmp_path / "m-0000.params"
    symbol.write_text(json.dumps(doc))
    params.write_bytes(SymbolBuilder().params_bytes())
    return symbol, params


def test_foreach_running_sum_matches_numpy(tmp_path: Path) -> None:
    """A hand-written _foreach (the layout MXNet writes): Scan's stacked outputs and final state."""
    symbol, params = _write(tmp_path, _foreach_symbol({"in_data_locs": [0], "in_state_locs": [1], "remain_locs": []}))
    model = convert_checkpoint(symbol, params, input_shapes={"data": (None, None, 3), "state": (None, 3)})
    assert [n.op_type for n in model.graph.node if n.op_type == "Scan"] == ["Scan"]
    from test_mxnet_ops import session

    data, state = f32(4, 2, 3), f32(2, 3)
    stacked, final = session(model).run(None, {"data": data, "state": state})
    np.testing.assert_allclose(stacked, state + np.cumsum(data, 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(final, stacked[-1], rtol=1e-6)


def test_foreach_with_inconsistent_locations_is_a_clean_error(tmp_path: Path) -> None:
    symbol, params = _write(tmp_path, _foreach_symbol({"in_data_locs": [0], "in_state_locs": [0], "remain_locs": []}))
    with pytest.raises(OnnxRnnError, match=r"_foreach node 'loop'.*locations"):
        convert_checkpoint(symbol, params, input_shapes={"data": (4, 2, 3), "state": (2, 3)})
