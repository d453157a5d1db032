"""The onnx-rnn command line: conversion from flags or MXNet attribute JSON, run, check, info, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import RNN_FIXTURES, expected_outputs, load_fixture
from onnx_rnn.cli import main
from onnx_rnn.reference import run_spec

FIXTURE = next(p for p in RNN_FIXTURES if p.stem.startswith("lstm_L2_bi_float32"))


@pytest.fixture()
def fixture_files(tmp_path: Path):
    spec, arrays = load_fixture(FIXTURE)
    with np.load(FIXTURE) as f:
        (tmp_path / "attrs.json").write_text(str(f["attrs"]))
    np.save(tmp_path / "params.npy", arrays["parameters"])
    np.savez(tmp_path / "bundle.npz", weights=arrays["parameters"], other=np.zeros(3))
    for name in ("data", "state", "state_cell"):
        np.save(tmp_path / f"{name}.npy", arrays[name])
    return tmp_path, spec, arrays


def test_convert_from_attrs_and_run(fixture_files, capsys):
    tmp, spec, arrays = fixture_files
    assert (
        main(
            [
                "convert",
                "--attrs",
                str(tmp / "attrs.json"),
                "--params",
                str(tmp / "params.npy"),
                "-o",
                str(tmp / "m.onnx"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "run",
                str(tmp / "m.onnx"),
                "--input",
                f"data={tmp / 'data.npy'}",
                "--input",
                f"state={tmp / 'state.npy'}",
                "--input",
                f"state_cell={tmp / 'state_cell.npy'}",
                "--out-dir",
                str(tmp),
            ]
        )
        == 0
    )
    assert "output: shape (5, 3, 8)" in capsys.readouterr().out
    np.testing.assert_allclose(np.load(tmp / "output.npy"), expected_outputs(spec, arrays)[0], rtol=1e-5, atol=1e-5)


def test_convert_from_flags_npz_key_and_check(fixture_files, capsys):
    tmp, spec, arrays = fixture_files
    args = [
        "convert",
        "--mode",
        "lstm",
        "--state-size",
        str(spec.state_size),
        "--num-layers",
        "2",
        "--bidirectional",
        "--state-outputs",
        "--params",
        str(tmp / "bundle.npz"),
        "--params-key",
        "weights",
        "-o",
        str(tmp / "m.onnx"),
    ]
    assert main(args) == 0
    golden = {k: arrays[k] for k in ("data", "state", "state_cell")}
    # MXNet's output for `output`; this fixture has state_outputs off, so the reference gives the states.
    out, hy, cy = run_spec(spec, arrays["data"], arrays["parameters"], arrays["state"], arrays["state_cell"])
    np.testing.assert_allclose(out, arrays["out"], rtol=1e-5, atol=1e-6)
    np.savez(tmp / "golden.npz", **golden | {"output": arrays["out"], "state_output": hy, "state_cell_output": cy})
    capsys.readouterr()
    assert main(["check", str(tmp / "m.onnx"), "--golden", str(tmp / "golden.npz")]) == 0
    printed = capsys.readouterr().out
    assert printed.count(" ok") == 3
    np.savez(
        tmp / "wrong.npz",
        **golden | {"output": arrays["out"] + np.float32(1e-3), "state_output": hy, "state_cell_output": cy},
    )
    assert main(["check", str(tmp / "m.onnx"), "--golden", str(tmp / "wrong.npz")]) == 1
    assert "output: max abs error 1.0" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--mode", "gru", "--state-size", "4"], "fits no input size"),
        (["--mode", "lstm", "--state-size", "4", "--projection-size", "6"], "projection_size must be smaller"),
        (["--mode", "lstm", "--state-size", "4", "--lstm-state-clip-min", "1"], "must be given together"),
        (["--mode", "lstm"], "--mode and --state-size are required"),
        (["--mode", "lstm", "--state-size", "4", "--params-key", "nope"], "only applies to .npz"),
    ],
)
def test_convert_errors_are_one_line_and_write_nothing(fixture_files, capsys, extra, message):
    tmp, *_ = fixture_files
    out = tmp / "bad.onnx"
    assert main(["convert", *extra, "--params", str(tmp / "params.npy"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and not list(tmp.glob(".onnx-rnn-*"))


def test_unreadable_files(tmp_path, capsys):
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    assert (
        main(
            [
                "convert",
                "--mode",
                "lstm",
                "--state-size",
                "4",
                "--params",
                str(tmp_path / "junk.npy"),
                "-o",
                str(tmp_path / "m.onnx"),
            ]
        )
        == 2
    )
    assert "cannot read array file" in capsys.readouterr().err
    (tmp_path / "junk.onnx").write_bytes(b"\x00\x01garbage")
    assert main(["run", str(tmp_path / "junk.onnx")]) == 2
    assert "cannot read ONNX model" in capsys.readouterr().err


def test_run_rejects_wrong_shape(fixture_files, capsys):
    tmp, *_ = fixture_files
    assert (
        main(
            [
                "convert",
                "--attrs",
                str(tmp / "attrs.json"),
                "--params",
                str(tmp / "params.npy"),
                "-o",
                str(tmp / "m.onnx"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "run",
                str(tmp / "m.onnx"),
                "--input",
                f"data={tmp / 'state.npy'}",
                "--input",
                f"state={tmp / 'state.npy'}",
                "--input",
                f"state_cell={tmp / 'state_cell.npy'}",
            ]
        )
        == 2
    )
    assert "input 'data' must have shape (time, batch, 6)" in capsys.readouterr().err


def test_usage_error_and_no_traceback_in_a_real_process(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "onnx_rnn.cli",
            "convert",
            "--mode",
            "lstm",
            "--state-size",
            "x",
            "-o",
            str(tmp_path / "m.onnx"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "invalid int value" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "onnx_rnn.cli", "run", str(tmp_path / "missing.onnx")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and "missing.onnx" in done.stderr


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("onnx-rnn", "onnxruntime", "providers", "CPUExecutionProvider", "plugin"):
        assert word in out
    json.dumps(out)


def test_checkpoint_and_flag_forms_do_not_mix(fixture_files, capsys):
    tmp, *_ = fixture_files
    models = Path(__file__).parent.parent / "models"
    assert (
        main(
            [
                "convert",
                str(models / "char_lstm-symbol.json"),
                str(models / "char_lstm-0000.params"),
                "--state-size",
                "4",
                "--params",
                str(tmp / "params.npy"),
                "-o",
                str(tmp / "m.onnx"),
            ]
        )
        == 2
    )
    assert "--params, --state-size do not apply to a checkpoint" in capsys.readouterr().err
    assert (
        main(
            [
                "convert",
                "--attrs",
                str(tmp / "attrs.json"),
                "--params",
                str(tmp / "params.npy"),
                "--input-shape",
                "data=1,2",
                "-o",
                str(tmp / "m.onnx"),
            ]
        )
        == 2
    )
    assert "--input-shape applies to checkpoints" in capsys.readouterr().err
    assert not (tmp / "m.onnx").exists()


def test_checkpoint_with_a_non_boolean_rnn_flag(tmp_path, capsys):
    models = Path(__file__).parent.parent / "models"
    symbol = json.loads((models / "char_lstm-symbol.json").read_text())
    for node in symbol["nodes"]:
        if node["op"] == "RNN":
            node.setdefault("attrs", {})["bidirectional"] = "abc"
    (tmp_path / "b-symbol.json").write_text(json.dumps(symbol))
    assert (
        main(
            [
                "convert",
                str(tmp_path / "b-symbol.json"),
                str(models / "char_lstm-0000.params"),
                "-o",
                str(tmp_path / "b.onnx"),
            ]
        )
        == 2
    )
    assert "RNN node 'charlm_lstm0_rnn0': bidirectional must be True or False, got 'abc'" in capsys.readouterr().err
    assert not (tmp_path / "b.onnx").exists()
