"""Where the plugin is found, and what a user sees when a model needs it and it is missing."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

import onnx_rnn
from onnx_rnn import OnnxRnnError
from onnx_rnn.cli import main
from onnx_rnn.runtime import LIBRARY_ENV, needs_plugin
from onnx_rnn.spec import RNNSpec

SPEC = RNNSpec(mode="lstm", state_size=4, projection_size=2)
PARAMS = np.random.default_rng(0).uniform(-0.5, 0.5, SPEC.param_count(3)).astype(np.float32)


def _export(**kw):
    return onnx_rnn.export_rnn(PARAMS, mode="lstm", state_size=4, projection_size=2, zero_initial_state=True, **kw)


def test_which_models_need_the_plugin():
    assert needs_plugin(_export(plugin_only=True))
    assert not needs_plugin(_export())  # the model-local function is the fallback
    assert not needs_plugin(_export(portable=True))
    gru = np.zeros(RNNSpec(mode="gru", state_size=4).param_count(3), np.float32)
    assert not needs_plugin(onnx_rnn.export_rnn(gru, mode="gru", state_size=4))


def test_missing_plugin_is_explained(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(LIBRARY_ENV, str(tmp_path / "absent.so"))
    model = _export(plugin_only=True)
    with pytest.raises(OnnxRnnError, match="ONNX_RNN_CUSTOM_OPS_LIBRARY=.*absent.so is not a file"):
        onnx_rnn.InferenceSession(model)
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 3), np.float32))
    assert main(["run", str(tmp_path / "m.onnx"), "--input", f"data={tmp_path / 'x.npy'}"]) == 2
    assert "absent.so is not a file" in capsys.readouterr().err
    # The default model still runs without the plugin (ONNX Runtime inlines its function).
    monkeypatch.setattr("onnx_rnn.runtime._candidates", list)
    monkeypatch.delenv(LIBRARY_ENV)
    with pytest.raises(OnnxRnnError, match="plugin library .* is not built: install the package with 'pip install"):
        onnx_rnn.library_path()
    out = onnx_rnn.InferenceSession(_export()).run(None, {"data": np.zeros((2, 1, 3), np.float32)})[0]
    assert out.shape == (2, 1, 2)
    with pytest.raises(OnnxRnnError, match="plugin library .* is not built"):
        onnx_rnn.InferenceSession(model)


def test_plain_onnxruntime_refuses_the_bare_custom_node():
    """Without the plugin, ONNX Runtime itself cannot load a plugin-only model (the reason for the checks above)."""
    with pytest.raises(Exception, match="onnx_rnn"):
        ort.InferenceSession(_export(plugin_only=True).SerializeToString(), providers=["CPUExecutionProvider"])
