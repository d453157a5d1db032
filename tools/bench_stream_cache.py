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
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from onnx_rnn.bench import WORKLOADS, _ort_runner, round_robin, torch_lstm_runner, workload_params

THRASH = "import numpy as np\na = np.ones(64 << 18, np.float32)\nwhile True:\n    a += 1.0\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--thrash", action="store_true", help="stream a 67 MB array on another core meanwhile")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    w = WORKLOADS["lstmp-stream"]
    params = workload_params(w)
    runners = {
        "plugin": _ort_runner(w, params, args.threads, "cpu"),
        "portable": _ort_runner(w, params, args.threads, "cpu", portable=True),
        "pytorch": torch_lstm_runner(w, params, args.threads),
    }
    print(f"{w.name}: {params.nbytes / 1e6:.1f} MB of weights, {args.threads} threads, thrash {args.thrash}")
    thrasher = subprocess.Popen([sys.executable, "-c", THRASH]) if args.thrash else None
    try:
        time.sleep(1.0 if thrasher else 0.0)
        timings = round_robin(runners, args.runs)
    finally:
        if thrasher:
            thrasher.kill()
    for t in timings:
        rate = params.nbytes * w.T / t.best / 1e6
        print(f"{t.name:9s} min {t.best:7.1f}  median {t.median:7.1f} ms  {rate:5.1f} GB/s of weights")


if __name__ == "__main__":
    main()
