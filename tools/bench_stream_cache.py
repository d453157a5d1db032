#!/usr/bin/env python3
"""Why streaming LSTMP times swing: the bench's ``lstmp-stream`` workload with its weights in L3 or not.

N=1 streaming reads every weight once per step (18.9 MB for the bench's 2-layer LSTMP H=1024 P=256), so its
speed is the speed the weights are read at. On this project's machines (one 32 MiB L3 shared with the host's
other tenants) they sometimes stay in L3 and sometimes come from DRAM. This times the plugin, the portable form
and PyTorch round-robin (one warm-up, then --runs rounds; min and median, ms for all 50 calls, and the weight
bytes read per second at the minimum), optionally with a second process streaming a 67 MB array on the other
core (``--thrash``), which evicts the weights from L3 as a busy neighbour does.

  .venv/bin/python tools/bench_stream_cache.py [--threads 1] [--thrash] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from onnx_rnn.bench import WORKLOADS, _inputs, _ort_runner, _torch_module

THRASH = "import numpy as np\na = np.ones(64 << 18, np.float32)\nwhile True:\n    a += 1.0\n"


def torch_stream(params: np.ndarray, threads: int) -> Callable[[], None]:
    """PyTorch nn.LSTM(proj_size) on the same weights, one call per step, states carried."""
    import torch

    w = WORKLOADS["lstmp-stream"]
    torch.set_num_threads(threads)
    module = _torch_module(w, params)
    x, h, c = (torch.from_numpy(a) for a in _inputs(w))

    def run() -> None:
        with torch.inference_mode():
            state = (h, c)
            for t in range(w.T):
                _, state = module(x[t : t + 1], state)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--thrash", action="store_true", help="stream a 67 MB array on another core meanwhile")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    w = WORKLOADS["lstmp-stream"]
    rng = np.random.default_rng(0)
    scale = 1.0 / np.sqrt(w.spec.state_size)
    params = rng.uniform(-scale, scale, w.spec.param_count(w.I)).astype(np.float32)
    runners = {
        "plugin": _ort_runner(w, params, args.threads, "cpu"),
        "portable": _ort_runner(w, params, args.threads, "cpu", portable=True),
        "pytorch": torch_stream(params, args.threads),
    }
    print(f"{w.name}: {params.nbytes / 1e6:.1f} MB of weights, {args.threads} threads, thrash {args.thrash}")
    thrasher = subprocess.Popen([sys.executable, "-c", THRASH]) if args.thrash else None
    try:
        time.sleep(1.0 if thrasher else 0.0)
        times: dict[str, list[float]] = {name: [] for name in runners}
        for run in runners.values():
            run()
        for _ in range(args.runs):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                times[name].append((time.perf_counter() - start) * 1e3)
    finally:
        if thrasher:
            thrasher.kill()
    for name, ms in times.items():
        rate = params.nbytes * w.T / min(ms) / 1e6
        print(f"{name:9s} min {min(ms):7.1f}  median {statistics.median(ms):7.1f} ms  {rate:5.1f} GB/s of weights")


if __name__ == "__main__":
    main()
