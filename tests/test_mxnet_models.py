"""Every real MXNet checkpoint in models/ converts and matches its expected outputs in float32 tolerance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from test_mxnet_ops import session

from onnx_rnn.cli import main as cli_main
from onnx_rnn.mxnet import convert_checkpoint, load_params
from onnx_rnn.runtime import plugin_available

MODELS = Path(__file__).resolve().parent.parent / "models"
NAMES = sorted(p.name[: -len("-symbol.json")] for p in MODELS.glob("*-symbol.json"))
CUSTOM = {"lstmp_speech", "lstmp_clip"}  # LSTMs with projection/clipping: the onnx_rnn.LSTM op
RTOL = ATOL = 1e-5


def files(name: str) -> tuple[Path, Path, Path]:
    return MODELS / f"{name}-symbol.json", MODELS / f"{name}-0000.params", MODELS / f"{name}-io.npz"


def golden(name: str) -> tuple[dict[str, np.ndarray], list[np.ndarray], str]:
    with np.load(files(name)[2], allow_pickle=False) as f:
        outputs = [f[f"output{i}"] for i in range(sum(k.startswith("output") for k in f.files))]
        inputs = {k: f[k] for k in f.files if not k.startswith("output") and k != "source"}
        return inputs, outputs, str(f["source"])


def run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    return session(model).run(None, feeds)


def test_the_models_are_there_and_small() -> None:
    assert len(NAMES) >= 6
    assert sum(p.stat().st_size for p in MODELS.iterdir()) < 2 * 1024 * 1024


@pytest.mark.parametrize("portable", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_model_matches(name: str, portable: bool) -> None:
    symbol, params, _ = files(name)
    inputs, expected, _ = golden(name)
    model = convert_checkpoint(symbol, params, portable=portable)
    assert [i.name for i in model.graph.input] == list(inputs)  # MXNet's input names, labels dropped
    got = run(model, inputs)
    assert len(got) == len(expected)
    for g, w in zip(got, expected):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


@pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")
@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_model_matches_with_plugin_only(name: str) -> None:
    symbol, params, _ = files(name)
    inputs, expected, _ = golden(name)
    model = convert_checkpoint(symbol, params, plugin_only=True)
    assert any(n.domain == "onnx_rnn" for n in model.graph.node)
    for g, w in zip(run(model, inputs), expected):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


def test_goldens_name_their_source() -> None:
    for name in NAMES:
        source = golden(name)[2]
        if name in ("lstmp_clip", "bilstm_seqlen"):
            assert source.startswith("onnx_rnn.reference"), name
        else:
            assert source.startswith("mxnet 1.9.1"), name


# Batch axes of each model's inputs, and how to take the first example of each output.
First = Callable[[np.ndarray], np.ndarray]
BATCH: dict[str, tuple[dict[str, int], list[First]]] = {
    "char_lstm": ({"data": 1}, [lambda o: o[:, :1]]),
    "bigru_tagger": ({"data": 0}, [lambda o: o[:1]]),
    "relu_rnn": ({"data0": 1, "data1": 1}, [lambda o: o[:, :1], lambda o: o[:, :1]]),
    "lstmp_speech": ({"data": 0}, [lambda o: o[:1]]),
    "lstmp_clip": ({"data": 0}, [lambda o: o[:1]]),
    "bilstm_seqlen": ({"data0": 1, "data1": 0}, [lambda o: o[:, :1], lambda o: o[:1]]),
    "unrolled_cells": ({"data": 0}, [lambda o: o[:1], lambda o: o[:1]]),
    "module_lstm": (
        {"data": 1, "state": 1, "state_cell": 1},
        [lambda o: o[::2], lambda o: o[:, :1], lambda o: o[:, :1]],
    ),
    "fused_gru": ({"data": 1}, [lambda o: o[:1]]),
}


@pytest.mark.parametrize("name", NAMES)
def test_batch_is_symbolic(name: str) -> None:
    """The same model runs on one example of the golden batch and gives that example's expected output."""
    axes, firsts = BATCH[name]
    symbol, params, _ = files(name)
    inputs, expected, _ = golden(name)
    model = convert_checkpoint(symbol, params)
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    for input_name, axis in axes.items():
        assert isinstance(dims[input_name][axis], str), (input_name, dims[input_name])  # symbolic
    one = {k: np.take(v, [0], axis=axes[k]) for k, v in inputs.items()}
    for g, w, first in zip(run(model, one), expected, firsts):
        np.testing.assert_allclose(g, first(w), rtol=RTOL, atol=ATOL)


def test_fused_cell_weights_saved_unpacked_are_joined_again() -> None:
    """mx.rnn.save_rnn_checkpoint writes gru_l0_i2h_r_weight, ... instead of the symbol's gru_parameters."""
    symbol, params, _ = files("fused_gru")
    stored = load_params(params)
    assert "arg:gru_parameters" not in stored and "arg:gru_r1_h2h_o_bias" in stored
    model = convert_checkpoint(symbol, params)
    assert [i.name for i in model.graph.input] == ["data"]


def test_rnn_dimensions_are_named_batch_and_time() -> None:
    model = convert_checkpoint(*files("char_lstm")[:2])
    (data,) = model.graph.input
    assert [d.dim_param for d in data.type.tensor_type.shape.dim] == ["time", "batch"]
    state = convert_checkpoint(*files("module_lstm")[:2]).graph.input[1]
    assert [d.dim_param or d.dim_value for d in state.type.tensor_type.shape.dim] == [2, "batch", 16]


def test_input_shape_fixes_dimensions() -> None:
    symbol, params, _ = files("bigru_tagger")
    inputs, expected, _ = golden("bigru_tagger")
    model = convert_checkpoint(symbol, params, input_shapes={"data": (3, 9)})
    (data,) = model.graph.input
    assert [d.dim_value for d in data.type.tensor_type.shape.dim] == [3, 9]
    np.testing.assert_allclose(run(model, inputs)[0], expected[0], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["char_lstm", "module_lstm", "lstmp_clip"])
def test_cli_convert_and_check(tmp_path: Path, capsys, name: str) -> None:
    symbol, params, io = files(name)
    out = tmp_path / f"{name}.onnx"
    flags = ["--portable"] if name in CUSTOM and not plugin_available() else []
    assert cli_main(["convert", str(symbol), str(params), "-o", str(out), *flags]) == 0
    assert out.is_file() and [p.name for p in tmp_path.iterdir()] == [out.name]
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    assert cli_main(["check", str(out), "--golden", str(io)]) == 0
    report = capsys.readouterr().out
    assert "max abs error" in report and "max rel error" in report and "BEYOND" not in report


def test_cli_input_shape_and_file_order(tmp_path: Path, capsys) -> None:
    symbol, params, io = files("char_lstm")
    out = tmp_path / "m.onnx"
    assert cli_main(["convert", str(params), str(symbol), "-o", str(out), "--input-shape", "data=12,N"]) == 0
    assert "inputs data(12, N)" in capsys.readouterr().out
    assert cli_main(["check", str(out), "--golden", str(io)]) == 0


def test_cli_check_fails_beyond_tolerance(tmp_path: Path, capsys) -> None:
    symbol, params, io = files("char_lstm")
    out = tmp_path / "m.onnx"
    assert cli_main(["convert", str(symbol), str(params), "-o", str(out)]) == 0
    with np.load(io) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["output0"] = arrays["output0"] + 1e-3
    np.savez(tmp_path / "off.npz", **arrays)
    assert cli_main(["check", str(out), "--golden", str(tmp_path / "off.npz")]) != 0
    assert "BEYOND TOLERANCE" in capsys.readouterr().out
