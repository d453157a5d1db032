"""Tests of the CPU kernel of the onnx_rnn.LSTM custom operator (docs/custom_op.md), through ONNX Runtime.

Models are built here with onnx.helper (one node of domain onnx_rnn), so the test depends only on the plugin
library: $ONNX_RNN_CUSTOM_OPS_LIBRARY, else onnx_rnn.library_path(), else build/plugin/libonnx_rnn_ops.so.

Oracles: ONNX Runtime's own LSTM (no projection, no clipping, float32), torch.nn.LSTM (projection; float64
without projection), and a NumPy loop written from the contract (clipping, NaN handling, sequence lengths).
float16 is checked against the float32 kernel on the same (float16-representable) values.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


def _find_library() -> tuple[str | None, str]:
    env = os.environ.get("ONNX_RNN_CUSTOM_OPS_LIBRARY")
    if env:
        if os.path.isfile(env):
            return env, ""
        return None, f"ONNX_RNN_CUSTOM_OPS_LIBRARY={env} does not exist"
    try:
        import onnx_rnn

        path = str(onnx_rnn.library_path())
        if os.path.isfile(path):
            return path, ""
    except Exception:  # noqa: BLE001, S110 - package not importable yet, or OnnxRnnError: library not built
        pass
    dev = REPO / "build" / "plugin" / "libonnx_rnn_ops.so"
    if dev.is_file():
        return str(dev), ""
    return None, (
        "custom-op library not found: set ONNX_RNN_CUSTOM_OPS_LIBRARY, `pip install .`, or build it with "
        "`tools/fetch_ort_headers.sh && cmake -S custom_ops -B build/plugin && cmake --build build/plugin`"
    )


LIB, _WHY = _find_library()
pytestmark = pytest.mark.skipif(LIB is None, reason=_WHY)


def _cpu_paths() -> list[str]:
    """The CPU kernel paths (instruction sets) every test runs with: $ONNX_RNN_TEST_CPU_ISA (comma-separated),
    else every path the library says this CPU can run (custom_ops/src/cpu/gemm_dispatch.h)."""
    chosen = os.environ.get("ONNX_RNN_TEST_CPU_ISA")
    if chosen:
        return chosen.split(",")
    if LIB is None:
        return ["auto"]
    import ctypes

    query = getattr(ctypes.CDLL(LIB), "OnnxRnnCpuKernelPaths", None)
    if query is None:  # a library from before the dispatch
        return ["auto"]
    query.restype = ctypes.c_char_p
    return query().decode().split(",")


@pytest.fixture(autouse=True, params=_cpu_paths())
def cpu_path(request, monkeypatch):
    """Runs the test with the kernel's instruction set forced (read when a session creates its kernels)."""
    monkeypatch.setenv("ONNX_RNN_CPU_ISA", request.param)
    return request.param


INPUTS = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "projection"]
OUTPUTS = ["Y", "Y_h", "Y_c"]
ONNX_TYPE = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.float16): TensorProto.FLOAT16,
}
# float16: computed in float32, only the outputs are rounded (half an ulp is 2^-11 ~ 4.9e-4 relative)
TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12, np.dtype(np.float16): 2e-3}


# ----------------------------------------------------------------------------------------------- model building
def _model(op_type, domain, feeds, attrs, outputs=OUTPUTS, input_types=None):
    """One-node model whose graph inputs are the given feeds (None = omitted optional input)."""
    names = list(INPUTS[: len(feeds)])
    while names and feeds[len(names) - 1] is None:
        names.pop()
    node_inputs = [n if feeds[k] is not None else "" for k, n in enumerate(names)]
    graph_inputs = []
    for k, n in enumerate(names):
        if feeds[k] is None:
            continue
        if input_types and n in input_types:
            et = input_types[n]
        elif feeds[k].dtype == np.int32:
            et = TensorProto.INT32
        elif feeds[k].dtype == np.int64:
            et = TensorProto.INT64
        else:
            et = ONNX_TYPE[feeds[k].dtype]
        graph_inputs.append(helper.make_tensor_value_info(n, et, None))
    out_type = ONNX_TYPE.get(feeds[0].dtype, TensorProto.FLOAT)
    node_outputs = list(outputs)
    while node_outputs and not node_outputs[-1]:
        node_outputs.pop()
    graph_outputs = [helper.make_tensor_value_info(n, out_type, None) for n in node_outputs if n]
    node = helper.make_node(op_type, node_inputs, node_outputs, domain=domain, **attrs)
    graph = helper.make_graph([node], "g", graph_inputs, graph_outputs)
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


def _session(model, threads=2):
    so = ort.SessionOptions()
    so.register_custom_ops_library(LIB)
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def _feed_dict(feeds):
    return {INPUTS[k]: v for k, v in enumerate(feeds) if v is not None}


def run_custom(feeds, attrs, outputs=OUTPUTS, threads=2):
    """Runs onnx_rnn.LSTM; feeds in input order (None = absent). Returns the requested outputs."""
    m = _model("LSTM", "onnx_rnn", feeds, attrs, outputs)
    return _session(m, threads).run(None, _feed_dict(feeds))


def run_ort_native(feeds, attrs):
    m = _model("LSTM", "", feeds[:7], attrs)
    return _session(m).run(None, _feed_dict(feeds[:7]))


# ------------------------------------------------------------------------------------------------------ weights
def make_case(rng, T, N, I, H, P=0, D=1, dtype=np.float32, bias=True, seq=False, h0=True, c0=True, scale=None):
    S = P if P else H
    if scale is None:
        # about the size of trained weights: large random weights make a chaotic recurrence in which float32
        # rounding differences between any two correct implementations grow past 1e-5 within ~20 steps
        scale = min(0.5, 2.0 / np.sqrt(H + I + S))
    f = lambda *s: (rng.standard_normal(s) * scale).astype(dtype)  # noqa: E731
    feeds = [
        f(T, N, I),
        f(D, 4 * H, I),
        f(D, 4 * H, S),
        f(D, 8 * H) if bias else None,
        rng.integers(0, T + 1, size=N).astype(np.int32) if seq else None,
        f(D, N, S) if h0 else None,
        f(D, N, H) if c0 else None,
        f(D, P, H) if P else None,
    ]
    return feeds


# ------------------------------------------------------------------------------------------ NumPy reference loop
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_lstm(feeds, hidden_size, direction="forward", clip=None, clip_nan=0):
    """The contract, restated: per direction, per batch element, step by step, in float64."""
    X, W, R, B, lens, h0, c0, Pw = (None if v is None else np.asarray(v) for v in feeds + [None] * (8 - len(feeds)))
    X = X.astype(np.float64)
    T, N, _ = X.shape
    H = hidden_size
    D = 2 if direction == "bidirectional" else 1
    S = Pw.shape[1] if Pw is not None else H
    Y = np.zeros((T, D, N, S))
    Yh = np.zeros((D, N, S))
    Yc = np.zeros((D, N, H))
    with np.errstate(all="ignore"):
        for d in range(D):
            reverse = direction == "reverse" or (direction == "bidirectional" and d == 1)
            Wd, Rd = W[d].astype(np.float64), R[d].astype(np.float64)
            bias = np.zeros(4 * H) if B is None else B[d, : 4 * H].astype(np.float64) + B[d, 4 * H :]
            for b in range(N):
                L = T if lens is None else int(lens[b])
                h = np.zeros(S) if h0 is None else h0[d, b].astype(np.float64)
                c = np.zeros(H) if c0 is None else c0[d, b].astype(np.float64)
                for t in range(L - 1, -1, -1) if reverse else range(L):
                    g = Wd @ X[t, b] + Rd @ h + bias
                    i, o, f, ct = (
                        _sigmoid(g[:H]),
                        _sigmoid(g[H : 2 * H]),
                        _sigmoid(g[2 * H : 3 * H]),
                        np.tanh(g[3 * H :]),
                    )
                    c = f * c + i * ct
                    if clip is not None:
                        lo, hi = clip
                        c = np.fmin(np.fmax(c, lo), hi) if clip_nan else np.where(c < lo, lo, np.where(c > hi, hi, c))
                    h = o * np.tanh(c)
                    if Pw is not None:
                        h = Pw[d].astype(np.float64) @ h
                    Y[t, d, b] = h
                Yh[d, b] = h
                Yc[d, b] = c
    return Y, Yh, Yc


def assert_close(actual, expected, dtype, what=""):
    tol = TOL[np.dtype(dtype)]
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), expected, rtol=tol, atol=tol, equal_nan=True, err_msg=what
    )


# ---------------------------------------------------------------------------------------- (a) ORT's own LSTM
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize(
    "T,N,I,H,seq,init",
    [(5, 3, 4, 6, False, False), (7, 4, 5, 8, True, True), (3, 1, 2, 3, False, True), (40, 9, 33, 130, True, True)],
)
def test_matches_ort_lstm_float32(direction, T, N, I, H, seq, init):
    rng = np.random.default_rng(T * 100 + H)
    D = 2 if direction == "bidirectional" else 1
    feeds = make_case(rng, T, N, I, H, D=D, seq=seq, h0=init, c0=init)
    if seq:
        feeds[4] = np.maximum(feeds[4], 1)  # ORT's LSTM leaves len 0 out of the comparison; see test below
        feeds[4][0] = T
    attrs = {"hidden_size": H, "direction": direction}
    ours = run_custom(feeds, attrs)
    theirs = run_ort_native(feeds, attrs)
    for name, a, b in zip(OUTPUTS, ours, theirs):
        assert a.shape == b.shape, name
        assert_close(a, b.astype(np.float64), np.float32, name)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_counts_agree(threads):
    rng = np.random.default_rng(7)
    feeds = make_case(rng, 30, 5, 17, 200, P=70, D=2, seq=True)
    attrs = {"hidden_size": 200, "direction": "bidirectional", "clip_min": -1.5, "clip_max": 1.25}
    ref = ref_lstm(feeds, 200, "bidirectional", clip=(-1.5, 1.25))
    for a, b in zip(run_custom(feeds, attrs, threads=threads), ref):
        assert_close(a, b, np.float32)


# ------------------------------------------------------------------------------------------------ (b) PyTorch
torch = None


def _torch():
    global torch
    if torch is None:
        torch = pytest.importorskip("torch")
    return torch


ORT_TO_TORCH_GATES = [0, 2, 3, 1]  # ONNX i, o, f, c -> torch i, f, g, o


def _to_torch_gates(w, H):
    return np.concatenate([w[g * H : (g + 1) * H] for g in ORT_TO_TORCH_GATES], axis=0)


def run_torch(feeds, H, direction, dtype):
    if direction == "reverse":  # torch has no reverse-only LSTM: run forward on the time-reversed input
        y, hn, cn = run_torch([feeds[0][::-1].copy()] + feeds[1:], H, "forward", dtype)
        return y[::-1], hn, cn
    t = _torch()
    X, W, R, B, _, h0, c0, Pw = feeds
    T, N, I = X.shape
    D = 2 if direction == "bidirectional" else 1
    P = Pw.shape[1] if Pw is not None else 0
    S = P or H
    lstm = t.nn.LSTM(I, H, num_layers=1, bidirectional=D == 2, proj_size=P)
    lstm = lstm.to(t.float64 if dtype == np.float64 else t.float32)
    with t.no_grad():
        for d in range(D):
            sfx = "_reverse" if d == 1 else ""
            getattr(lstm, "weight_ih_l0" + sfx).copy_(t.from_numpy(_to_torch_gates(W[d], H)))
            getattr(lstm, "weight_hh_l0" + sfx).copy_(t.from_numpy(_to_torch_gates(R[d], H)))
            b = B[d] if B is not None else np.zeros(8 * H, dtype)
            getattr(lstm, "bias_ih_l0" + sfx).copy_(t.from_numpy(_to_torch_gates(b[: 4 * H], H)))
            getattr(lstm, "bias_hh_l0" + sfx).copy_(t.from_numpy(_to_torch_gates(b[4 * H :], H)))
            if P:
                getattr(lstm, "weight_hr_l0" + sfx).copy_(t.from_numpy(Pw[d]))
        h0t = t.from_numpy(h0 if h0 is not None else np.zeros((D, N, S), dtype))
        c0t = t.from_numpy(c0 if c0 is not None else np.zeros((D, N, H), dtype))
        y, (hn, cn) = lstm(t.from_numpy(X), (h0t, c0t))
    y = y.numpy().reshape(T, N, D, S).transpose(0, 2, 1, 3)
    return y, hn.numpy(), cn.numpy()


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("T,N,I,H,P", [(6, 3, 5, 8, 4), (20, 8, 24, 96, 70), (2, 1, 3, 5, 3)])
def test_projection_matches_torch(dtype, direction, T, N, I, H, P):
    rng = np.random.default_rng(T + N + H + P)
    D = 2 if direction == "bidirectional" else 1
    feeds = make_case(rng, T, N, I, H, P=P, D=D, dtype=dtype)
    ours = run_custom(feeds, {"hidden_size": H, "direction": direction})
    theirs = run_torch(feeds, H, direction, dtype)
    for name, a, b in zip(OUTPUTS, ours, theirs):
        assert a.shape == b.shape, name
        assert_close(a, b.astype(np.float64), dtype, name)


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
def test_float64_no_projection_matches_torch(direction):
    # ONNX Runtime's LSTM has no float64 kernel; torch in float64 is the oracle.
    rng = np.random.default_rng(11)
    D = 2 if direction == "bidirectional" else 1
    feeds = make_case(rng, 9, 4, 6, 70, D=D, dtype=np.float64)
    ours = run_custom(feeds, {"hidden_size": 70, "direction": direction})
    for name, a, b in zip(OUTPUTS, ours, run_torch(feeds, 70, direction, np.float64)):
        assert_close(a, b, np.float64, name)


# --------------------------------------------------------------------- (c) NumPy loop: clipping, NaN, lengths
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("P", [0, 3])
def test_clipping_and_sequence_lengths(dtype, direction, P):
    rng = np.random.default_rng(5 + P)
    D = 2 if direction == "bidirectional" else 1
    T, N, H = 8, 6, 7
    feeds = make_case(rng, T, N, 4, H, P=P, D=D, dtype=dtype, seq=True, scale=1.5)
    feeds[4] = np.array([8, 0, 3, 1, 8, 5], np.int32)
    clip = (-0.75, 0.5)
    attrs = {"hidden_size": H, "direction": direction, "clip_min": clip[0], "clip_max": clip[1]}
    ours = run_custom(feeds, attrs)
    ref = ref_lstm(feeds, H, direction, clip=clip)
    for name, a, b in zip(OUTPUTS, ours, ref):
        assert_close(a, b, dtype, name)
    # clipping is active in this case, and the states of the len-0 element are the initial ones
    stepped = np.delete(ours[2], 1, axis=1)  # element 1 (len 0) keeps its unclipped initial cell
    assert stepped.max() <= clip[1] and stepped.min() >= clip[0]
    assert np.isclose(np.abs(ref[2]), 0.75).any() or np.isclose(ref[2], 0.5).any()
    np.testing.assert_array_equal(ours[1][:, 1], feeds[5][:, 1])
    np.testing.assert_array_equal(ours[2][:, 1], feeds[6][:, 1])
    assert not ours[0][:, :, 1].any()  # Y is zero for every t >= len_b
    assert not ours[0][3:, :, 2].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_nan", [0, 1])
def test_nan_cell_handling(dtype, clip_nan):
    # A NaN initial cell makes c' = f * NaN + i * c~ = NaN at the first step, for the units that have one.
    rng = np.random.default_rng(3)
    T, N, I, H = 4, 3, 5, 6
    feeds = make_case(rng, T, N, I, H, dtype=dtype)
    feeds[6][0, 0, 1] = np.nan
    feeds[6][0, 2, 4] = np.nan
    clip = (-0.25, 0.75)
    attrs = {"hidden_size": H, "clip_min": clip[0], "clip_max": clip[1], "clip_nan": clip_nan}
    ours = run_custom(feeds, attrs)
    ref = ref_lstm(feeds, H, clip=clip, clip_nan=clip_nan)
    for name, a, b in zip(OUTPUTS, ours, ref):
        assert_close(a, b, dtype, name)
    if clip_nan:
        assert not np.isnan(ours[0]).any()
        # after step 0 the NaN cell is clip_min
        first = run_custom([feeds[0][:1]] + feeds[1:], attrs)
        assert first[2][0, 0, 1] == np.asarray(clip[0], dtype)
    else:
        assert np.isnan(ours[2][0, 0, 1]) and np.isnan(ours[0][-1, 0, 0]).all()
        assert not np.isnan(ours[0][:, :, 1]).any()  # batch element 1 has no NaN cell


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_input_propagates(dtype):
    rng = np.random.default_rng(4)
    feeds = make_case(rng, 5, 2, 3, 4, dtype=dtype)
    feeds[0][2, 0, 1] = np.nan
    ours = run_custom(feeds, {"hidden_size": 4})
    assert np.isnan(ours[0][2:, 0, 0]).all() and not np.isnan(ours[0][:2]).any()
    assert not np.isnan(ours[0][:, 0, 1]).any()
    for a, b in zip(ours, ref_lstm(feeds, 4)):
        assert_close(a, b, dtype)


def test_optional_inputs_absent_and_output_subsets():
    rng = np.random.default_rng(9)
    feeds = make_case(rng, 4, 2, 3, 5, P=2, bias=False, h0=False, c0=False)
    ref = ref_lstm(feeds, 5)
    (yh,) = run_custom(feeds, {"hidden_size": 5}, outputs=["", "Y_h"])
    assert_close(yh, ref[1], np.float32)
    (yc,) = run_custom(feeds, {"hidden_size": 5}, outputs=["", "", "Y_c"])
    assert_close(yc, ref[2], np.float32)
    (y,) = run_custom(feeds, {"hidden_size": 5}, outputs=["Y"])
    assert_close(y, ref[0], np.float32)


def test_empty_sequence_and_batch():
    rng = np.random.default_rng(2)
    feeds = make_case(rng, 0, 3, 4, 5, D=2)
    y, yh, yc = run_custom(feeds, {"hidden_size": 5, "direction": "bidirectional"})
    assert y.shape == (0, 2, 3, 5)
    np.testing.assert_array_equal(yh, feeds[5])
    np.testing.assert_array_equal(yc, feeds[6])
    feeds = make_case(rng, 4, 0, 4, 5)
    y, yh, yc = run_custom(feeds, {"hidden_size": 5})
    assert y.shape == (4, 1, 0, 5) and yh.shape == (1, 0, 5)


# ------------------------------------------------------------------------------------------------ (d) errors
def _base(P=0, D=1, dtype=np.float32):
    rng = np.random.default_rng(1)
    return make_case(rng, 4, 3, 5, 6, P=P, D=D, dtype=dtype, seq=True)


def _with(feeds, k, value):
    feeds = list(feeds)
    feeds[k] = value
    return feeds


def _z(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


SHAPE_ERRORS = [
    # (id, projection size, direction, input index, bad value, word the message must contain)
    ("X-rank2", 0, "forward", 0, _z(4, 3), "'X'"),
    ("X-rank4", 0, "forward", 0, _z(4, 3, 5, 1), "'X'"),
    ("W-gates", 0, "forward", 1, _z(1, 20, 5), "'W'"),
    ("W-input", 0, "forward", 1, _z(1, 24, 4), "'W'"),
    ("W-directions", 0, "bidirectional", 1, _z(1, 24, 5), "'W'"),
    ("R-hidden", 0, "forward", 2, _z(1, 24, 5), "'R'"),
    ("R-rank2", 0, "forward", 2, _z(24, 6), "'R'"),
    ("R-not-P", 2, "forward", 2, _z(1, 24, 6), "'R'"),
    ("B-size", 0, "forward", 3, _z(1, 24), "'B'"),
    ("B-rank3", 0, "forward", 3, _z(1, 48, 1), "'B'"),
    ("seq-shape", 0, "forward", 4, np.array([1, 2], np.int32), "'sequence_lens'"),
    ("seq-too-long", 0, "forward", 4, np.array([1, 5, 2], np.int32), "'sequence_lens'"),
    ("seq-negative", 0, "forward", 4, np.array([1, -1, 2], np.int32), "'sequence_lens'"),
    ("h0-batch", 0, "forward", 5, _z(1, 2, 6), "'initial_h'"),
    ("h0-not-P", 2, "forward", 5, _z(1, 3, 6), "'initial_h'"),
    ("h0-directions", 0, "bidirectional", 5, _z(1, 3, 6), "'initial_h'"),
    ("c0-size", 0, "forward", 6, _z(1, 3, 5), "'initial_c'"),
    ("c0-rank2", 0, "forward", 6, _z(3, 6), "'initial_c'"),
    ("proj-hidden", 2, "forward", 7, _z(1, 2, 5), "'projection'"),
    ("proj-rank2", 2, "forward", 7, _z(2, 6), "'projection'"),
    ("proj-directions", 2, "forward", 7, _z(2, 2, 6), "'projection'"),
    ("proj-empty", 2, "forward", 7, _z(1, 0, 6), "'projection'"),
]


@pytest.mark.parametrize("case", SHAPE_ERRORS, ids=[c[0] for c in SHAPE_ERRORS])
def test_bad_input_shape_is_an_error(case):
    _, P, direction, k, value, word = case
    D = 2 if direction == "bidirectional" else 1
    feeds = _with(_base(P=P, D=D), k, value)
    with pytest.raises(Exception) as info:
        run_custom(feeds, {"hidden_size": 6, "direction": direction})
    msg = str(info.value)
    assert word in msg, msg
    if k != 4 or "shape" in case[0]:
        assert "got (" in msg, msg  # the actual shape is named


ATTR_ERRORS = [
    ("direction", {"hidden_size": 6, "direction": "sideways"}, "direction"),
    ("clip-min-only", {"hidden_size": 6, "clip_min": -1.0}, "clip_min"),
    ("clip-max-only", {"hidden_size": 6, "clip_max": 1.0}, "clip_max"),
    ("clip-order", {"hidden_size": 6, "clip_min": 1.0, "clip_max": -1.0}, "clip_min"),
    ("clip-nan-value", {"hidden_size": 6, "clip_min": -1.0, "clip_max": 1.0, "clip_nan": 2}, "clip_nan"),
    ("layout", {"hidden_size": 6, "layout": 1}, "layout"),
    ("hidden-size-zero", {"hidden_size": 0}, "hidden_size"),
    ("hidden-size-missing", {}, "hidden_size"),
    ("hidden-size-mismatch", {"hidden_size": 5}, "'W'"),
]


@pytest.mark.parametrize("case", ATTR_ERRORS, ids=[c[0] for c in ATTR_ERRORS])
def test_bad_attribute_is_an_error(case):
    _, attrs, word = case
    with pytest.raises(Exception) as info:
        run_custom(_base(), attrs)
    assert word in str(info.value), str(info.value)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6])
def test_type_disagreement_is_an_error(k):
    feeds = _base()
    feeds[k] = feeds[k].astype(np.float64)
    with pytest.raises(Exception) as info:  # ONNX Runtime finds no kernel of onnx_rnn.LSTM for mixed types
        run_custom(feeds, {"hidden_size": 6})
    assert "LSTM" in str(info.value), str(info.value)


def test_sequence_lens_int64_is_an_error():
    feeds = _base()
    feeds[4] = feeds[4].astype(np.int64)
    with pytest.raises(Exception) as info:
        run_custom(feeds, {"hidden_size": 6})
    assert "sequence_lens" in str(info.value), str(info.value)


def test_still_healthy_after_errors():
    feeds = _base()
    for a, b in zip(run_custom(feeds, {"hidden_size": 6}), ref_lstm(feeds, 6)):
        assert_close(a, b, np.float32)


# ----------------------------------------------------------------------------------------------- (e) float16
def _as_float16(feeds):
    """float16 copies of the float feeds (int32 sequence_lens as is)."""
    return [v if v is None or v.dtype == np.int32 else v.astype(np.float16) for v in feeds]


def _as_float32(feeds):
    return [v if v is None or v.dtype == np.int32 else v.astype(np.float32) for v in feeds]


FLOAT16_CASES = [
    # (T, N, I, H, P, seq, clip): small; chunk/tile edges (H > 64, P > 64); > 64K elements per tensor (several
    # conversion blocks, and the vector conversion's tail)
    (8, 6, 4, 7, 3, True, True),
    (6, 3, 5, 9, 0, True, True),
    (5, 4, 6, 8, 4, False, False),
    (12, 5, 37, 130, 70, True, True),
    (9, 7, 101, 210, 83, True, False),
]


@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("case", FLOAT16_CASES, ids=[f"T{c[0]}N{c[1]}I{c[2]}H{c[3]}P{c[4]}" for c in FLOAT16_CASES])
def test_float16_matches_float32(direction, case):
    T, N, I, H, P, seq, clip = case
    rng = np.random.default_rng(T * 1000 + H + P)
    D = 2 if direction == "bidirectional" else 1
    feeds16 = _as_float16(make_case(rng, T, N, I, H, P=P, D=D, seq=seq))
    if seq:
        feeds16[4][0] = 0  # a batch element that takes no step
        feeds16[4][-1] = T
    attrs = {"hidden_size": H, "direction": direction}
    if clip:
        attrs |= {"clip_min": -0.3, "clip_max": 0.25}
    ours = run_custom(feeds16, attrs)
    f32 = run_custom(_as_float32(feeds16), attrs)  # the same values, exactly
    ref = ref_lstm(feeds16, H, direction, clip=(-0.3, 0.25) if clip else None)
    S = P or H
    for name, a, b, r, shape in zip(OUTPUTS, ours, f32, ref, [(T, D, N, S), (D, N, S), (D, N, H)]):
        assert a.dtype == np.float16 and a.shape == shape, name
        assert_close(a, b.astype(np.float64), np.float16, name)
        assert_close(a, r, np.float16, name)
        # the float16 kernel is the float32 kernel plus one rounding of the outputs
        np.testing.assert_array_equal(a, b.astype(np.float16), err_msg=name)
    if clip:  # clipping is active in these cases
        stepped = ours[2] if not seq else ours[2][:, feeds16[4] > 0]  # len-0 elements keep their initial cell
        assert stepped.max() <= 0.25 and stepped.min() >= -0.3
        assert (np.isclose(ref[2], 0.25) | np.isclose(ref[2], -0.3)).any()
    if seq:  # element 0 takes no step: zero Y, initial states passed through exactly
        assert not ours[0][:, :, 0].any()
        np.testing.assert_array_equal(ours[1][:, 0], feeds16[5][:, 0])
        np.testing.assert_array_equal(ours[2][:, 0], feeds16[6][:, 0])


@pytest.mark.parametrize("threads", [1, 3])
def test_float16_thread_counts_agree(threads):
    rng = np.random.default_rng(8)
    feeds16 = _as_float16(make_case(rng, 30, 5, 17, 200, P=70, D=2, seq=True))
    attrs = {"hidden_size": 200, "direction": "bidirectional", "clip_min": -1.5, "clip_max": 1.25}
    ours = run_custom(feeds16, attrs, threads=threads)
    for a, b in zip(ours, run_custom(_as_float32(feeds16), attrs, threads=threads)):
        np.testing.assert_array_equal(a, b.astype(np.float16))


@pytest.mark.parametrize("clip_nan", [0, 1])
def test_float16_nan_cell_handling(clip_nan):
    rng = np.random.default_rng(3)
    feeds16 = _as_float16(make_case(rng, 4, 3, 5, 6))
    feeds16[6][0, 0, 1] = np.nan
    attrs = {"hidden_size": 6, "clip_min": -0.25, "clip_max": 0.75, "clip_nan": clip_nan}
    ours = run_custom(feeds16, attrs)
    ref = ref_lstm(feeds16, 6, clip=(-0.25, 0.75), clip_nan=clip_nan)
    for name, a, b in zip(OUTPUTS, ours, ref):
        assert_close(a, b, np.float16, name)
    assert np.isnan(ours[2][0, 0, 1]) == (not clip_nan)


def test_float16_optional_inputs_absent_and_output_subsets():
    rng = np.random.default_rng(9)
    feeds16 = _as_float16(make_case(rng, 4, 2, 3, 5, P=2, bias=False, h0=False, c0=False))
    ref = ref_lstm(feeds16, 5)
    (yh,) = run_custom(feeds16, {"hidden_size": 5}, outputs=["", "Y_h"])
    assert yh.dtype == np.float16
    assert_close(yh, ref[1], np.float16)
    (y,) = run_custom(feeds16, {"hidden_size": 5}, outputs=["Y"])
    assert_close(y, ref[0], np.float16)


def test_float16_empty_sequence():
    rng = np.random.default_rng(2)
    feeds16 = _as_float16(make_case(rng, 0, 3, 4, 5, P=2, D=2))
    y, yh, yc = run_custom(feeds16, {"hidden_size": 5, "direction": "bidirectional"})
    assert y.shape == (0, 2, 3, 2) and y.dtype == np.float16
    np.testing.assert_array_equal(yh, feeds16[5])
    np.testing.assert_array_equal(yc, feeds16[6])


@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 7])
def test_float16_type_disagreement_is_an_error(k):
    feeds16 = _as_float16(_base(P=2))
    feeds16[k] = feeds16[k].astype(np.float32)
    with pytest.raises(Exception) as info:
        run_custom(feeds16, {"hidden_size": 6})
    assert "LSTM" in str(info.value), str(info.value)


@pytest.mark.parametrize("case", SHAPE_ERRORS[:6], ids=[c[0] for c in SHAPE_ERRORS[:6]])
def test_float16_bad_input_shape_is_an_error(case):
    _, P, direction, k, value, word = case
    D = 2 if direction == "bidirectional" else 1
    feeds16 = _as_float16(_with(_base(P=P, D=D), k, value))
    with pytest.raises(Exception) as info:
        run_custom(feeds16, {"hidden_size": 6, "direction": direction})
    assert word in str(info.value) and "got (" in str(info.value), str(info.value)


# ------------------------------------------------------------------ (f) constant weights: packed at creation
# W, R, B and the projection, when they are initializers, are packed once when the kernel is created; graph
# inputs are packed on every call. Both paths must give the same outputs, bit for bit.
def _const_model(feeds, attrs, const, outputs=OUTPUTS):
    """Like _model, with the inputs at the indices in `const` stored as initializers instead of graph inputs."""
    m = _model("LSTM", "onnx_rnn", feeds, attrs, outputs)
    names = {INPUTS[k] for k in const if feeds[k] is not None}
    kept = [i for i in m.graph.input if i.name not in names]
    del m.graph.input[:]
    m.graph.input.extend(kept)
    for k in sorted(const):
        if feeds[k] is not None:
            m.graph.initializer.append(onnx.numpy_helper.from_array(feeds[k], INPUTS[k]))
    return m


def _const_feeds(feeds, const):
    return {INPUTS[k]: v for k, v in enumerate(feeds) if v is not None and k not in const}


CONST_SETS = {"all": (1, 2, 3, 7), "W-R": (1, 2), "B-P": (3, 7), "R": (2,)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("const", list(CONST_SETS), ids=list(CONST_SETS))
@pytest.mark.parametrize("direction,P,bias", [("forward", 70, True), ("bidirectional", 0, True), ("reverse", 5, False)])
def test_constant_weights_match_graph_inputs(dtype, const, direction, P, bias):
    rng = np.random.default_rng(21 + P)
    D = 2 if direction == "bidirectional" else 1
    H = 130  # three unit chunks, the last one partial
    feeds = make_case(rng, 6, 3, 9, H, P=P, D=D, seq=True, bias=bias)
    feeds = (
        _as_float16(feeds)
        if dtype == np.float16
        else [v if v is None or v.dtype == np.int32 else v.astype(dtype) for v in feeds]
    )
    attrs = {"hidden_size": H, "direction": direction, "clip_min": -0.6, "clip_max": 0.55}
    expected = _session(_model("LSTM", "onnx_rnn", feeds, attrs)).run(None, _feed_dict(feeds))
    ks = set(CONST_SETS[const])
    session = _session(_const_model(feeds, attrs, ks))
    for _ in range(2):  # the packs are reused by every call
        got = session.run(None, _const_feeds(feeds, ks))
        for name, a, b in zip(OUTPUTS, got, expected):
            np.testing.assert_array_equal(a, b, err_msg=name)
    ref = ref_lstm(feeds, H, direction, clip=(-0.6, 0.55))
    for name, a, r in zip(OUTPUTS, got, ref):
        assert_close(a, r, dtype, name)


def test_constant_weights_other_batch_and_length_per_call():
    # One kernel, packed once, serves calls of any T and N.
    rng = np.random.default_rng(22)
    attrs = {"hidden_size": 70, "direction": "bidirectional"}
    base = make_case(rng, 5, 2, 7, 70, P=30, D=2)
    session = _session(_const_model(base, attrs, {1, 2, 3, 7}))
    for T, N in [(5, 2), (1, 1), (9, 6), (0, 3), (3, 0)]:
        feeds = make_case(rng, T, N, 7, 70, P=30, D=2)
        feeds[1], feeds[2], feeds[3], feeds[7] = base[1], base[2], base[3], base[7]
        got = session.run(None, _const_feeds(feeds, {1, 2, 3, 7}))
        for name, a, r in zip(OUTPUTS, got, ref_lstm(feeds, 70, "bidirectional")):
            assert_close(a, r, np.float32, f"T={T} N={N} {name}")


BAD_CONSTANTS = [
    # (id, input index, bad constant, word of the message): a bad initializer is an error status, never a crash
    ("W-gates", 1, _z(1, 20, 5), "'W'"),
    ("W-rank2", 1, _z(24, 5), "'W'"),
    ("W-input", 1, _z(1, 24, 4), "'W'"),
    ("R-not-P", 2, _z(1, 24, 6), "'R'"),
    ("R-rank4", 2, _z(1, 24, 2, 1), "'R'"),
    ("B-size", 3, _z(1, 40), "'B'"),
    ("proj-hidden", 7, _z(1, 2, 5), "'projection'"),
    ("proj-empty", 7, _z(1, 0, 6), "'projection'"),
]


@pytest.mark.parametrize("case", BAD_CONSTANTS, ids=[c[0] for c in BAD_CONSTANTS])
def test_bad_constant_weight_is_an_error(case):
    _, k, value, word = case
    feeds = _with(_base(P=2), k, value)
    with pytest.raises(Exception) as info:
        _session(_const_model(feeds, {"hidden_size": 6}, {1, 2, 3, 7})).run(None, _const_feeds(feeds, {1, 2, 3, 7}))
    assert word in str(info.value), str(info.value)


# ------------------------------------------------------------------------------- (g) concurrent run() calls
@pytest.mark.parametrize("constant", [True, False], ids=["initializers", "graph-inputs"])
def test_concurrent_runs_on_one_session(constant):
    # ONNX Runtime may call one kernel instance from several threads at once: the packs made at creation are
    # shared read-only, everything else is per call.
    import threading

    rng = np.random.default_rng(23)
    H, P, attrs = 150, 40, {"hidden_size": 150, "clip_min": -0.7, "clip_max": 0.7}
    weights = make_case(rng, 4, 3, 11, H, P=P, seq=True)
    const = {1, 2, 3, 7} if constant else set()
    session = _session(_const_model(weights, attrs, const), threads=2)
    cases = []
    for i in range(8):
        T, N = 3 + i % 4, 1 + i % 3
        feeds = make_case(rng, T, N, 11, H, P=P, seq=True)
        if i % 2:
            feeds[4][:] = T
        feeds[1], feeds[2], feeds[3], feeds[7] = weights[1], weights[2], weights[3], weights[7]
        cases.append(feeds)
    expected = [session.run(None, _const_feeds(f, const)) for f in cases]
    results: dict[int, list] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(cases))

    def work(i):
        try:
            start.wait()
            for _ in range(5):
                out = session.run(None, _const_feeds(cases[i], const))
                for a, b in zip(out, expected[i]):
                    np.testing.assert_array_equal(a, b)
            results[i] = out
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    for i, feeds in enumerate(cases):
        for name, a, r in zip(OUTPUTS, results[i], ref_lstm(feeds, H, clip=(-0.7, 0.7))):
            assert_close(a, r, np.float32, f"case {i} {name}")


# ---------------------------------------------------------------------------------------------- (h) streaming
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("P", [0, 48])
def test_streaming_one_step_per_call_equals_whole_sequence(dtype, P):
    # T calls of one time step, (Y_h, Y_c) fed back as (initial_h, initial_c), equal one call over T steps.
    rng = np.random.default_rng(24 + P)
    T, N, I, H = 12, 3, 10, 130
    feeds = [v if v is None else v.astype(dtype) for v in make_case(rng, T, N, I, H, P=P)]
    attrs = {"hidden_size": H, "clip_min": -0.8, "clip_max": 0.8}
    const = {1, 2, 3, 7}
    session = _session(_const_model(feeds, attrs, const))
    y, yh, yc = session.run(None, _const_feeds(feeds, const))
    h, c = feeds[5], feeds[6]
    for t in range(T):
        step = list(feeds)
        step[0], step[5], step[6] = feeds[0][t : t + 1], h, c
        y_t, h, c = session.run(None, _const_feeds(step, const))
        assert y_t.shape == (1, 1, N, P or H)
        assert_close(y_t[0], y[t].astype(np.float64), dtype, f"Y[{t}]")
    assert_close(h, yh.astype(np.float64), dtype, "Y_h")
    assert_close(c, yc.astype(np.float64), dtype, "Y_c")
    for name, a, r in zip(OUTPUTS, (y, yh, yc), ref_lstm(feeds, H, clip=(-0.8, 0.8))):
        assert_close(a, r, dtype, name)
