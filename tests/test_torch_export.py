"""onnx_rnn.torch.export over the configuration matrix, PyTorch's own module being the oracle.

Each configuration is exported once, with T and N dynamic, and run at several (N, T) in a plain onnxruntime
session (projection layers run their fallback function) and in a session with the plugin registered.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from torch_cases import Config, export_config, matrix, max_error, sessions  # noqa: E402 (after importorskip)

from onnx_rnn.runtime import plugin_available  # noqa: E402 (after importorskip)


@pytest.mark.parametrize("config", matrix(), ids=Config.id)
def test_export_matches_pytorch(config: Config) -> None:
    model, data = export_config(config)
    found = sessions(data, float16=config.dtype == "float16")
    assert "plain" in found
    for session in found.values():
        max_error(model, session, config)


@pytest.mark.parametrize("mode", ["lstmp", "gru"])
def test_portable_form_matches_pytorch(mode: str) -> None:
    config = Config(mode, 2, True, True, True, True, "float32")
    model, data = export_config(config, portable=True)
    assert _domains(data) <= {"", "ai.onnx"}
    max_error(model, sessions(data, plugin=False)["plain"], config)


@pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")
def test_plugin_only_form_matches_pytorch() -> None:
    config = Config("lstmp", 3, False, False, False, False, "float64")
    model, data = export_config(config, plugin_only=True)
    assert _functions(data) == 0
    max_error(model, sessions(data, plain=False)["plugin"], config)


def _domains(data: bytes) -> set[str]:
    import onnx

    model = onnx.load_from_string(data)
    return {n.domain for n in model.graph.node} | {o.domain for o in model.opset_import}


def _functions(data: bytes) -> int:
    import onnx

    return len(onnx.load_from_string(data).functions)


def test_import_onnx_rnn_does_not_import_torch() -> None:
    code = "import sys, onnx_rnn, onnx_rnn.torch, onnx_rnn.cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
