"""Packaging and CLI conventions: the plugin loads only for custom nodes, the implementation report matches what
ONNX Runtime really runs, `--help` imports neither onnx nor onnxruntime, `--version`, `bench MODEL`, and the GPU
install command of docs/gpu.md lists pyproject.toml's dependencies."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import tomllib

import onnx_rnn
from onnx_rnn.check import implementations
from onnx_rnn.cli import main
from onnx_rnn.export import export_spec
from onnx_rnn.runtime import LIBRARY_ENV
from onnx_rnn.spec import RNNSpec

ROOT = Path(__file__).resolve().parent.parent
LSTMP = RNNSpec(mode="lstm", state_size=8, num_layers=1, state_outputs=True, projection_size=4)
PLAIN = RNNSpec(mode="lstm", state_size=8, num_layers=1, state_outputs=True)


def _params(spec: RNNSpec, input_size: int = 3) -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.5, 0.5, spec.param_count(input_size)).astype(np.float32)


def _optimized_domains(model: onnx.ModelProto, tmp_path: Path, register: bool) -> set[str]:
    """Node domains of the graph ONNX Runtime actually runs (its optimized model, saved)."""
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    if register:
        options.register_custom_ops_library(onnx_rnn.library_path())
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return {n.domain for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node}


def test_report_says_plugin_kernel_and_onnx_runtime_keeps_the_custom_node(tmp_path):
    model = export_spec(LSTMP, _params(LSTMP))  # default form: custom node + fallback function
    lines = implementations(model)
    assert lines and all(line.endswith(": plugin kernel") for line in lines)
    assert "onnx_rnn" in _optimized_domains(model, tmp_path, register=True)


def test_report_says_fallback_when_the_plugin_is_missing(tmp_path, monkeypatch):
    model = export_spec(LSTMP, _params(LSTMP))
    monkeypatch.setattr("onnx_rnn.runtime.plugin_available", lambda: False)
    lines = implementations(model)
    assert lines and all("fallback function" in line for line in lines)
    assert "onnx_rnn" not in _optimized_domains(model, tmp_path, register=False)  # inlined standard operators


def test_standard_model_never_loads_the_plugin(tmp_path, monkeypatch):
    not_a_library = tmp_path / "libbroken.so"
    not_a_library.write_bytes(b"not an ELF file")
    monkeypatch.setenv(LIBRARY_ENV, str(not_a_library))
    model = export_spec(PLAIN, _params(PLAIN))
    x = np.ones((2, 1, 3), np.float32)
    h = np.zeros((1, 1, 8), np.float32)
    onnx_rnn.InferenceSession(model).run(None, {"data": x, "state": h, "state_cell": h})  # loads nothing
    assert implementations(model)[0].startswith("standard ONNX nodes only")
    with pytest.raises(Exception, match="libbroken.so"):  # a custom-node model does try to load it
        onnx_rnn.InferenceSession(export_spec(LSTMP, _params(LSTMP)))


def test_help_imports_neither_onnx_nor_onnxruntime():
    code = (
        "import sys, onnx_rnn.cli as c; p = c.build_parser(); "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'torch') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_version_matches_pyproject(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out.strip() == f"onnx-rnn {version}"


def test_every_option_has_help() -> None:
    from onnx_rnn.cli import build_parser

    parser = build_parser()
    actions = parser._actions  # noqa: SLF001 (argparse lists a parser's options nowhere public)
    subparsers = next(a for a in actions if a.choices and isinstance(a.choices, dict))
    for name, sub in subparsers.choices.items():
        for action in sub._actions:  # noqa: SLF001
            assert action.help, f"onnx-rnn {name} {action.option_strings or action.dest} has no help"


def test_bench_model_prints_percentiles(tmp_path, capsys):
    path = tmp_path / "m.onnx"
    onnx.save(export_spec(LSTMP, _params(LSTMP)), str(path))
    assert main(["bench", str(path), "--repeat", "3", "--threads", "1"]) == 2  # symbolic dims need --shape
    assert "--shape" in capsys.readouterr().err
    shapes = [f"--shape={d}=2" for d in _symbolic_dims(path)]
    assert main(["bench", str(path), "--repeat", "3", "--threads", "1", *shapes]) == 0
    assert re.search(r"p50 [0-9.]+ ms, p90 [0-9.]+ ms, p99 [0-9.]+ ms", capsys.readouterr().out)


def _symbolic_dims(path: Path) -> set[str]:
    model = onnx.load(str(path))
    return {d.dim_param for i in model.graph.input for d in i.type.tensor_type.shape.dim if d.dim_param}


def test_gpu_command_installs_pyproject_dependencies_with_onnxruntime_gpu_instead():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "gpu" not in project.get("optional-dependencies", {})  # an extra would install both runtimes
    text = (ROOT / "docs" / "gpu.md").read_text()
    line = next(line for line in text.splitlines() if line.startswith('pip install "onnxruntime-gpu'))
    first, second = line.split(" && ")
    assert shlex.split(second) == ["pip", "install", "--no-deps", "--no-build-isolation", "."]
    named = set(shlex.split(first)[2:])
    wanted = {d for d in project["dependencies"] if not d.startswith("onnxruntime")}
    assert wanted <= named
    assert not any(r.startswith("onnxruntime") and not r.startswith("onnxruntime-gpu") for r in named)


def test_verbose_says_what_it_does_on_stderr():
    for argv in (["-v", "info"], ["info", "--verbose"]):
        done = subprocess.run(
            [sys.executable, "-m", "onnx_rnn.cli", *argv], capture_output=True, text=True, cwd=ROOT, check=True
        )
        assert "info finished in" in done.stderr
    quiet = subprocess.run([sys.executable, "-m", "onnx_rnn.cli", "info"], capture_output=True, text=True, check=True)
    assert quiet.stderr == ""
