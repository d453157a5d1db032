"""What runs where: the models onnx-rnn writes, on every ONNX runtime installed in this interpreter.

    PYTHONPATH=. python tools/runtime_matrix.py            # markdown table on stdout

Runtimes tried (each only if importable): onnx.reference, onnxruntime (no plugin), OpenVINO (CPU, f32 inference
precision forced, and its default precision), tract (PyPI ``tract``). Each cell is the largest absolute error
against the NumPy float64 reference (``onnx_rnn.reference``), "error: ..." when the runtime refuses the model,
or "WRONG" when it runs and the error exceeds the dtype's tolerance (a silent misread). Run it once per
environment (e.g. the project's venv, one with ``onnxruntime==1.21.*``, one with ``openvino tract``) and merge
the columns: docs/portable.md has the table.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx

from onnx_rnn.export import GraphBuilder, emit_rnn, export_spec
from onnx_rnn.reference import run_spec
from onnx_rnn.spec import RNNSpec

T, N, I = 5, 3, 4
LENGTHS = np.array([5, 0, 2], dtype=np.int32)
TOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-10}

Case = tuple[onnx.ModelProto, dict[str, np.ndarray], list[np.ndarray]]


def _case(spec: RNNSpec, dtype: type, form: dict, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    params = rng.uniform(-0.5, 0.5, spec.param_count(I)).astype(dtype)
    data = rng.standard_normal((T, N, I)).astype(dtype)
    LD = spec.num_layers * spec.directions
    state = (0.5 * rng.standard_normal((LD, N, spec.output_size))).astype(dtype)
    cell = (0.5 * rng.standard_normal((LD, N, spec.state_size))).astype(dtype)
    feeds = {"data": data, "state": state}
    if spec.mode == "lstm":
        feeds["state_cell"] = cell
    lengths = LENGTHS if spec.use_sequence_length else None
    if lengths is not None:
        feeds["sequence_length"] = lengths
    out, hy, cy = run_spec(spec, data, params, state, cell if spec.mode == "lstm" else None, lengths)
    want = [out] + ([hy] + ([cy] if cy is not None else []) if spec.state_outputs else [])
    return export_spec(spec, params, **form), feeds, want


def _two_configurations() -> Case:
    first = RNNSpec(mode="lstm", state_size=5, projection_size=2, bidirectional=True)
    second = RNNSpec(mode="lstm", state_size=6, projection_size=3, lstm_state_clip_min=-0.2, lstm_state_clip_max=0.3)
    rng = np.random.default_rng(3)
    p1 = rng.uniform(-0.5, 0.5, first.param_count(I)).astype(np.float32)
    p2 = rng.uniform(-0.5, 0.5, second.param_count(4)).astype(np.float32)
    data = rng.standard_normal((T, N, I)).astype(np.float32)
    b = GraphBuilder()
    x = b.add_input("data", np.float32, ["T", "N", I])
    y = emit_rnn(b, second, p2, data=emit_rnn(b, first, p1, data=x, backend="function").output, backend="function")
    b.add_output(b.rename_to_output(y.output, "output"), np.float32, ["T", "N", 3])
    want = run_spec(second, run_spec(first, data, p1)[0], p2)[0]
    return b.to_model("two"), {"data": data}, [want]


def cases() -> dict[str, Callable[[], Case]]:
    lstmp = RNNSpec(
        mode="lstm",
        state_size=6,
        num_layers=2,
        bidirectional=True,
        state_outputs=True,
        projection_size=3,
        lstm_state_clip_min=-0.3,
        lstm_state_clip_max=0.25,
        use_sequence_length=True,
    )
    clip_only = RNNSpec(mode="lstm", state_size=6, lstm_state_clip_min=-0.1, lstm_state_clip_max=0.1)
    lstm_len = RNNSpec(mode="lstm", state_size=6, bidirectional=True, use_sequence_length=True, state_outputs=True)
    lstm = RNNSpec(mode="lstm", state_size=6, bidirectional=True, state_outputs=True)
    lstmp_full = RNNSpec(
        mode="lstm",
        state_size=6,
        bidirectional=True,
        projection_size=3,
        lstm_state_clip_min=-0.3,
        lstm_state_clip_max=0.25,
    )
    gru = RNNSpec(mode="gru", state_size=6, num_layers=2, bidirectional=True, use_sequence_length=True)
    return {
        "LSTMP+clip, bi, lengths (default form)": lambda: _case(lstmp, np.float32, {}),
        "LSTMP+clip, bi, lengths (--portable)": lambda: _case(lstmp, np.float32, {"portable": True}),
        "LSTMP+clip, bi, no lengths (--portable)": lambda: _case(lstmp_full, np.float32, {"portable": True}),
        "LSTMP+clip (--plugin-only)": lambda: _case(lstmp, np.float32, {"plugin_only": True}),
        "clipping only (default form)": lambda: _case(clip_only, np.float32, {}),
        "two LSTMP configurations (default form)": _two_configurations,
        "LSTM, bi (standard node)": lambda: _case(lstm, np.float32, {}),
        "LSTM, bi, lengths (default form: custom node + function)": lambda: _case(lstm_len, np.float32, {}),
        "LSTM, bi, lengths (--portable: Scan)": lambda: _case(lstm_len, np.float32, {"portable": True}),
        "LSTM, bi, lengths (--plugin-only)": lambda: _case(lstm_len, np.float32, {"plugin_only": True}),
        "GRU, bi, lengths (every form: Scan)": lambda: _case(gru, np.float32, {}),
        "LSTMP+clip float64 (--portable)": lambda: _case(lstmp, np.float64, {"portable": True}),
        "GRU float64, bi, lengths (Scan form)": lambda: _case(gru, np.float64, {}),
    }


def _run_onnx_reference(path: Path, feeds: dict) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(str(path)).run(None, feeds)


def _run_onnxruntime(path: Path, feeds: dict) -> list[np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(None, feeds)


def _openvino(precision: str | None) -> Callable[[Path, dict], list[np.ndarray]]:
    def run(path: Path, feeds: dict) -> list[np.ndarray]:
        import openvino as ov

        core = ov.Core()
        config = {} if precision is None else {"INFERENCE_PRECISION_HINT": precision}
        compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        result = compiled(feeds)
        return [np.asarray(result[out]) for out in compiled.outputs]

    return run


def _run_tract(path: Path, feeds: dict) -> list[np.ndarray]:
    import tract

    model = tract.onnx().load(str(path))
    ordered = [feeds[model.input_name(k)] for k in range(model.input_count())]
    for k, value in enumerate(ordered):
        kind = {"float32": "f32", "float64": "f64", "int32": "i32"}[value.dtype.name]
        model.set_input_fact(k, f"{','.join(map(str, value.shape))},{kind}")
    runnable = model.into_model().into_runnable()
    return [t.to_numpy() for t in runnable.run(ordered)]


def runtimes() -> dict[str, Callable[[Path, dict], list[np.ndarray]]]:
    found: dict[str, Callable[[Path, dict], list[np.ndarray]]] = {
        "onnx.reference " + onnx.__version__: _run_onnx_reference
    }
    try:
        import onnxruntime

        found[f"onnxruntime {onnxruntime.__version__}"] = _run_onnxruntime
    except ImportError:
        pass
    try:
        import openvino

        version = openvino.__version__.split("-")[0]
        found[f"OpenVINO {version} CPU f32"] = _openvino("f32")
        found[f"OpenVINO {version} CPU default"] = _openvino(None)
    except ImportError:
        pass
    try:
        import tract

        found[f"tract {tract.version()}"] = _run_tract
    except ImportError:
        pass
    return found


def cell(run: Callable[[Path, dict], list[np.ndarray]], path: Path, feeds: dict, want: list[np.ndarray]) -> str:
    try:
        got = run(path, feeds)
    except Exception as error:  # noqa: BLE001 (every runtime has its own exception types)
        return "error: " + " ".join(str(error).split())[:60]
    if len(got) != len(want) or any(np.shape(g) != w.shape for g, w in zip(got, want)):
        return "WRONG (shapes)"
    err = max(float(np.max(np.abs(np.asarray(g, np.float64) - w), initial=0.0)) for g, w in zip(got, want))
    return f"{err:.0e}" if err <= TOL[want[0].dtype] else f"WRONG ({err:.0e})"


def main() -> None:
    found = runtimes()
    print("| model | " + " | ".join(found) + " |")
    print("|---|" + "---|" * len(found))
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in cases().items():
            model, feeds, want = make()
            path = Path(tmp) / "model.onnx"
            onnx.save(model, str(path))
            print(f"| {name} | " + " | ".join(cell(run, path, feeds, want) for run in found.values()) + " |")


if __name__ == "__main__":
    main()
