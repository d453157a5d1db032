"""The fallback (standard operators, no plugin) in every configuration and runtime; float64 exactly; tools.

Oracle: the NumPy float64 reference (``onnx_rnn.reference``). This file needs only onnx, onnxruntime and numpy, so
``make test-oldest-ort`` runs it against the oldest ONNX Runtime that pyproject.toml declares.
Where the plugin is built, the plugin's forms are also checked in float64.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx.reference import ReferenceEvaluator

import onnx_rnn
from onnx_rnn.export import GraphBuilder, emit_rnn, export_spec
from onnx_rnn.export.builder import CUSTOM_DOMAIN
from onnx_rnn.reference import run_spec
from onnx_rnn.runtime import copy_session_options, library_path, plugin_available
from onnx_rnn.spec import RNNSpec

T, N, I = 4, 3, 3
LENGTHS = np.array([4, 0, 2], dtype=np.int32)  # a zero length: ReverseSequence before ORT 1.28 zeroes it


def make_case(spec: RNNSpec, dtype=np.float64, seed: int = 0):
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(spec.state_size)
    params = rng.uniform(-scale, scale, spec.param_count(I)).astype(dtype)
    LD = spec.num_layers * spec.directions
    data = rng.standard_normal((T, N, I)).astype(dtype)
    state = (0.5 * rng.standard_normal((LD, N, spec.output_size))).astype(dtype)
    cell = (0.5 * rng.standard_normal((LD, N, spec.state_size))).astype(dtype)
    return params, data, state, cell


def feeds_and_expected(spec: RNNSpec, zero_state: bool, dtype=np.float64, seed: int = 0):
    params, data, state, cell = make_case(spec, dtype, seed)
    feeds = {"data": data}
    if zero_state:
        state = cell = None
    else:
        feeds["state"] = state
        if spec.mode == "lstm":
            feeds["state_cell"] = cell
    lengths = LENGTHS if spec.use_sequence_length else None
    if lengths is not None:
        feeds["sequence_length"] = lengths
    out, hy, cy = run_spec(spec, data, params, state, cell, lengths)
    want = [out] + ([hy] + ([cy] if spec.mode == "lstm" else []) if spec.state_outputs else [])
    return params, feeds, want


def plain_session(model: onnx.ModelProto, library: str | None = None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if library:
        options.register_custom_ops_library(library)
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def max_error(got, want) -> float:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
    return max(
        float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)), initial=0.0)) for g, w in zip(got, want)
    )


CUSTOM = [  # (projection_size, clip)
    (2, None),
    (None, (-0.3, 0.25, True)),
    (2, (-0.3, 0.25, False)),
]


def custom_spec(proj, clip, bidirectional, lengths, layers=2) -> RNNSpec:
    kwargs = {} if clip is None else {"lstm_state_clip_min": clip[0], "lstm_state_clip_max": clip[1]}
    return RNNSpec(
        mode="lstm",
        state_size=4,
        num_layers=layers,
        bidirectional=bidirectional,
        state_outputs=True,
        projection_size=proj,
        lstm_state_clip_nan=bool(clip and clip[2]),
        use_sequence_length=lengths,
        **kwargs,
    )


CONFIGS = list(itertools.product(CUSTOM, [False, True], [False, True], [False, True]))


def config_id(c) -> str:
    (proj, clip), bi, lengths, zero = c
    layer = ("P" if proj else "") + ("C" if clip else "")
    return f"{layer}-{'bi' if bi else 'uni'}{'-len' if lengths else ''}{'-zero' if zero else ''}"


# ------------------------------------------------------------------ every configuration, without the plugin
@pytest.mark.parametrize("config", CONFIGS, ids=[config_id(c) for c in CONFIGS])
@pytest.mark.parametrize("portable", [False, True], ids=["default", "portable"])
def test_fallback_on_onnx_reference_and_ort(config, portable):
    """onnx.reference and ONNX Runtime (no plugin) run both fallback forms exactly (float64)."""
    (proj, clip), bi, lengths, zero = config
    spec = custom_spec(proj, clip, bi, lengths)
    params, feeds, want = feeds_and_expected(spec, zero)
    model = export_spec(spec, params, zero_initial_state=zero, portable=portable)
    assert max_error(ReferenceEvaluator(model).run(None, feeds), want) < 1e-12
    assert max_error(plain_session(model).run(None, feeds), want) < 1e-12


def test_several_configurations_in_one_model_run_everywhere():
    """Differently configured LSTMP operators in one model (an encoder and a decoder): one function (the first
    configuration's), the other layers in standard operators; right on onnx.reference and ORT, plugin or not."""
    first = RNNSpec(mode="lstm", state_size=5, projection_size=2, bidirectional=True)
    second = RNNSpec(mode="lstm", state_size=6, projection_size=3, lstm_state_clip_min=-0.2, lstm_state_clip_max=0.3)
    p1, data = make_case(first, seed=1)[:2]
    p2 = np.random.default_rng(2).uniform(-0.4, 0.4, second.param_count(4))
    builder = GraphBuilder()
    x = builder.add_input("data", np.float64, ["T", "N", I])
    y1 = emit_rnn(builder, first, p1, data=x, backend="function").output
    emit_rnn(builder, first, p1, data=x, backend="function")  # same signature: the same function again
    y2 = emit_rnn(builder, second, p2, data=y1, backend="function").output
    builder.add_output(builder.rename_to_output(y2, "output"), np.float64, ["T", "N", 3])
    builder.check("two")
    model = builder.to_model("two")
    assert [(f.domain, f.name, f.overload) for f in model.functions] == [(CUSTOM_DOMAIN, "LSTMP", "")]
    assert sum(n.domain == CUSTOM_DOMAIN for n in model.graph.node) == 2
    assert model.ir_version <= 8
    want = run_spec(second, run_spec(first, data, p1)[0], p2)[0]
    sessions = [ReferenceEvaluator(model), plain_session(model)]
    if plugin_available():
        sessions.append(plain_session(model, library_path()))
    for session in sessions:
        assert max_error(session.run(None, {"data": data}), [want]) < 1e-12


# --------------------------------------------------------------------------- float64, every mode, every form
MODES = [
    ("lstm", {}),
    ("gru", {}),
    ("rnn_tanh", {}),
    ("rnn_relu", {}),
    ("lstm", {"projection_size": 2}),
    ("lstm", {"lstm_state_clip_min": -0.3, "lstm_state_clip_max": 0.3}),
]
FORMS = {"default": {}, "portable": {"portable": True}, "plugin_only": {"plugin_only": True}}


def mode_id(m) -> str:
    mode, extra = m
    return mode + ("_proj" if "projection_size" in extra else "") + ("_clip" if "lstm_state_clip_min" in extra else "")


@pytest.mark.parametrize("lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("mode", MODES, ids=[mode_id(m) for m in MODES])
def test_float64_is_exact_in_every_mode_and_form(mode, form, bidirectional, lengths):
    """float64 models agree with the float64 reference to 1e-12 on ORT's CPU provider (plugin where needed)."""
    name, extra = mode
    spec = RNNSpec(
        mode=name,
        state_size=4,
        num_layers=2,
        bidirectional=bidirectional,
        state_outputs=True,
        use_sequence_length=lengths,
        **extra,
    )
    params, feeds, want = feeds_and_expected(spec, zero_state=False)
    model = export_spec(spec, params, **FORMS[form])
    if form == "plugin_only" and _has_custom_node(model) and not plugin_available():
        pytest.skip("the onnx-rnn plugin library is not built")
    assert not any(n.op_type in ("LSTM", "GRU", "RNN") and not n.domain for n in model.graph.node)
    library = library_path() if plugin_available() else None
    assert max_error(plain_session(model, library).run(None, feeds), want) < 1e-12


def test_float32_keeps_standard_nodes():
    spec = RNNSpec(mode="gru", state_size=4)
    model = export_spec(spec, make_case(spec, np.float32)[0])
    assert [n.op_type for n in model.graph.node if n.op_type in ("GRU", "Scan")] == ["GRU"]


# ---------------------------------------------------------------------------------- onnx_rnn.InferenceSession
def test_session_options_are_not_changed_and_can_be_reused():
    spec = custom_spec(2, (-0.3, 0.3, False), True, False, layers=1)
    params, feeds, want = feeds_and_expected(spec, zero_state=False)
    model = export_spec(spec, params)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    for _ in range(3):
        session = onnx_rnn.InferenceSession(model, sess_options=options)
        assert max_error(session.run(None, feeds), want) < 1e-12
    copied = copy_session_options(options)
    assert copied.intra_op_num_threads == 1
    assert copied.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    # The caller's options are still usable with stock onnxruntime and carry no onnx_rnn domain.
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


# ----------------------------------------------------------------------------------------- tools around ONNX
def test_onnxslim_keeps_the_fallback_working():
    onnxslim = pytest.importorskip("onnxslim")
    spec = custom_spec(2, (-0.3, 0.25, True), True, True)
    params, feeds, want = feeds_and_expected(spec, zero_state=False)
    slim = onnxslim.slim(export_spec(spec, params))
    assert max_error(plain_session(slim).run(None, feeds), want) < 1e-12


@pytest.mark.parametrize("portable", [False, True], ids=["default", "portable"])
def test_quantize_dynamic_leaves_our_layers_or_quantizes_them_correctly(tmp_path, portable):
    """ORT's dynamic quantizer on a model we write: it loads and runs (plugin or not). The default form's LSTMP
    nodes are left alone (exact); the portable form's input-projection MatMuls are quantized to int8 (its error,
    relative to the largest output value: about 1% on Y, 13% on the final cell state at H=16, P=3, with ORT 1.21
    and 1.32: int8 error of the size ORT's own quantized LSTM makes, test_quantized_scan_is_as_exact_as_...)."""
    from onnxruntime.quantization import quantize_dynamic

    spec = dataclasses.replace(custom_spec(3, (-0.5, 0.5, False), True, True, layers=2), state_size=16)
    params, feeds, want = feeds_and_expected(spec, zero_state=False, dtype=np.float32)
    source, target = tmp_path / "model.onnx", tmp_path / "model.int8.onnx"
    onnx.save(export_spec(spec, params, portable=portable), str(source))
    quantize_dynamic(str(source), str(target))
    quantized = onnx.load(str(target))
    assert not any(n.domain == "com.microsoft" and "LSTM" in n.op_type for n in quantized.graph.node)
    libraries = [None] + ([library_path()] if plugin_available() else [])
    for library in libraries:
        got = plain_session(quantized, library).run(None, feeds)
        scale = max(float(np.abs(w).max()) for w in want)
        assert max_error(got, want) / scale < (0.2 if portable else 1e-6)


@pytest.mark.parametrize("hidden", [16, 64])
def test_quantized_scan_is_as_exact_as_orts_quantized_lstm(tmp_path, hidden):
    """The peer: ORT's own int8 LSTM (quantize_dynamic turns a standard LSTM node into DynamicQuantizeLSTM).
    quantize_dynamic on our Scan decomposition of the same layers and weights (the portable form, lengths given
    as T) errs no more than that node does: the portable form's quantization error is int8's, not ours."""
    from onnxruntime.quantization import quantize_dynamic

    node_spec = RNNSpec(mode="lstm", state_size=hidden, num_layers=2, bidirectional=True, state_outputs=True)
    scan_spec = dataclasses.replace(node_spec, use_sequence_length=True)
    params, feeds, want = feeds_and_expected(node_spec, zero_state=False, dtype=np.float32)
    errors = {}
    for name, spec, form in (("node", node_spec, {}), ("scan", scan_spec, {"portable": True})):
        source, target = tmp_path / f"{name}.onnx", tmp_path / f"{name}.int8.onnx"
        onnx.save(export_spec(spec, params, **form), str(source))
        quantize_dynamic(str(source), str(target))
        ops = {n.op_type for n in onnx.load(str(target)).graph.node}
        assert ("DynamicQuantizeLSTM" in ops) == (name == "node") and ("Scan" in ops) == (name == "scan")
        run_feeds = dict(feeds, sequence_length=np.full(N, T, np.int32)) if name == "scan" else feeds
        got = plain_session(onnx.load(str(target))).run(None, run_feeds)
        errors[name] = max_error(got, want)
    assert 0 < errors["scan"] <= 1.25 * errors["node"], errors


def _has_custom_node(model: onnx.ModelProto) -> bool:
    return any(n.domain == CUSTOM_DOMAIN for n in model.graph.node)


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_with_lengths_no_form_is_misread_by_onnx_reference(mode, form):
    """onnx.reference ignores a standard node's sequence_lens (so does OpenVINO with symbolic shapes), so with
    lengths no form writes one: LSTM layers are our custom op (default: backed by its function; plugin-only: the
    bare node, which onnx.reference refuses), GRU/RNN layers and every portable layer are Scan. Every form is
    right on ONNX Runtime (with the plugin where it has a custom node) and right or refused on onnx.reference."""
    spec = RNNSpec(mode=mode, state_size=4, bidirectional=True, state_outputs=True, use_sequence_length=True)
    params, feeds, want = feeds_and_expected(spec, zero_state=False, dtype=np.float32)
    model = export_spec(spec, params, **FORMS[form])
    assert not any(n.op_type in ("LSTM", "GRU", "RNN") and not n.domain for n in model.graph.node)
    bare = form == "plugin_only" and _has_custom_node(model)
    assert bare == (form == "plugin_only" and mode == "lstm")
    if bare:
        with pytest.raises(Exception, match="LSTMP"):
            ReferenceEvaluator(model).run(None, feeds)
    else:
        assert max_error(ReferenceEvaluator(model).run(None, feeds), want) < 1e-5
        assert max_error(plain_session(model).run(None, feeds), want) < 1e-5
    if _has_custom_node(model) and plugin_available():
        assert max_error(plain_session(model, library_path()).run(None, feeds), want) < 1e-5
