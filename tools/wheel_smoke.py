"""Smoke test of an installed onnx-rnn (a wheel in a fresh venv): the plugin loads and computes correctly.

Run with the venv's Python from outside the checkout, so the installed package is the one imported:

    VENV/bin/python tools/wheel_smoke.py --save CASES.npz                        # this CPU; keeps the cases
    qemu-x86_64 -cpu Nehalem VENV/bin/python tools/wheel_smoke.py --load CASES.npz   # an emulated pre-AVX CPU

Under emulation the cases (inputs, weights, reference outputs) come from the native run's file: qemu 7.2's AVX2
emulation breaks NumPy's own SIMD exp/tanh (the reference gives NaN under ``-cpu Haswell``), while ONNX Runtime
and the plugin compute correctly; only ONNX Runtime runs under the emulated CPU.

Plugin-only models (no fallback in the file) with projection and clipping, float32 and float64, against
``onnx_rnn.reference``: a plugin that did not load, or computed wrongly, fails here. Exit status 0 on success.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

import onnx_rnn
from onnx_rnn.export import export_spec
from onnx_rnn.reference import run_spec

CASES = [  # (dtype, tolerance): float32 goes through the plugin's float GEMM, float64 through its double path
    (np.float32, 1e-4),
    (np.float64, 1e-10),
]


SPEC = onnx_rnn.RNNSpec(
    mode="lstm",
    state_size=24,
    num_layers=2,
    bidirectional=True,
    state_outputs=True,
    projection_size=16,
    lstm_state_clip_min=-0.5,
    lstm_state_clip_max=0.5,
)


def make_case(dtype: type) -> dict[str, np.ndarray]:
    """Weights, inputs and the reference's outputs of one plugin-only model."""
    T, N, I = 5, 3, 12
    rng = np.random.default_rng(7)
    case = {
        "params": rng.uniform(-0.3, 0.3, SPEC.param_count(I)).astype(dtype),
        "data": rng.standard_normal((T, N, I)).astype(dtype),
        "state": (rng.standard_normal((4, N, 16)) * 0.1).astype(dtype),
        "state_cell": (rng.standard_normal((4, N, 24)) * 0.1).astype(dtype),
    }
    want = run_spec(SPEC, case["data"], case["params"], case["state"], case["state_cell"])
    return case | {f"want{k}": w for k, w in enumerate(want) if w is not None}


def check(case: dict[str, np.ndarray], tolerance: float) -> float:
    model = export_spec(SPEC, case["params"], plugin_only=True)
    feeds = {k: case[k] for k in ("data", "state", "state_cell")}
    got = onnx_rnn.InferenceSession(model).run(None, feeds)
    error = max(float(np.max(np.abs(g.astype(np.float64) - case[f"want{k}"]))) for k, g in enumerate(got))
    if not error <= tolerance:
        raise SystemExit(f"wheel_smoke: {case['data'].dtype} plugin output differs from the reference by {error:.3e}")
    return error


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", help="also write the cases (inputs and reference outputs) to this .npz")
    parser.add_argument("--load", help="take the cases from this .npz (written by --save) instead of computing them")
    args = parser.parse_args()
    print(f"wheel_smoke: onnx-rnn {onnx_rnn.__version__} from {onnx_rnn.__file__}")
    print(f"wheel_smoke: plugin {onnx_rnn.library_path()}")
    saved = dict(np.load(args.load)) if args.load else {}
    to_save = {}
    for dtype, tolerance in CASES:
        name = np.dtype(dtype).name
        if args.load:
            case = {k.split("/", 1)[1]: v for k, v in saved.items() if k.startswith(name + "/")}
        else:
            case = make_case(dtype)
        to_save |= {f"{name}/{k}": v for k, v in case.items()}
        print(f"wheel_smoke: {name} LSTMP+clip via the plugin: max error {check(case, tolerance):.2e} ok")
    if args.save:
        np.savez(args.save, **to_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
