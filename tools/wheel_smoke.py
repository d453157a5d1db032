"""Smoke test of an installed onnx-rnn (a wheel in a fresh venv): the plugin loads and computes correctly.

Run with the venv's Python from outside the checkout, so the installed package is the one imported:

    VENV/bin/python tools/wheel_smoke.py                       # this CPU
    qemu-x86_64 -cpu Nehalem VENV/bin/python tools/wheel_smoke.py   # an emulated pre-AVX CPU

Plugin-only models (no fallback in the file) with projection and clipping, float32 and float64, against
``onnx_rnn.reference``: a plugin that did not load, or computed wrongly, fails here. Exit status 0 on success.
"""

from __future__ import annotations

import sys

import numpy as np

import onnx_rnn
from onnx_rnn.export import export_spec
from onnx_rnn.reference import run_spec

CASES = [  # (dtype, tolerance): float32 goes through the plugin's float GEMM, float64 through its double path
    (np.float32, 1e-4),
    (np.float64, 1e-10),
]


def check(dtype: type, tolerance: float) -> float:
    spec = onnx_rnn.RNNSpec(
        mode="lstm",
        state_size=24,
        num_layers=2,
        bidirectional=True,
        state_outputs=True,
        projection_size=16,
        lstm_state_clip_min=-0.5,
        lstm_state_clip_max=0.5,
    )
    T, N, I = 5, 3, 12
    rng = np.random.default_rng(7)
    params = rng.uniform(-0.3, 0.3, spec.param_count(I)).astype(dtype)
    model = export_spec(spec, params, plugin_only=True)
    x = rng.standard_normal((T, N, I)).astype(dtype)
    h = rng.standard_normal((4, N, 16)).astype(dtype) * 0.1
    c = rng.standard_normal((4, N, 24)).astype(dtype) * 0.1
    got = onnx_rnn.InferenceSession(model).run(None, {"data": x, "state": h, "state_cell": c})
    want = run_spec(spec, x, params, h, c)
    error = max(float(np.max(np.abs(g.astype(np.float64) - w))) for g, w in zip(got, want))
    if not error <= tolerance:
        raise SystemExit(f"wheel_smoke: {np.dtype(dtype)} plugin output differs from the reference by {error:.3e}")
    return error


def main() -> int:
    print(f"wheel_smoke: onnx-rnn {onnx_rnn.__version__} from {onnx_rnn.__file__}")
    print(f"wheel_smoke: plugin {onnx_rnn.library_path()}")
    for dtype, tolerance in CASES:
        print(f"wheel_smoke: {np.dtype(dtype)} LSTMP+clip via the plugin: max error {check(dtype, tolerance):.2e} ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
