#!/usr/bin/env python3
"""Time MXNet 1.9.1's ``mx.nd.RNN`` on CPU (the performance peer). Run it in the MXNet venv:

    .venv-mxnet/bin/python tools/mxnet_bench.py --mode lstm --T 200 --N 8 --I 256 --H 1024 \\
        --P 256 --L 2 [--bidirectional] [--repeat 5] [--warmup 1] [--dtype float32] [--name NAME]

Several workloads in one process (saves MXNet's import time), as a JSON list of objects with the
same keys as the options (mode, T, N, I, H, P, L, bidirectional, repeat, warmup, dtype, name):

    .venv-mxnet/bin/python tools/mxnet_bench.py --workloads '[{"mode": "gru", "T": 50, ...}, ...]'
    .venv-mxnet/bin/python tools/mxnet_bench.py --workloads workloads.json

Prints one JSON line per workload: {"name": ..., "ms_min": ..., "ms_median": ..., "repeat": ...}
(ms per forward call, after the warm-up calls; each timed call ends with mx.nd.waitall()).
A workload MXNet refuses prints {"name": ..., "error": "..."} instead, and the exit status is 1.
Inference only: nothing is recorded by autograd, so dropout is off and no workspace for the
backward pass is kept.  MXNET_USE_MKLDNN_RNN (default 1) and OMP_NUM_THREADS are honoured as usual:
float32 without projection runs oneDNN's RNN, everything else MXNet's own CPU kernels.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

# The flat-vector size and gate counts, shared with the fixture maker (both run in the MXNet venv).
from make_fixtures import GATES, param_count

DEFAULTS = {
    "mode": "lstm",
    "T": 200,
    "N": 8,
    "I": 256,
    "H": 1024,
    "P": 0,
    "L": 2,
    "bidirectional": False,
    "repeat": 5,
    "warmup": 1,
    "dtype": "float32",
    "name": None,
}


def default_name(w):
    s = f"mxnet_{w['mode']}_L{w['L']}_{'bi' if w['bidirectional'] else 'uni'}"
    s += f"_T{w['T']}_N{w['N']}_I{w['I']}_H{w['H']}"
    if w["P"]:
        s += f"_P{w['P']}"
    if w["dtype"] != "float32":
        s += f"_{w['dtype']}"
    return s


def run_workload(mx, np, w) -> dict:
    w = {**DEFAULTS, **w}
    if w["mode"] not in GATES:
        raise ValueError(f"unknown mode {w['mode']!r}")
    if w["P"] and w["mode"] != "lstm":
        raise ValueError("projection (P) is for lstm only")
    name = w["name"] or default_name(w)
    D = 2 if w["bidirectional"] else 1
    T, N, I, H, P, L = (int(w[k]) for k in ("T", "N", "I", "H", "P", "L"))
    R = P if P else H
    dt = w["dtype"]
    rng = np.random.default_rng(0)
    ctx = mx.cpu()
    scale = 1.0 / np.sqrt(H)
    args = {
        "data": mx.nd.array(rng.uniform(-1, 1, (T, N, I)), dtype=dt, ctx=ctx),
        "parameters": mx.nd.array(rng.uniform(-scale, scale, param_count(w["mode"], L, D, I, H, P)), dtype=dt, ctx=ctx),
        "state": mx.nd.array(rng.uniform(-0.5, 0.5, (L * D, N, R)), dtype=dt, ctx=ctx),
    }
    if w["mode"] == "lstm":
        args["state_cell"] = mx.nd.array(rng.uniform(-0.5, 0.5, (L * D, N, H)), dtype=dt, ctx=ctx)
    kw = dict(
        mode=w["mode"], state_size=H, num_layers=L, bidirectional=bool(w["bidirectional"]), state_outputs=True, p=0.0
    )
    if P:
        kw["projection_size"] = P

    def call():
        res = mx.nd.RNN(**args, **kw)
        mx.nd.waitall()
        return res

    for _ in range(max(0, int(w["warmup"]))):
        call()
    times = []
    for _ in range(max(1, int(w["repeat"]))):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1e3)
    return {
        "name": name,
        "ms_min": round(min(times), 4),
        "ms_median": round(statistics.median(times), 4),
        "repeat": len(times),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", default=DEFAULTS["mode"], choices=sorted(GATES))
    ap.add_argument("--T", type=int, default=DEFAULTS["T"])
    ap.add_argument("--N", type=int, default=DEFAULTS["N"])
    ap.add_argument("--I", type=int, default=DEFAULTS["I"])
    ap.add_argument("--H", type=int, default=DEFAULTS["H"])
    ap.add_argument("--P", type=int, default=DEFAULTS["P"], help="projection size (lstm); 0: none")
    ap.add_argument("--L", type=int, default=DEFAULTS["L"])
    ap.add_argument("--bidirectional", action="store_true")
    ap.add_argument("--repeat", type=int, default=DEFAULTS["repeat"])
    ap.add_argument("--warmup", type=int, default=DEFAULTS["warmup"])
    ap.add_argument("--dtype", default=DEFAULTS["dtype"], choices=["float32", "float64"])
    ap.add_argument("--name", default=None)
    ap.add_argument("--workloads", default=None, help="JSON list of workload objects, or a path to a file holding one")
    a = ap.parse_args(argv)

    if a.workloads:
        text = a.workloads
        if not text.lstrip().startswith("["):
            text = Path(text).read_text()
        workloads = json.loads(text)
    else:
        workloads = [{k: getattr(a, k) for k in DEFAULTS}]

    warnings.simplefilter("ignore")
    import mxnet as mx
    import numpy as np

    status = 0
    for w in workloads:
        try:
            res = run_workload(mx, np, w)
        except Exception as e:  # noqa: BLE001 - MXNetError and bad arguments alike
            lines = [ln for ln in str(e).splitlines() if ln.strip()]
            err = next((ln for ln in lines if "Error" in ln), lines[-1] if lines else repr(e))
            res = {"name": w.get("name") or default_name({**DEFAULTS, **w}), "error": err.strip()}
            status = 1
        print(json.dumps(res), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
