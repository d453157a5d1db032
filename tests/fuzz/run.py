#!/usr/bin/env python
"""The long fuzz run (``make fuzz``): each target for a given time, every finding kept in tests/fuzz_regressions/.

    python tests/fuzz/run.py [--seconds 1800] [--target params --target symbol ...] [--seed N]

Each target runs in a child process, in rounds of hypothesis examples with fresh random seeds, until its time is
up. A finding (an exception other than OnnxRnnError, or a limit that did not hold) is shrunk by hypothesis
and saved as ``<target>-<sha1>.<suffix>``; a crash of the child (the plugin target, a segfault or a sanitizer
report) keeps the input that was running. test_fuzz_short.py replays every saved file. The summary line per
target says how long it ran, how many inputs it tried and what it found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from fuzz_targets import REGRESSIONS, targets  # noqa: E402  (after the sys.path lines above)

ROUND_EXAMPLES = 200


def save_finding(target: str, data: bytes, why: str) -> Path:
    suffix = targets()[target].suffix
    path = REGRESSIONS / f"{target}-{hashlib.sha1(data).hexdigest()[:12]}{suffix}"
    if not path.exists():
        path.write_bytes(data)
        print(f"[{target}] finding saved as {path.name}: {why}", flush=True)
    return path


def child(target_name: str, seconds: float, seed: int) -> int:
    """Run one target until ``seconds`` pass; prints a JSON summary on the last line."""
    from hypothesis import HealthCheck, Phase, given, settings

    target = targets()[target_name]
    current = REGRESSIONS / f".current-{target_name}"
    examples = 0
    last_failure: tuple[bytes, str] | None = None

    def body(value: object) -> None:
        nonlocal examples, last_failure
        data = target.encode(value)
        if target_name == "plugin":  # a crash ends the process: keep what was running
            current.write_bytes(data)
        examples += 1
        try:
            target.check(data)
        except Exception as error:
            last_failure = (data, f"{type(error).__name__}: {error}")
            raise

    started = time.monotonic()
    rng = random.Random(seed)
    findings: list[str] = []
    while time.monotonic() - started < seconds:
        test = settings(
            max_examples=ROUND_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )(given(target.strategy)(body))
        test = _seeded(test, rng.getrandbits(64))
        last_failure = None
        try:
            test()
        except Exception:  # noqa: BLE001 - a finding: hypothesis re-raised the shrunk example's error
            if last_failure is not None:
                data, why = last_failure
                findings.append(save_finding(target_name, data, why).name)
            else:
                traceback.print_exc()
    current.unlink(missing_ok=True)
    summary = {"target": target_name, "seconds": round(time.monotonic() - started), "examples": examples}
    summary["findings"] = sorted(set(findings))
    print(json.dumps(summary), flush=True)
    return 0


def _seeded(test: Callable[[], None], seed: int) -> Callable[[], None]:
    from hypothesis import seed as hypothesis_seed

    return hypothesis_seed(seed)(test)


def parent(names: list[str], seconds: float, seed: int, parallel: bool) -> int:
    """One child per target (all at once with ``parallel``); a child that dies leaves its running input, saved
    here as a finding, and is restarted for the rest of its time."""
    runs = [(name, seed + k) for k, name in enumerate(names)]
    if parallel:
        procs = [(name, s, time.monotonic(), _start(name, seconds, s)) for name, s in runs]
        for name, s, started, proc in procs:
            _finish(name, proc, seconds, s, started)
    else:
        for name, s in runs:
            _finish(name, _start(name, seconds, s), seconds, s, time.monotonic())
    return 0


def _start(name: str, seconds: float, seed: int) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--child", name, "--seconds", str(seconds), "--seed", str(seed)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _finish(name: str, proc: subprocess.Popen[str], seconds: float, seed: int, started: float) -> None:
    crashes = 0
    while True:
        out, _ = proc.communicate()
        for line in out.splitlines():
            print(f"fuzz {name}: {line}" if line.startswith("{") else line, flush=True)
        if proc.returncode == 0:
            break
        crashes += 1
        current = REGRESSIONS / f".current-{name}"
        if current.exists():
            path = save_finding(name, current.read_bytes(), f"the process died with status {proc.returncode}")
            current.unlink()
            print(f"fuzz {name}: CRASH (status {proc.returncode}), input kept as {path.name}", flush=True)
        else:
            print(f"fuzz {name}: the runner failed with status {proc.returncode}", flush=True)
        left = seconds - (time.monotonic() - started)
        if left < 5 or crashes > 20:
            break
        proc = _start(name, left, seed + 1000 * crashes)
    print(f"fuzz {name}: ran {time.monotonic() - started:.0f} s in all, {crashes} crash(es)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", choices=sorted(targets()), help="default: all")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", "60")))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--parallel", action="store_true", help="all targets at once (one process each)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("ONNX_RNN_MAX_CONSTANT_BYTES", str(256 << 20))  # keep a shared machine's memory safe
    if args.child:
        return child(args.child, args.seconds, args.seed)
    return parent(args.target or sorted(targets()), args.seconds, args.seed, args.parallel)


if __name__ == "__main__":
    sys.exit(main())
