"""Contract v2 of the custom op (onnx_rnn.LSTMP, docs/custom_op.md): strict attributes, versions, v1 models.

Oracles: ONNX's own LSTM node test cases (``onnx.backend.test.case.node.lstm``: their expected outputs come from
ONNX's NumPy LSTM), and the plugin's v1 op (``onnx_rnn.LSTM``) for the same node. Kernel messages are checked
through a plain ``onnxruntime`` session (no Python-side check); the Python-side check through
``onnx_rnn.InferenceSession``.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import onnx_rnn
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.export.contract import check_custom_nodes
from onnx_rnn.runtime import library_path, plugin_available

needs_plugin = pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")
D, N, T, I, H = 1, 2, 3, 4, 5


def lstmp_model(attrs: dict, *, op_type: str = "LSTMP", version: int = 2, peepholes: bool = False) -> onnx.ModelProto:
    """One onnx_rnn node over X, W, R, B (and ONNX-style peepholes P (D, 3H) at input 7)."""
    inputs = ["X", "W", "R", "B"] + (["", "", "", "P"] if peepholes else [])
    node = helper.make_node(op_type, inputs, ["Y", "Y_h", "Y_c"], domain="onnx_rnn", name="layer", **attrs)
    shapes = {"X": [T, N, I], "W": [D, 4 * H, I], "R": [D, 4 * H, H], "B": [D, 8 * H], "P": [D, 3 * H]}
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shapes[n]) for n in inputs if n],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("Y", "Y_h", "Y_c")],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("onnx_rnn", version)], ir_version=8
    )


def feeds(peepholes: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {
        "X": rng.standard_normal((T, N, I)),
        "W": 0.4 * rng.standard_normal((D, 4 * H, I)),
        "R": 0.4 * rng.standard_normal((D, 4 * H, H)),
        "B": 0.1 * rng.standard_normal((D, 8 * H)),
    }
    if peepholes:
        out["P"] = rng.standard_normal((D, 3 * H))
    return {k: v.astype(np.float32) for k, v in out.items()}


def raw_session(model: onnx.ModelProto) -> ort.InferenceSession:
    """The plugin registered on stock onnxruntime: only the kernel's own checks apply."""
    options = ort.SessionOptions()
    options.register_custom_ops_library(library_path())
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def kernel_error(model: onnx.ModelProto, peepholes: bool = False) -> str:
    with pytest.raises(Exception) as info:
        raw_session(model).run(None, feeds(peepholes))
    return str(info.value)


# ------------------------------------------------------------------------------------ strict attribute types
WRONG_TYPES = [
    ({"hidden_size": H, "clip_min": 0, "clip_max": 0}, "clip_min", "FLOAT"),  # Python ints make INT attributes
    ({"hidden_size": H, "direction": 1}, "direction", "STRING"),
    ({"hidden_size": H, "layout": 1.0}, "layout", "INT"),
    ({"hidden_size": H, "clip_min": -1.0, "clip_max": 1.0, "clip_nan": 1.0}, "clip_nan", "INT"),
    ({"hidden_size": float(H)}, "hidden_size", "INT"),
]


@needs_plugin
@pytest.mark.parametrize("attrs,name,want", WRONG_TYPES, ids=[w[1] for w in WRONG_TYPES])
def test_kernel_refuses_an_attribute_of_the_wrong_type(attrs, name, want):
    message = kernel_error(lstmp_model(attrs))
    assert f"attribute '{name}' must be {want}" in message, message


UNIMPLEMENTED = [
    {"activations": ["Sigmoid", "Tanh", "Tanh"]},
    {"activation_alpha": [1.0]},
    {"activation_beta": [0.0]},
    {"clip": 3.0},
    {"input_forget": 0},
]


@needs_plugin
@pytest.mark.parametrize("extra", UNIMPLEMENTED, ids=[next(iter(e)) for e in UNIMPLEMENTED])
def test_kernel_refuses_onnx_lstm_attributes_it_does_not_implement(extra):
    name = next(iter(extra))
    message = kernel_error(lstmp_model({"hidden_size": H, **extra}))
    assert f"attribute '{name}'" in message and "not implemented" in message, message


@needs_plugin
def test_kernel_refuses_peepholes_naming_them():
    message = kernel_error(lstmp_model({"hidden_size": H}, peepholes=True), peepholes=True)
    assert "peephole" in message, message


@needs_plugin
@pytest.mark.parametrize("hidden_size", [2**62, 2**31, 0, -1])
def test_kernel_bounds_hidden_size(hidden_size):
    message = kernel_error(lstmp_model({"hidden_size": hidden_size}))
    assert "'hidden_size' must be an integer in [1, 2147483647]" in message, message


@needs_plugin
def test_lstmp_does_not_exist_at_opset_1():
    with pytest.raises(Exception) as info:
        raw_session(lstmp_model({"hidden_size": H}, op_type="LSTMP", version=1)).run(None, feeds())
    assert "LSTMP" in str(info.value), str(info.value)


@needs_plugin
def test_v1_models_still_load_and_agree_with_v2():
    """A model written by onnx-rnn before contract v2 (onnx_rnn.LSTM at opset 1) runs as before."""
    attrs = {"hidden_size": H, "clip_min": -0.3, "clip_max": 0.4, "clip_nan": 1}
    v1 = raw_session(lstmp_model(attrs, op_type="LSTM", version=1)).run(None, feeds())
    v2 = raw_session(lstmp_model(attrs)).run(None, feeds())
    for a, b in zip(v1, v2):
        np.testing.assert_array_equal(a, b)
    assert np.abs(v2[2]).max() <= 0.4 + 1e-7  # the clip is honoured (with float attributes)


# ------------------------------------------------------------------------- the Python-side check (any name)
@pytest.mark.parametrize(
    "attrs,needle",
    [
        ({"hidden_size": H, "hidden_sise": 3}, "unknown attribute 'hidden_sise'"),
        ({"hidden_size": H, "clip_min": 0, "clip_max": 0}, "must be FLOAT, got INT"),
        ({"hidden_size": H, "clip": 1.0}, "'clip' (of ONNX's LSTM) is not implemented"),
    ],
)
def test_inference_session_refuses_what_the_kernel_cannot_see(attrs, needle):
    with pytest.raises(OnnxRnnError, match=None) as info:
        onnx_rnn.InferenceSession(lstmp_model(attrs))
    assert needle in str(info.value)


def test_inference_session_refuses_an_unsupported_domain_version():
    with pytest.raises(OnnxRnnError, match="onnx_rnn opset version 3"):
        check_custom_nodes(lstmp_model({"hidden_size": H}, version=3))
    with pytest.raises(OnnxRnnError, match="has op type 'LSTMP' only"):
        check_custom_nodes(lstmp_model({"hidden_size": H}, op_type="LSTM", version=2))


# ----------------------------------------------------------------------------------- ONNX's LSTM node tests
def onnx_lstm_cases() -> list[tuple[str, onnx.NodeProto, list, list]]:
    """ONNX's LSTM node test cases (node, inputs, expected outputs), captured from their ``export_*`` methods."""
    from onnx.backend.test.case.node import lstm

    captured = []

    def expect(node, inputs, outputs, name, **_):
        captured.append((name, node, inputs, outputs))

    saved, lstm.expect = lstm.expect, expect
    try:
        for attr in sorted(dir(lstm.LSTM)):
            if attr.startswith("export"):
                getattr(lstm.LSTM, attr)()
    finally:
        lstm.expect = saved
    return captured


CASES = onnx_lstm_cases()
REFUSED = {"test_lstm_with_peepholes": "peephole", "test_lstm_batchwise": "layout"}


def test_onnx_cases_found():
    assert {"test_lstm_defaults", "test_lstm_with_initial_bias"} <= {c[0] for c in CASES}
    assert set(REFUSED) <= {c[0] for c in CASES}


@needs_plugin
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_onnx_lstm_node_cases(case):
    """The cases the kernel implements match ONNX's expected outputs; the others are refused, naming why."""
    name, node, inputs, outputs = case
    ours = onnx.NodeProto()
    ours.CopyFrom(node)
    ours.op_type, ours.domain = "LSTMP", "onnx_rnn"
    names = [n for n in ours.input if n]
    graph = helper.make_graph(
        [ours],
        name,
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in zip(names, inputs)
        ],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ours.output if n],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("onnx_rnn", 2)], ir_version=8
    )
    run = lambda: raw_session(model).run(None, dict(zip(names, inputs)))  # noqa: E731
    if name in REFUSED:
        with pytest.raises(Exception) as info:
            run()
        assert REFUSED[name] in str(info.value), str(info.value)
        return
    for got, want in zip(run(), outputs):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ the op type name
def test_lstmp_is_no_onnx_or_onnxruntime_operator():
    """Tools that ignore domains must not take our op for a known one (v1's LSTM was ONNX's LSTM)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_c

    onnx_names = {s.name for s in onnx.defs.get_all_schemas_with_history()}
    ort_names = {s.name for s in ort_c.get_all_operator_schema()}  # ai.onnx, ai.onnx.ml, com.microsoft, ...
    assert "LSTM" in onnx_names and "DynamicQuantizeLSTM" in ort_names
    assert "LSTMP" not in onnx_names | ort_names


@needs_plugin
def test_kernel_refuses_t_beyond_int32():
    """T = 2^31 (with an empty batch, so nothing is allocated) is refused, not run as int32(T) steps."""
    model = lstmp_model({"hidden_size": H})
    for dim, symbol in zip(model.graph.input[0].type.tensor_type.shape.dim, ("T", "N", "I")):
        dim.dim_param = symbol
    x = np.zeros((2**31, 0, I), dtype=np.float32)
    with pytest.raises(Exception) as info:
        raw_session(model).run(None, {**feeds(), "X": x})
    assert "dimension above 2147483647" in str(info.value), str(info.value)
