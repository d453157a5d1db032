"""Fuzzing the .params reader: a short hypothesis run here, a long campaign by hand
(tests/fuzz_regressions/run_fuzz.py), and every input a campaign found replayed as a regression test.

The property: any bytes either parse or raise OnnxRnnError (never another exception), quickly.
"""

from __future__ import annotations

import contextlib
import copy
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.mxnet import parse_symbol, supported_ops
from onnx_rnn.mxnet.convert import Checkpoint, convert_checkpoint
from onnx_rnn.mxnet.ndarray_file import (
    LIST_MAGIC,
    V1_MAGIC,
    V2_MAGIC,
    V3_MAGIC,
    NDArrayList,
    dump_ndarray_list,
    load_params,
    parse_ndarray_list,
    split_arg_aux,
)

REGRESSIONS = sorted((Path(__file__).parent / "fuzz_regressions").glob("*.params"))

SEEDS = [
    dump_ndarray_list(
        [
            np.arange(6, dtype=np.float32).reshape(2, 3),
            np.zeros((0, 2), np.float16),
            np.arange(3, dtype=np.int64),
            None,
        ],
        ["arg:a", "arg:b", "aux:c", "arg:d"],
        version=v,
    )
    for v in (0, 1, 2, 3)
]


def parses_or_refuses(data: bytes) -> None:
    try:
        result = parse_ndarray_list(data, "<fuzz>")
    except OnnxRnnError:
        return
    assert isinstance(result, NDArrayList)
    for array in result.arrays:
        assert array is None or isinstance(array, np.ndarray)


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.name)
def test_regression(path: Path) -> None:
    """Inputs an earlier campaign crashed the reader with (zero-sized arrays with huge other dimensions)."""
    with pytest.raises(OnnxRnnError):
        parse_ndarray_list(path.read_bytes(), path.name)


def test_regressions_exist() -> None:
    assert len(REGRESSIONS) >= 4


MUTATION = st.tuples(
    st.integers(0, 10**6), st.sampled_from(["flip", "byte", "u32", "u64", "cut", "insert"]), st.integers(0, 2**64 - 1)
)
U32 = [0, 1, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, V1_MAGIC, V2_MAGIC, V3_MAGIC, 12, 33]


def apply(data: bytes, mutations) -> bytes:
    buf = bytearray(data)
    for where, kind, value in mutations:
        pos = where % (len(buf) + 1)
        if kind == "flip" and pos < len(buf):
            buf[pos] ^= 1 << (value % 8)
        elif kind == "byte" and pos < len(buf):
            buf[pos] = value % 256
        elif kind == "u32" and pos + 4 <= len(buf):
            buf[pos : pos + 4] = struct.pack("<I", U32[value % len(U32)])
        elif kind == "u64" and pos + 8 <= len(buf):
            buf[pos : pos + 8] = struct.pack("<Q", value)
        elif kind == "cut":
            del buf[pos:]
        elif kind == "insert":
            buf[pos:pos] = value.to_bytes(8, "little")[: 1 + value % 8]
    return bytes(buf)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), mutations=st.lists(MUTATION, min_size=1, max_size=6))
def test_mutated_files(seed: bytes, mutations) -> None:
    parses_or_refuses(apply(seed, mutations))


HEADER_INT = st.one_of(st.integers(-2, 40), st.sampled_from([2**31 - 1, -(2**31), 2**32 - 1]))


@settings(max_examples=300, deadline=None)
@given(
    magic=st.sampled_from([V1_MAGIC, V2_MAGIC, V3_MAGIC, 0, 1, 3]),
    stype=st.integers(-1, 3),
    dims=st.lists(st.integers(-1, 2**62), max_size=5),
    device=st.integers(-1, 6),
    flag=HEADER_INT,
    payload=st.binary(max_size=64),
    names=st.sampled_from([0, 1, 2]),
)
def test_structured_headers(magic, stype, dims, device, flag, payload, names) -> None:
    """Plausible headers with arbitrary field values: the reader must never trust a size it cannot back."""
    if magic in (V1_MAGIC, V2_MAGIC, V3_MAGIC):
        head = struct.pack("<I", magic) + (b"" if magic == V1_MAGIC else struct.pack("<i", stype))
        head += struct.pack(f"<i{len(dims)}q", len(dims), *dims)
    else:
        head = struct.pack(f"<I{magic}I", magic, *[d % 2**32 for d in dims[:magic]] + [1] * (magic - len(dims)))
    body = head + struct.pack("<iii", device, 0, flag if -(2**31) <= flag < 2**31 else 0) + payload
    tail = struct.pack("<Q", names) + b"".join(struct.pack("<Q", 1) + b"x" for _ in range(names))
    parses_or_refuses(struct.pack("<QQQ", LIST_MAGIC, 0, 1) + body + tail)


# ---------------------------------------------------------------- symbols with damaged attributes and wiring

MODELS = Path(__file__).resolve().parent.parent / "models"
ATTR_VALUES = [
    "0",
    "1",
    "-1",
    "2",
    "None",
    "True",
    "False",
    "()",
    "(0,)",
    "(-1, 0)",
    "(2, 3)",
    "(-4, -1, -1)",
    "1e300",
    "nan",
    "-inf",
    "abc",
    "",
    "[1,",
    "(1, None)",
    "float64",
    "int8",
    "gru",
    "(0, 0, 0, 0)",
    "-3",
]


def _load_model(name: str):
    return json.loads((MODELS / f"{name}-symbol.json").read_text()), split_arg_aux(
        load_params(MODELS / f"{name}-0000.params")
    )


SYMBOL_SEEDS = {name: _load_model(name) for name in ("relu_rnn", "unrolled_cells", "bilstm_seqlen", "module_lstm")}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SYMBOL_SEEDS)),
    edits=st.lists(
        st.tuples(st.integers(0, 10**6), st.sampled_from(["set", "drop", "op", "rewire"]), st.integers(0, 10**6)),
        min_size=1,
        max_size=3,
    ),
)
def test_damaged_symbols_convert_or_fail_clearly(name: str, edits) -> None:
    """Any attribute value, op name or wiring: the converter returns a model or raises OnnxRnnError."""
    doc, (args, aux) = SYMBOL_SEEDS[name]
    doc = copy.deepcopy(doc)
    ops = supported_ops()
    for where, kind, value in edits:
        node = doc["nodes"][where % len(doc["nodes"])]
        attrs = node.get("attrs") or {}
        if kind == "set" and attrs:
            attrs[sorted(attrs)[value % len(attrs)]] = ATTR_VALUES[value % len(ATTR_VALUES)]
        elif kind == "drop" and attrs:
            attrs.pop(sorted(attrs)[value % len(attrs)])
        elif kind == "op" and node["op"] != "null":
            node["op"] = ops[value % len(ops)]
        elif kind == "rewire" and node.get("inputs"):
            node["inputs"][value % len(node["inputs"])] = [value % len(doc["nodes"]), value % 3, 0]
    with contextlib.suppress(OnnxRnnError):
        convert_checkpoint(Checkpoint(parse_symbol(json.dumps(doc)), args, aux), portable=True)
