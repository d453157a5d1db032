#!/usr/bin/env python3
"""Roofline of the plugin's CPU kernel: per workload the FLOP count, the measured time per instruction-set path,
the fraction of this machine's FMA peak, and the peers (PyTorch, ONNX Runtime's own LSTM) in the same run.

The peak is measured on the spot (the plugin's OnnxRnnFmaPeakGflops: independent float32 FMA chains on one
core with the path's vector width), times the thread count; nothing is assumed. Candidates run round-robin
(one warm-up each, then --runs rounds), so a burst of load from elsewhere hits all of them alike; each gets
its minimum and its median (the spread says how noisy the machine was).

  .venv/bin/python tools/roofline.py [--paths avx2,baseline] [--workload lstmp ...] [--runs 7] [--threads 2]

The path is forced with ONNX_RNN_CPU_ISA while each session is created (custom_ops/README.md).
FLOPs: 2 per multiply-add of the GEMMs (input, recurrent and projection products); the gate math is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from onnx_rnn.bench import WORKLOADS, Workload, _ort_runner, round_robin, torch_lstm_runner, workload_params
from onnx_rnn.runtime import library_path


def gemm_flops(w: Workload) -> float:
    """FLOPs of one benchmark call: every layer's input, recurrent and projection products over all steps."""
    s = w.spec
    H, P = s.state_size, s.projection_size or 0
    S = P or H
    total = 0.0
    for layer in range(s.num_layers):
        fan_in = w.I if layer == 0 else S * s.directions
        per_step = 2 * w.N * 4 * H * (fan_in + S) + 2 * w.N * H * P
        total += per_step * w.T * s.directions
    return total


def fma_peak_gflops(path: str, seconds: float = 0.3) -> float:
    """One core's float32 FMA peak with `path`'s instruction set, measured now."""
    os.environ["ONNX_RNN_CPU_ISA"] = path
    fn = ctypes.CDLL(library_path()).OnnxRnnFmaPeakGflops
    fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_double]
    return float(fn(seconds))


def candidates(w: Workload, paths: list[str], threads: int) -> dict[str, Callable[[], object]]:
    params = workload_params(w)
    out: dict[str, Callable[[], object]] = {}
    for path in paths:
        os.environ["ONNX_RNN_CPU_ISA"] = path  # read when the session creates its kernels
        out[f"onnx-rnn {path}"] = _ort_runner(w, params, threads, "cpu")
    if w.spec.clips and not w.spec.projection_size:
        native = replace(w, spec=replace(w.spec, lstm_state_clip_min=None, lstm_state_clip_max=None))
        out["ort LSTM (no clip)"] = _ort_runner(native, params, threads, "cpu")
    with contextlib.suppress(ImportError):  # no PyTorch: no peer column
        out["pytorch"] = torch_lstm_runner(w, params, threads)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", help="comma-separated CPU paths (default: every path this CPU runs)")
    ap.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    lib = ctypes.CDLL(library_path())
    lib.OnnxRnnCpuKernelPaths.restype = ctypes.c_char_p
    supported = lib.OnnxRnnCpuKernelPaths().decode().split(",")
    paths = args.paths.split(",") if args.paths else [p for p in supported if p != "avx512-on-avx2"]
    names = args.workload or ["lstmp", "lstm-clip", "lstmp-stream", "lstm-stream"]
    peaks = {p: fma_peak_gflops(p) for p in paths}
    print(
        f"threads {args.threads}, {args.runs} rounds; one-core float32 FMA peak measured now: "
        + ", ".join(f"{p} {g:.1f} GFLOP/s" for p, g in peaks.items())
    )
    print()
    print("| workload | GFLOP | candidate | ms min | ms median | vs pytorch | vs ort | GFLOP/s | % of peak |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        w = WORKLOADS[name]
        flops = gemm_flops(w)
        timings = round_robin(candidates(w, paths, args.threads), args.runs)
        ref = {t.name: t.best for t in timings}
        for t in timings:
            rate = flops / (t.best * 1e-3) * 1e-9
            path = t.name.removeprefix("onnx-rnn ") if t.name.startswith("onnx-rnn ") else None
            peak = f"{100 * rate / (peaks[path] * args.threads):.0f}" if path in peaks else ""
            vs_torch = f"{t.best / ref['pytorch']:.2f}" if "pytorch" in ref and t.name != "pytorch" else ""
            ort_ms = ref.get("ort LSTM (no clip)")
            vs_ort = f"{t.best / ort_ms:.2f}" if ort_ms and path else ""
            print(
                f"| {name} | {flops * 1e-9:.2f} | {t.name} | {t.best:.1f} | {t.median:.1f} | {vs_torch} | "
                f"{vs_ort} | {rate:.0f} | {peak} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
