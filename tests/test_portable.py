"""The portable path (standard ONNX operators only) and the one-file default (custom op + model-local function).

Every model here runs in a plain ``onnxruntime.InferenceSession`` with no custom library registered (or in
``onnx.reference.ReferenceEvaluator``). Oracles: MXNet 1.9.1's outputs for projection (tests/fixtures/rnn, the
``_proj`` files), PyTorch's ``nn.LSTM(proj_size=...)``, and the NumPy reference for clipping, NaN handling and
sequence lengths (MXNet's CPU operator ignores those: tests/fixtures/mxnet_cpu_quirks).
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx.reference import ReferenceEvaluator

from conftest import QUIRK_FIXTURES, RNN_FIXTURES, expected_outputs, feeds_for, load_fixture, random_case
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.export import export_spec
from onnx_rnn.export.builder import CUSTOM_DOMAIN
from onnx_rnn.reference import run_spec
from onnx_rnn.runtime import library_path, plugin_available
from onnx_rnn.spec import RNNSpec

PROJ_FIXTURES = [p for p in RNN_FIXTURES if "_proj" in p.stem]
CLIP_QUIRKS = [p for p in QUIRK_FIXTURES if p.stem.startswith("lstm")]
TOL = {np.float16: 3e-3, np.float32: 2e-5, np.float64: 1e-12}


def plain_session(model: onnx.ModelProto, library: str | None = None) -> ort.InferenceSession:
    """Stock onnxruntime: no onnx-rnn plugin unless ``library`` is given."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # float16 models make ORT warn about constant folding
    if library:
        options.register_custom_ops_library(library)
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def op_counts(graph: onnx.GraphProto) -> collections.Counter:
    return collections.Counter((n.domain or "ai.onnx", n.op_type) for n in graph.node)


def assert_outputs(got, want, tol):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol, atol=tol)


def spec_kwargs(spec: RNNSpec) -> dict:
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}


def reference_outputs(spec, data, params, state, cell, lengths):
    out, hy, cy = run_spec(spec, data, params, state, cell, lengths)
    return [out, hy, cy] if spec.state_outputs else [out]


# ---------------------------------------------------------------- MXNet's projection fixtures
def test_projection_fixtures_present():
    assert len(PROJ_FIXTURES) >= 10


@pytest.mark.parametrize("portable", [True, False], ids=["portable", "function"])
@pytest.mark.parametrize("path", PROJ_FIXTURES, ids=[p.stem for p in PROJ_FIXTURES])
def test_projection_matches_mxnet_without_plugin(path, portable):
    spec, arrays = load_fixture(path)
    model = export_spec(spec, arrays["parameters"], portable=portable)
    got = plain_session(model).run(None, feeds_for(spec, arrays))
    tol = 1e-5 if arrays["data"].dtype == np.float32 else 1e-10
    assert_outputs(got, expected_outputs(spec, arrays), tol)


# ---------------------------------------------------------------- clipping and sequence lengths: the reference
@pytest.mark.parametrize("path", CLIP_QUIRKS, ids=[p.stem for p in CLIP_QUIRKS])
def test_quirk_inputs_match_reference_not_mxnet(path):
    """MXNet's CPU operator ignores clipping/lengths; the portable model implements them (reference)."""
    spec, arrays = load_fixture(path)
    lengths = arrays.get("sequence_length") if spec.use_sequence_length else None
    want = reference_outputs(spec, arrays["data"], arrays["parameters"], arrays["state"], arrays["state_cell"], lengths)
    model = export_spec(spec, arrays["parameters"], portable=True)
    got = plain_session(model).run(None, feeds_for(spec, arrays))
    assert_outputs(got, want, 1e-5)


CLIP_CASES = [
    # layers, bidirectional, projection, clip_nan, lengths
    (1, False, None, False, None),
    (1, False, None, True, [4, 0, 2]),
    (2, True, None, True, [6, 1, 3]),
    (1, True, 3, False, [0, 6, 5]),
    (2, False, 3, True, None),
    (3, True, 2, True, [2, 6, 0]),
    (2, True, 4, False, None),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("layers,bidirectional,projection,clip_nan,lengths", CLIP_CASES)
@pytest.mark.parametrize("portable", [True, False], ids=["portable", "function"])
def test_clipping_and_lengths_match_reference(layers, bidirectional, projection, clip_nan, lengths, dtype, portable):
    spec = RNNSpec(
        mode="lstm",
        state_size=5,
        num_layers=layers,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=projection,
        lstm_state_clip_min=-0.3,
        lstm_state_clip_max=0.25,
        lstm_state_clip_nan=clip_nan,
        use_sequence_length=lengths is not None,
    )
    params, data, state, cell = random_case(spec, 6, 3, 4, dtype=dtype, seed=layers + 10 * bool(projection))
    seq = None if lengths is None else np.array(lengths, dtype=np.int32)
    # A NaN cell value (in an element that takes steps): clipped to clip_min with clip_nan, else it propagates.
    cell[0, 0 if seq is None else int(np.argmax(seq)), 2] = np.nan
    want = reference_outputs(spec, data, params, state, cell, seq)
    if clip_nan:
        assert all(np.isfinite(w).all() for w in want)  # the case really exercises the NaN handling
    else:
        assert any(np.isnan(w).any() for w in want)
    model = export_spec(spec, params, portable=portable)
    feeds = {"data": data, "state": state, "state_cell": cell} | ({} if seq is None else {"sequence_length": seq})
    got = plain_session(model).run(None, feeds)
    for g, w in zip(got, want):  # NaN in the same places, finite values equal
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w))
    assert_outputs([np.nan_to_num(g) for g in got], [np.nan_to_num(w) for w in want], TOL[dtype])


def test_float16_runs_on_onnxruntime_cpu():
    spec = RNNSpec(
        mode="lstm",
        state_size=6,
        num_layers=2,
        bidirectional=True,
        state_outputs=True,
        projection_size=3,
        lstm_state_clip_min=-0.5,
        lstm_state_clip_max=0.5,
        use_sequence_length=True,
    )
    params, data, state, cell = random_case(spec, 5, 3, 4, dtype=np.float16, seed=3)
    seq = np.array([5, 2, 0], dtype=np.int32)
    want = reference_outputs(spec, data, params, state, cell, seq)
    for portable in (True, False):
        model = export_spec(spec, params, portable=portable)
        got = plain_session(model).run(None, {"data": data, "state": state, "state_cell": cell, "sequence_length": seq})
        assert all(g.dtype == np.float16 for g in got)
        assert_outputs(got, want, TOL[np.float16])


def test_zero_initial_state_sized_from_the_batch_at_run_time():
    spec = RNNSpec(mode="lstm", state_size=6, bidirectional=True, state_outputs=True, projection_size=2)
    params, data, _, _ = random_case(spec, 4, 5, 3, dtype=np.float64, seed=5)
    session = plain_session(export_spec(spec, params, zero_initial_state=True, portable=True))
    for n in (1, 5):
        got = session.run(None, {"data": data[:, :n]})
        assert_outputs(got, reference_outputs(spec, data[:, :n], params, None, None, None), 1e-12)


# ---------------------------------------------------------------- PyTorch nn.LSTM(proj_size)
def test_matches_pytorch_lstmp():
    torch = pytest.importorskip("torch")
    from test_torch_oracle import torch_module

    spec = RNNSpec(mode="lstm", state_size=8, num_layers=2, bidirectional=True, state_outputs=True, projection_size=3)
    params, data, state, cell = random_case(spec, 7, 4, 5, dtype=np.float64, seed=11)
    with torch.no_grad():
        out, (hy, cy) = torch_module(spec, params, 5)(
            *[torch.from_numpy(a) for a in (data,)], (torch.from_numpy(state), torch.from_numpy(cell))
        )
    got = plain_session(export_spec(spec, params, portable=True)).run(
        None, {"data": data, "state": state, "state_cell": cell}
    )
    assert_outputs(got, [out.numpy(), hy.numpy(), cy.numpy()], 1e-12)


# ---------------------------------------------------------------- onnx.reference.ReferenceEvaluator
@pytest.mark.parametrize("portable", [True, False], ids=["portable", "function"])
@pytest.mark.parametrize(
    "bidirectional,projection,lengths", [(False, 2, None), (True, 3, [3, 0]), (True, None, [1, 4])]
)
def test_onnx_reference_evaluator(bidirectional, projection, lengths, portable):
    spec = RNNSpec(
        mode="lstm",
        state_size=4,
        num_layers=2,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=projection,
        lstm_state_clip_min=-0.2,
        lstm_state_clip_max=0.3,
        lstm_state_clip_nan=True,
        use_sequence_length=lengths is not None,
    )
    params, data, state, cell = random_case(spec, 4, 2, 3, dtype=np.float64, seed=2)
    seq = None if lengths is None else np.array(lengths, dtype=np.int32)
    feeds = {"data": data, "state": state, "state_cell": cell} | ({} if seq is None else {"sequence_length": seq})
    got = ReferenceEvaluator(export_spec(spec, params, portable=portable)).run(None, feeds)
    assert_outputs(got, reference_outputs(spec, data, params, state, cell, seq), 1e-12)


# ---------------------------------------------------------------- graph structure
@pytest.mark.parametrize("opset", [14, 17, onnx.defs.onnx_opset_version()])
def test_portable_graph_is_standard_onnx(opset):
    spec = RNNSpec(
        mode="lstm",
        state_size=5,
        num_layers=2,
        bidirectional=True,
        projection_size=2,
        lstm_state_clip_min=-1.0,
        lstm_state_clip_max=1.0,
        use_sequence_length=True,
    )
    params, data, state, cell = random_case(spec, 3, 2, 4, seed=1)
    model = export_spec(spec, params, portable=True, opset=opset)
    assert [o.domain for o in model.opset_import] == [""]
    assert not model.functions
    counts = op_counts(model.graph)
    assert counts[("ai.onnx", "Scan")] == 2 and counts[("ai.onnx", "LSTM")] == 0
    # The input projection is hoisted: one MatMul per layer and direction outside the loop.
    assert counts[("ai.onnx", "MatMul")] == 2 * 2
    seq = np.array([3, 1], dtype=np.int32)
    got = plain_session(model).run(None, {"data": data, "state": state, "state_cell": cell, "sequence_length": seq})
    assert_outputs(got, reference_outputs(spec, data, params, state, cell, seq), 2e-5)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_standard_layers_untouched(mode):
    """Layers standard ONNX expresses exactly are the same standard nodes in every backend (float32, no lengths)."""
    spec = RNNSpec(mode=mode, state_size=4, num_layers=2, bidirectional=True, state_outputs=True)
    params = random_case(spec, 2, 2, 3)[0]
    plugin = export_spec(spec, params, plugin_only=True)
    for model in (export_spec(spec, params, portable=True), export_spec(spec, params)):
        assert model.graph == plugin.graph
        assert not model.functions


def test_default_is_custom_node_backed_by_function():
    spec = RNNSpec(mode="lstm", state_size=5, num_layers=2, projection_size=2, state_outputs=True)
    params = random_case(spec, 2, 2, 3)[0]
    default, plugin_only = export_spec(spec, params), export_spec(spec, params, plugin_only=True)
    assert [(f.domain, f.name) for f in default.functions] == [(CUSTOM_DOMAIN, "LSTMP")]
    assert not plugin_only.functions
    (function,) = default.functions
    used = {name for node in function.node for name in node.input}
    assert set(function.input) <= used  # no unused formal input (onnxslim would prune it and break the call)
    custom = [n for n in default.graph.node if n.domain == CUSTOM_DOMAIN]
    bare = [n for n in plugin_only.graph.node if n.domain == CUSTOM_DOMAIN]
    assert len(custom) == len(bare) == 2
    for node, plain in zip(custom, bare):
        # Every formal input is given (lengths T and zero states made explicit); the attributes are the same.
        assert len(node.input) == len(function.input) and all(node.input)
        assert node.attribute == plain.attribute and node.op_type == plain.op_type == "LSTMP"


def test_portable_and_plugin_only_exclude_each_other():
    spec = RNNSpec(mode="lstm", state_size=5, projection_size=2)
    with pytest.raises(OnnxRnnError, match="exclude"):
        export_spec(spec, random_case(spec, 2, 2, 3)[0], portable=True, plugin_only=True)


# ---------------------------------------------------------------- with the plugin: its kernel wins
@pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")
def test_plugin_kernel_runs_when_registered_function_when_not(tmp_path):
    spec = RNNSpec(
        mode="lstm",
        state_size=6,
        num_layers=2,
        bidirectional=True,
        state_outputs=True,
        projection_size=3,
        lstm_state_clip_min=-0.3,
        lstm_state_clip_max=0.2,
        lstm_state_clip_nan=True,
        use_sequence_length=True,
    )
    params, data, state, cell = random_case(spec, 5, 3, 4, seed=4)
    seq = np.array([5, 0, 2], dtype=np.int32)
    feeds = {"data": data, "state": state, "state_cell": cell, "sequence_length": seq}
    want = reference_outputs(spec, data, params, state, cell, seq)
    model = export_spec(spec, params)
    for library in (None, library_path()):
        options = ort.SessionOptions()
        if library:
            options.register_custom_ops_library(library)
        options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        assert_outputs(session.run(None, feeds), want, 1e-5)
        counts = op_counts(onnx.load(options.optimized_model_filepath).graph)
        if library:  # the plugin's kernel: the custom nodes stay
            assert counts[(CUSTOM_DOMAIN, "LSTMP")] == 2 and counts[("ai.onnx", "Scan")] == 0
        else:  # no kernel: ONNX Runtime inlined the function body
            assert counts[(CUSTOM_DOMAIN, "LSTMP")] == 0 and counts[("ai.onnx", "Scan")] == 2
