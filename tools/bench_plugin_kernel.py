#!/usr/bin/env python3
"""Quick benchmark of the onnx_rnn.LSTM CPU kernel.

  LSTMP: T=200 N=8 I=256 H=1024 P=256, 2 layers: onnx_rnn.LSTM (two nodes chained) vs torch.nn.LSTM(proj_size=256)
  LSTM:  T=200 N=8 I=256 H=512, 2 layers:        onnx_rnn.LSTM vs ONNX Runtime's own LSTM (vs torch, for scale)

Every runtime gets the same number of threads (--threads, default 2); the candidates of a workload run\ninterleaved, min of --runs runs each after one warm-up.
Library: $ONNX_RNN_CUSTOM_OPS_LIBRARY, else build/plugin/libonnx_rnn_ops.so. tools/roofline.py compares the
CPU paths (and reports the fraction of FMA peak).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = pathlib.Path(__file__).resolve().parents[1]


def library() -> str:
    env = os.environ.get("ONNX_RNN_CUSTOM_OPS_LIBRARY")
    if env:
        return env
    try:
        import onnx_rnn

        return str(onnx_rnn.library_path())
    except Exception:  # noqa: BLE001
        return str(REPO / "build" / "plugin" / "libonnx_rnn_ops.so")


def stacked_model(T, N, I, H, P, layers, custom, rng):
    """`layers` LSTM nodes chained (Y (T,1,N,S) squeezed to (T,N,S)); weights are initializers."""
    S = P or H
    nodes, inits = [], []
    x = "X"
    for layer in range(layers):
        fan_in = I if layer == 0 else S
        w = (rng.standard_normal((1, 4 * H, fan_in)) * 0.05).astype(np.float32)
        r = (rng.standard_normal((1, 4 * H, S)) * 0.05).astype(np.float32)
        b = (rng.standard_normal((1, 8 * H)) * 0.05).astype(np.float32)
        names = [f"W{layer}", f"R{layer}", f"B{layer}"]
        inits += [numpy_helper.from_array(a, n) for a, n in zip((w, r, b), names)]
        inputs = [x, *names]
        if P:
            pw = (rng.standard_normal((1, P, H)) * 0.05).astype(np.float32)
            inits.append(numpy_helper.from_array(pw, f"P{layer}"))
            inputs += ["", "", "", f"P{layer}"]
        y = f"Y{layer}"
        nodes.append(helper.make_node("LSTM", inputs, [y], hidden_size=H, domain="onnx_rnn" if custom else ""))
        out = "out" if layer == layers - 1 else f"X{layer + 1}"
        axes = f"axes{layer}"
        inits.append(numpy_helper.from_array(np.array([1], np.int64), axes))
        nodes.append(helper.make_node("Squeeze", [y, axes], [out]))
        x = out
    graph = helper.make_graph(
        nodes,
        "bench",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, N, I])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        inits,
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("onnx_rnn", 1)] if custom else [])
    return helper.make_model(graph, opset_imports=opsets, ir_version=8)


def time_once(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def ort_runner(model, x, threads, lib):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    if lib:
        so.register_custom_ops_library(lib)
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return lambda: sess.run(None, {"X": x})


def torch_runner(T, N, I, H, P, layers, threads):
    import torch

    torch.set_num_threads(threads)
    lstm = torch.nn.LSTM(I, H, num_layers=layers, proj_size=P).eval()
    x = torch.randn(T, N, I)

    def run():
        with torch.no_grad():
            lstm(x)

    return run


def min_times(runners, runs):
    """Runs the candidates interleaved (one warm-up each, then `runs` rounds) and keeps each one's minimum, so
    that a burst of load from elsewhere on the machine hits all of them alike."""
    for fn in runners.values():
        fn()
    best = {k: float("inf") for k in runners}
    for _ in range(runs):
        for k, fn in runners.items():
            best[k] = min(best[k], time_once(fn))
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=["lstmp", "lstm"], default=None)
    ap.add_argument("--isa", help="force the CPU kernel path (ONNX_RNN_CPU_ISA: avx512, avx2, baseline, ...)")
    args = ap.parse_args()
    if args.isa:
        os.environ["ONNX_RNN_CPU_ISA"] = args.isa  # read when each session creates its kernels
    lib = library()
    rng = np.random.default_rng(0)
    T, N, I, L = 200, 8, 256, 2
    rows = []
    import warnings

    warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")
    if args.only in (None, "lstmp"):
        H, P = 1024, 256
        x = rng.standard_normal((T, N, I)).astype(np.float32)
        t = min_times(
            {
                "ours": ort_runner(stacked_model(T, N, I, H, P, L, True, rng), x, args.threads, lib),
                "torch": torch_runner(T, N, I, H, P, L, args.threads),
            },
            args.runs,
        )
        rows.append(("LSTMP H=1024 P=256", "onnx_rnn.LSTM", t["ours"], "torch.nn.LSTM", t["torch"]))
    if args.only in (None, "lstm"):
        H = 512
        x = rng.standard_normal((T, N, I)).astype(np.float32)
        t = min_times(
            {
                "ours": ort_runner(stacked_model(T, N, I, H, 0, L, True, rng), x, args.threads, lib),
                "native": ort_runner(stacked_model(T, N, I, H, 0, L, False, rng), x, args.threads, None),
                "torch": torch_runner(T, N, I, H, 0, L, args.threads),
            },
            args.runs,
        )
        rows.append(("LSTM H=512", "onnx_rnn.LSTM", t["ours"], "ORT LSTM", t["native"]))
        rows.append(("LSTM H=512", "onnx_rnn.LSTM", t["ours"], "torch.nn.LSTM", t["torch"]))
    print(f"T={T} N={N} I={I} layers={L} threads={args.threads} min of {args.runs} runs; library {lib}")
    print(f"{'workload':<20} {'ours':>14} {'ms':>9} {'peer':>15} {'ms':>9} {'ratio':>7}")
    for w, a, ta, b, tb in rows:
        print(f"{w:<20} {a:>14} {ta:9.1f} {b:>15} {tb:9.1f} {ta / tb:7.3f}")


if __name__ == "__main__":
    main()
