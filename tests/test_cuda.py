"""The CUDA path: the plugin's CUDA kernel and standard nodes on ONNX Runtime's CUDAExecutionProvider.

Tests marked ``gpu`` need onnxruntime-gpu (docs/gpu.md), an NVIDIA GPU and a plugin built with its
CUDA kernel (nvcc + cuBLAS at build time); without any of these they skip and say which is missing. The other
tests run everywhere: which providers the plugin reports, and the clear error when CUDA is asked for where there
is none.

Oracles: MXNet 1.9.1's outputs (committed fixtures) for standard nodes and projection; the NumPy reference
(``onnx_rnn.reference.run_spec``, float64) for clipping, NaN handling, sequence lengths and float16.
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import onnx_rnn
from conftest import RNN_FIXTURES, expected_outputs, feeds_for, load_fixture, random_case
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.export import export_spec
from onnx_rnn.reference import run_spec
from onnx_rnn.runtime import library_path, plugin_available, plugin_providers
from onnx_rnn.spec import RNNSpec

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
CUDA_LIBRARY = "libonnx_rnn_ops_cuda.so"
# Strict float32 on the GPU: ORT's CUDA provider may otherwise use TF32 for its own MatMul/cuDNN work. The
# plugin's kernel always computes float32 GEMMs in float32 (CUBLAS_COMPUTE_32F, no TF32).
CUDA_PROVIDERS = [(CUDA, {"use_tf32": "0"}), CPU]

needs_plugin = pytest.mark.skipif(not plugin_available(), reason="the onnx-rnn plugin library is not built")


def _cuda_status() -> str:
    lib = ctypes.CDLL(library_path())
    query = getattr(lib, "OnnxRnnPluginCudaStatus", None)
    if query is None:
        return "(this plugin predates OnnxRnnPluginCudaStatus)"
    query.restype = ctypes.c_char_p
    return query().decode()


@functools.cache
def _why_no_cuda() -> str | None:
    """None when the CUDA path can run here, else why not."""
    import onnxruntime as ort

    if CUDA not in ort.get_available_providers():
        return (
            f"onnxruntime {ort.__version__} has no {CUDA} (install onnxruntime-gpu as docs/gpu.md says, on a machine with an "
            "NVIDIA GPU; see docs/gpu.md)"
        )
    if not plugin_available():
        return "the onnx-rnn plugin library is not built"
    if CUDA not in plugin_providers():
        return f"the plugin serves no CUDA kernel: {_cuda_status()}"
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    probe = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe", [x], [y]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    try:
        session = ort.InferenceSession(probe.SerializeToString(), providers=[CUDA])
        session.run(None, {"x": np.ones(2, np.float32)})
    except Exception as error:  # noqa: BLE001 - any failure means no usable GPU
        return f"no usable GPU: {' '.join(str(error).split())[:300]}"
    if session.get_providers()[0] != CUDA:
        return "no usable GPU: ONNX Runtime fell back to the CPU"
    return None


@pytest.fixture
def cuda():
    why = _why_no_cuda()
    if why:
        pytest.skip(why)


def _session(model: onnx.ModelProto, tmp_path: Path | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if tmp_path is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(tmp_path / "profile")
    return onnx_rnn.InferenceSession(model, options, providers=CUDA_PROVIDERS)


def _assert_custom_nodes_on_cuda(model: onnx.ModelProto, session) -> None:
    """Every onnx_rnn node of the model ran on CUDA, as ONNX Runtime's profile records it."""
    names = {n.name for n in model.graph.node if n.domain == "onnx_rnn"}
    assert names and all(names), "the model must have named onnx_rnn nodes"
    events = json.loads(Path(session.end_profiling()).read_text())
    ran = {}
    for event in events:
        args = event.get("args") or {}
        node = event.get("name", "").removesuffix("_kernel_time")
        if event.get("cat") == "Node" and node in names and "provider" in args:
            ran.setdefault(node, set()).add(args["provider"])
    assert ran.keys() == names, f"no profile record for {names - ran.keys()}"
    assert all(p == {CUDA} for p in ran.values()), ran


def _close(got, want, rtol, atol, equal_nan=False):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(
            g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol, equal_nan=equal_nan
        )


# ------------------------------------------------------------------------------------------- runs everywhere
@needs_plugin
def test_plugin_reports_cpu():
    served = plugin_providers()
    assert served[0] == CPU and set(served) <= {CPU, CUDA}


@needs_plugin
def test_cuda_reported_iff_its_library_loads():
    """CUDA is reported exactly when libonnx_rnn_ops_cuda.so was built beside the plugin and can be loaded."""
    cuda_library = Path(library_path()).parent / CUDA_LIBRARY
    status = _cuda_status()
    if os.environ.get("ONNX_RNN_DISABLE_CUDA", "0") not in ("", "0"):
        assert plugin_providers() == [CPU] and "disabled" in status
        return
    if not cuda_library.is_file():
        assert plugin_providers() == [CPU]
        assert status.startswith("not built"), status
        return
    if status.startswith("not loaded: "):  # built, but the driver reports no usable device
        assert plugin_providers() == [CPU]
        return
    try:
        ctypes.CDLL(str(cuda_library))
        loadable = True
    except OSError:
        loadable = False
    assert (CUDA in plugin_providers()) == loadable, status
    assert status.startswith("loaded " if loadable else "cannot load "), status


@needs_plugin
def test_no_cuda_library_mapped_without_a_device():
    """Registering the plugin where the driver reports no usable GPU maps neither our CUDA library nor cuBLAS."""
    if not _cuda_status().startswith("not loaded: "):
        pytest.skip(f"this machine's CUDA status: {_cuda_status()}")
    code = (
        "import onnxruntime as ort; from onnx_rnn.runtime import library_path; "
        "so = ort.SessionOptions(); so.register_custom_ops_library(library_path()); "
        "print(open('/proc/self/maps').read())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert CUDA_LIBRARY not in done.stdout and "libcublas" not in done.stdout


@needs_plugin
def test_cuda_can_be_switched_off():
    code = "from onnx_rnn.runtime import plugin_providers; print(','.join(plugin_providers()))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"ONNX_RNN_DISABLE_CUDA": "1"},
    )
    assert done.stdout.strip() == CPU


@needs_plugin
def test_cpu_sessions_unaffected_by_cuda_registration():
    """The CUDA kernels registered beside the CPU ones change nothing for a CPU session."""
    spec = RNNSpec(
        mode="lstm",
        state_size=6,
        num_layers=1,
        bidirectional=True,
        state_outputs=True,
        projection_size=3,
        lstm_state_clip_min=-0.4,
        lstm_state_clip_max=0.5,
    )
    params, data, state, cell = random_case(spec, T=4, N=2, I=5)
    session = onnx_rnn.InferenceSession(export_spec(spec, params, plugin_only=True), providers=[CPU])
    assert session.get_providers() == [CPU]
    got = session.run(None, {"data": data, "state": state, "state_cell": cell})
    _close(got, run_spec(spec, data, params, state, cell), rtol=1e-5, atol=1e-5)


def test_bench_cuda_where_unavailable(capsys):
    import onnxruntime as ort

    if CUDA in ort.get_available_providers():
        pytest.skip("CUDA is available here")
    from onnx_rnn.cli import main

    code = main(["bench", "--provider", "cuda", "--workload", "lstm-stream", "--repeat", "1", "--no-mxnet"])
    assert code != 0
    err = capsys.readouterr().err
    assert "CUDAExecutionProvider not available" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------------ on a GPU
FLOAT32_FIXTURES = [p for p in RNN_FIXTURES if "float32" in p.name]


@pytest.mark.gpu
@pytest.mark.parametrize("path", FLOAT32_FIXTURES, ids=[p.stem for p in FLOAT32_FIXTURES])
def test_fixture_on_cuda(cuda, path):
    """Standard nodes (cuDNN through ORT) and the custom op (projection) against MXNet's outputs."""
    spec, arrays = load_fixture(path)
    model = export_spec(spec, arrays["parameters"], plugin_only=spec.needs_custom_lstm)
    session = _session(model)
    assert session.get_providers()[0] == CUDA
    _close(session.run(None, feeds_for(spec, arrays)), expected_outputs(spec, arrays), rtol=1e-4, atol=1e-4)


CUSTOM_CASES = {
    # name: (spec arguments, T, N, I, sequence lengths or None)
    "proj": (dict(projection_size=3), 6, 3, 5, None),
    "proj_bi_2layers": (dict(projection_size=4, bidirectional=True, num_layers=2), 7, 3, 5, None),
    "clip": (dict(lstm_state_clip_min=-0.3, lstm_state_clip_max=0.25), 6, 3, 4, None),
    "clip_bi_seqlen": (
        dict(lstm_state_clip_min=-0.3, lstm_state_clip_max=0.25, bidirectional=True, use_sequence_length=True),
        7,
        4,
        5,
        [7, 0, 1, 4],
    ),
    "proj_clip_bi_seqlen_2layers": (
        dict(
            projection_size=4,
            lstm_state_clip_min=-0.5,
            lstm_state_clip_max=0.4,
            bidirectional=True,
            num_layers=2,
            use_sequence_length=True,
        ),
        9,
        4,
        6,
        [9, 3, 0, 8],
    ),
    "proj_wide": (dict(projection_size=40, num_layers=1), 12, 5, 33, None),
}


def _custom_case(name: str, dtype=np.float32):
    args, T, N, I, lens = CUSTOM_CASES[name]
    H = 64 if name == "proj_wide" else 8
    spec = RNNSpec(mode="lstm", state_size=H, state_outputs=True, **args)
    params, data, state, cell = random_case(spec, T, N, I, dtype=dtype, seed=7)
    feeds = {"data": data, "state": state, "state_cell": cell}
    if lens is not None:
        feeds["sequence_length"] = np.array(lens, np.int32)
    return spec, params, feeds


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(CUSTOM_CASES))
def test_custom_lstm_on_cuda(cuda, tmp_path, name):
    spec, params, feeds = _custom_case(name)
    model = export_spec(spec, params, plugin_only=True)
    session = _session(model, tmp_path)
    got = session.run(None, feeds)
    _assert_custom_nodes_on_cuda(model, session)
    want = run_spec(spec, feeds["data"], params, feeds["state"], feeds["state_cell"], feeds.get("sequence_length"))
    _close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("clip_nan", [False, True])
def test_clip_nan_on_cuda(cuda, clip_nan):
    spec = RNNSpec(
        mode="lstm",
        state_size=8,
        state_outputs=True,
        bidirectional=True,
        lstm_state_clip_min=-0.3,
        lstm_state_clip_max=0.3,
        lstm_state_clip_nan=clip_nan,
    )
    params, data, state, cell = random_case(spec, T=5, N=3, I=4, seed=3)
    data[2, 1, :] = np.inf  # +inf input: inf - inf in the gates makes NaN cell values for batch row 1
    cell[:, 2, 0] = np.nan  # and a NaN initial cell value for row 2
    session = _session(export_spec(spec, params, plugin_only=True))
    want = run_spec(spec, data, params, state, cell)
    _close(session.run(None, {"data": data, "state": state, "state_cell": cell}), want, 1e-5, 1e-5, equal_nan=True)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["proj_clip_bi_seqlen_2layers", "proj_wide", "clip"])
def test_custom_lstm_float16_on_cuda(cuda, tmp_path, name):
    """float16 weights and data, float32 accumulation inside the kernel; the reference computes in float64."""
    spec, params, feeds = _custom_case(name, dtype=np.float16)
    model = export_spec(spec, params, plugin_only=True)
    session = _session(model, tmp_path)
    got = session.run(None, feeds)
    _assert_custom_nodes_on_cuda(model, session)
    want = run_spec(spec, feeds["data"], params, feeds["state"], feeds["state_cell"], feeds.get("sequence_length"))
    _close(got, want, rtol=2e-3, atol=2e-3)


@pytest.mark.gpu
@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_standard_nodes_float16_on_cuda(cuda, mode):
    spec = RNNSpec(mode=mode, state_size=16, num_layers=2, bidirectional=True, state_outputs=True)
    params, data, state, cell = random_case(spec, T=6, N=3, I=8, dtype=np.float16, seed=5)
    feeds = {"data": data, "state": state} | ({"state_cell": cell} if mode == "lstm" else {})
    session = _session(export_spec(spec, params))
    want = run_spec(spec, data, params, state, cell if mode == "lstm" else None)
    _close(session.run(None, feeds), [w for w in want if w is not None], rtol=2e-3, atol=2e-3)


@pytest.mark.gpu
def test_default_model_uses_the_cuda_kernel(cuda, tmp_path):
    """The default export (custom node backed by a model-local function) runs the plugin's CUDA kernel."""
    spec, params, feeds = _custom_case("proj_clip_bi_seqlen_2layers")
    model = export_spec(spec, params)
    session = _session(model, tmp_path)
    got = session.run(None, feeds)
    _assert_custom_nodes_on_cuda(model, session)
    want = run_spec(spec, feeds["data"], params, feeds["state"], feeds["state_cell"], feeds["sequence_length"])
    _close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
def test_concurrent_runs_on_cuda(cuda):
    """Run() from several threads on one session (one kernel instance, one cuBLAS handle) gives the same result."""
    spec, params, feeds = _custom_case("proj_wide")
    session = _session(export_spec(spec, params, plugin_only=True))
    want = session.run(None, feeds)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(session.run(None, feeds))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 20
    for got in results:
        _close(got, want, rtol=0, atol=0)


@pytest.mark.gpu
def test_run_cli_on_cuda(cuda, tmp_path):
    spec, params, feeds = _custom_case("proj")
    path = tmp_path / "m.onnx"
    onnx.save(export_spec(spec, params), path)
    args = ["run", str(path), "--provider", "cuda", "--out-dir", str(tmp_path)]
    for name, value in feeds.items():
        np.save(tmp_path / f"{name}.npy", value)
        args += ["--input", f"{name}={tmp_path / (name + '.npy')}"]
    from onnx_rnn.cli import main

    assert main(args) == 0
    want = run_spec(spec, feeds["data"], params, feeds["state"], feeds["state_cell"])
    _close([np.load(tmp_path / "output.npy")], want[:1], rtol=1e-5, atol=1e-5)


def test_cuda_requested_without_fallback_is_an_error():
    import onnxruntime as ort

    if CUDA in ort.get_available_providers():
        pytest.skip("CUDA is available here")
    spec = RNNSpec(mode="lstm", state_size=4, projection_size=2)
    params, *_ = random_case(spec, T=1, N=1, I=3)
    with pytest.raises(OnnxRnnError, match="CUDAExecutionProvider not available"):
        onnx_rnn.InferenceSession(export_spec(spec, params, plugin_only=True), providers=[CUDA])
