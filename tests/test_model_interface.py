"""The converted model's interface: names, symbolic T and N, dtypes, zero initial state, checker, nodes."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

import onnx_rnn
from conftest import random_case
from onnx_rnn.reference import run_spec
from onnx_rnn.spec import RNNSpec


def test_one_model_serves_any_sequence_length_and_batch():
    spec = RNNSpec(mode="lstm", state_size=5, num_layers=2, bidirectional=True, state_outputs=True)
    params, *_ = random_case(spec, 1, 1, 3)
    session = onnx_rnn.InferenceSession(
        onnx_rnn.export_rnn(params, mode="lstm", state_size=5, num_layers=2, bidirectional=True, state_outputs=True)
    )
    for T, N in [(1, 1), (9, 2), (3, 7), (20, 1)]:
        _, data, state, cell = random_case(spec, T, N, 3, seed=T * N)
        got = session.run(None, {"data": data, "state": state, "state_cell": cell})
        want = run_spec(spec, data, params, state, cell)
        assert got[0].shape == (T, N, 10)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_graph_interface_and_standard_nodes(mode):
    spec = RNNSpec(
        mode=mode, state_size=4, num_layers=3, bidirectional=True, state_outputs=True, use_sequence_length=True
    )
    params, *_ = random_case(spec, 1, 1, 2)
    model = onnx_rnn.export_rnn(
        params, mode=mode, state_size=4, num_layers=3, bidirectional=True, state_outputs=True, use_sequence_length=True
    )
    onnx.checker.check_model(model, full_check=True)
    inputs = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in model.graph.input]
    lstm = mode == "lstm"
    assert inputs == [("data", ["time", "batch", 2]), ("state", [6, "batch", 4])] + (
        [("state_cell", [6, "batch", 4])] if lstm else []
    ) + [("sequence_length", ["batch"])]
    assert [o.name for o in model.graph.output] == ["output", "state_output"] + (["state_cell_output"] if lstm else [])
    op = {"lstm": "LSTM", "gru": "GRU"}.get(mode, "RNN")
    # With sequence lengths no layer is a standard node (onnx.reference and OpenVINO ignore their sequence_lens):
    # LSTM layers are our custom op, GRU/RNN layers Scan (docs/portable.md). Without lengths they are standard.
    assert not [n for n in model.graph.node if n.op_type == op and n.domain == ""]
    with_lengths = {(n.domain, n.op_type) for n in model.graph.node}
    assert ("onnx_rnn", "LSTMP") in with_lengths if lstm else ("", "Scan") in with_lengths
    model = onnx_rnn.export_rnn(params, mode=mode, state_size=4, num_layers=3, bidirectional=True, state_outputs=True)
    layers = [n for n in model.graph.node if n.op_type == op]
    assert len(layers) == 3 and all(n.domain == "" for n in layers)
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in layers[0].attribute}
    assert attrs["direction"] == b"bidirectional"
    if mode == "gru":
        assert attrs["linear_before_reset"] == 1
    if mode.startswith("rnn"):
        assert attrs["activations"] == [b"Tanh" if mode == "rnn_tanh" else b"Relu"] * 2


def test_zero_initial_state_has_no_state_inputs():
    spec = RNNSpec(mode="gru", state_size=4, state_outputs=True)
    params, data, *_ = random_case(spec, 3, 2, 2)
    model = onnx_rnn.export_rnn(params, mode="gru", state_size=4, state_outputs=True, zero_initial_state=True)
    assert [i.name for i in model.graph.input] == ["data"]
    got = onnx_rnn.InferenceSession(model).run(None, {"data": data})
    for g, w in zip(got, run_spec(spec, data, params)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype,tol", [(np.float16, 2e-3), (np.float64, 1e-5)])
def test_other_float_types_keep_the_interface_dtype(dtype, tol):
    """float16 runs on ONNX Runtime's CPU kernels; float64 computes in float32 behind Casts."""
    spec = RNNSpec(mode="lstm", state_size=4, num_layers=2, state_outputs=True)
    params, data, state, cell = random_case(spec, 4, 2, 3, dtype=dtype)
    model = onnx_rnn.export_rnn(params, mode="lstm", state_size=4, num_layers=2, state_outputs=True)
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    assert all(v.type.tensor_type.elem_type == elem for v in list(model.graph.input) + list(model.graph.output))
    got = onnx_rnn.InferenceSession(model).run(None, {"data": data, "state": state, "state_cell": cell})
    want = run_spec(
        spec, data.astype(np.float64), params.astype(np.float64), state.astype(np.float64), cell.astype(np.float64)
    )
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.astype(np.float64), w, rtol=tol, atol=tol)


def test_dropout_p_has_no_effect():
    spec = RNNSpec(mode="lstm", state_size=4, num_layers=2)
    params, data, state, cell = random_case(spec, 3, 2, 3)
    feeds = {"data": data, "state": state, "state_cell": cell}
    runs = [
        onnx_rnn.InferenceSession(onnx_rnn.export_rnn(params, mode="lstm", state_size=4, num_layers=2, p=p)).run(
            None, feeds
        )[0]
        for p in (0.0, 0.5)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_large_models_are_saved_with_external_data(tmp_path, monkeypatch):
    """Over the threshold (1 GiB in use; lowered here) the weights go to model.onnx.data beside the model."""
    from onnx_rnn import files

    spec = RNNSpec(mode="gru", state_size=8, num_layers=2, bidirectional=True, state_outputs=True)
    params, data, state, _ = random_case(spec, 4, 2, 3)
    model = onnx_rnn.export_rnn(params, mode="gru", state_size=8, num_layers=2, bidirectional=True, state_outputs=True)
    monkeypatch.setattr(files, "EXTERNAL_DATA_THRESHOLD", 1000)
    files.save_model(model, tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.data"]
    assert (tmp_path / "m.onnx").stat().st_size < (tmp_path / "m.onnx.data").stat().st_size
    got = onnx_rnn.InferenceSession(tmp_path / "m.onnx").run(None, {"data": data, "state": state})
    for g, w in zip(got, run_spec(spec, data, params, state)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
