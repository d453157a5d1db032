#!/usr/bin/env python
"""Fuzz the .params reader by hand (the test suite runs a short, fixed version of the same).

    PYTHONPATH=. python tests/fuzz_regressions/run_fuzz.py --seconds 600 [--seed 1]

Inputs are valid NDArray files (written by onnx_rnn's writer in every format version, plus files MXNet
wrote) mutated at random: bit flips, byte overwrites with interesting values (0, 0xFF, 0x7F..., the magic
numbers), truncation, duplicated or deleted spans, and spliced headers. The reader must either return arrays
or raise OnnxRnnError, within a time and memory budget. Anything else is saved here as
``crash-<sha1>.params`` with the traceback printed; ``tests/test_mxnet_fuzz.py`` replays every saved file.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import struct
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from onnx_rnn.errors import OnnxRnnError  # noqa: E402
from onnx_rnn.mxnet.ndarray_file import (  # noqa: E402
    LIST_MAGIC,
    V1_MAGIC,
    V2_MAGIC,
    V3_MAGIC,
    dump_ndarray_list,
    parse_ndarray_list,
)

INTERESTING_32 = [
    0,
    1,
    2,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    V1_MAGIC,
    V2_MAGIC,
    V3_MAGIC,
    LIST_MAGIC,
    12,
    13,
    32,
    33,
]
INTERESTING_64 = [0, 1, 2**31, 2**32, 2**62, 2**63, 2**64 - 1]
TIME_LIMIT_S = 1.0


def seed_corpus(rng: np.random.Generator) -> list[bytes]:
    arrays = {
        "arg:w": rng.standard_normal((3, 4)).astype(np.float32),
        "arg:b": rng.standard_normal(4).astype(np.float64),
        "aux:m": rng.standard_normal((2, 1, 2)).astype(np.float16),
        "arg:i": np.arange(5, dtype=np.int64),
        "arg:u": np.arange(3, dtype=np.uint8),
        "arg:e": np.zeros((0, 3), np.float32),
        "arg:f": np.array([True, False]),
    }
    corpus = [dump_ndarray_list(arrays.values(), list(arrays), version=v) for v in (0, 1, 2, 3)]
    corpus.append(dump_ndarray_list([np.ones(2, np.int32), None], None))
    corpus.append(dump_ndarray_list([None, np.ones((1, 1), np.float32)], ["a", "b"], version=3))
    corpus.extend(p.read_bytes() for p in sorted((HERE.parent.parent / "models").glob("*.params"))[:2])
    return corpus


def mutate(data: bytes, rnd: random.Random, corpus: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rnd.choice([1, 1, 1, 2, 3, 5, 8])):
        kind = rnd.randrange(9)
        pos = rnd.randrange(len(buf)) if buf else 0
        if kind == 0 and buf:  # bit flip
            buf[pos] ^= 1 << rnd.randrange(8)
        elif kind == 1 and buf:  # random byte
            buf[pos] = rnd.randrange(256)
        elif kind == 2 and len(buf) >= 4:  # interesting 32-bit value, aligned or not
            pos = min(pos, len(buf) - 4)
            buf[pos : pos + 4] = struct.pack("<I", rnd.choice(INTERESTING_32))
        elif kind == 3 and len(buf) >= 8:
            pos = min(pos, len(buf) - 8)
            buf[pos : pos + 8] = struct.pack("<Q", rnd.choice(INTERESTING_64))
        elif kind == 4:  # truncate
            del buf[pos:]
        elif kind == 5 and buf:  # delete a span
            del buf[pos : pos + rnd.randrange(1, 16)]
        elif kind == 6 and buf:  # duplicate a span
            end = min(len(buf), pos + rnd.randrange(1, 32))
            buf[pos:pos] = buf[pos:end]
        elif kind == 7:  # splice another file's tail
            other = rnd.choice(corpus)
            buf[pos:] = other[rnd.randrange(len(other) + 1) :]
        elif kind == 8:  # insert random bytes
            buf[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 9)))
    return bytes(buf)


def check_one(data: bytes) -> str | None:
    """None when the reader behaves; else a description of the failure."""
    start = time.perf_counter()
    try:
        parse_ndarray_list(data, "<fuzz>")
    except OnnxRnnError:
        pass
    except Exception:  # noqa: BLE001 - exactly what the fuzzer looks for
        return traceback.format_exc()
    elapsed = time.perf_counter() - start
    if elapsed > TIME_LIMIT_S:
        return f"slow: {elapsed:.2f} s for {len(data)} bytes"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", type=Path, default=HERE, help="where crashing inputs go")
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    corpus = seed_corpus(np.random.default_rng(args.seed))
    deadline = time.monotonic() + args.seconds
    runs = crashes = 0
    while time.monotonic() < deadline:
        data = mutate(rnd.choice(corpus), rnd, corpus)
        runs += 1
        problem = check_one(data)
        if problem is None:
            continue
        crashes += 1
        name = args.save / f"crash-{hashlib.sha1(data).hexdigest()[:12]}.params"
        name.write_bytes(data)
        print(f"{name.name}:\n{problem}", flush=True)
    print(f"{runs} inputs in {args.seconds:.0f} s, {crashes} failures")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
