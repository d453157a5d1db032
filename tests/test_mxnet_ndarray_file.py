"""The .params (NDArray-list) reader and writer: files MXNet 1.9.1 wrote, round trips, and corrupt files."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.mxnet.ndarray_file import (
    LIST_MAGIC,
    V2_MAGIC,
    NDArrayList,
    dump_ndarray_list,
    load_ndarray_list,
    load_params,
    parse_ndarray_list,
    save_params,
    split_arg_aux,
)

# Written by MXNet 1.9.1: mx.nd.save(f, {"arg:float32": ..., ..., "arg:bool": ...}), each array
# np.arange(6).reshape(2, 3) % 3 in that dtype.
MXNET_DTYPES = base64.b64decode(
    "EgEAAAAAAAAAAAAAAAAAAAgAAAAAAAAAyfqT+QAAAAACAAAAAgAAAAAAAAADAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAIA/AAAA"
    "QAAAAAAAAIA/AAAAQMn6k/kAAAAAAgAAAAIAAAAAAAAAAwAAAAAAAAABAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA"
    "AEAAAAAAAAAAAAAAAAAAAPA/AAAAAAAAAEDJ+pP5AAAAAAIAAAACAAAAAAAAAAMAAAAAAAAAAQAAAAAAAAACAAAAAAAAPABAAAAA"
    "PABAyfqT+QAAAAACAAAAAgAAAAAAAAADAAAAAAAAAAEAAAAAAAAAAwAAAAABAgABAsn6k/kAAAAAAgAAAAIAAAAAAAAAAwAAAAAA"
    "AAABAAAAAAAAAAUAAAAAAQIAAQLJ+pP5AAAAAAIAAAACAAAAAAAAAAMAAAAAAAAAAQAAAAAAAAAEAAAAAAAAAAEAAAACAAAAAAAA"
    "AAEAAAACAAAAyfqT+QAAAAACAAAAAgAAAAAAAAADAAAAAAAAAAEAAAAAAAAABgAAAAAAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAAA"
    "AAAAAAAAAQAAAAAAAAACAAAAAAAAAMn6k/kAAAAAAgAAAAIAAAAAAAAAAwAAAAAAAAABAAAAAAAAAAcAAAAAAQEAAQEIAAAAAAAA"
    "AAsAAAAAAAAAYXJnOmZsb2F0MzILAAAAAAAAAGFyZzpmbG9hdDY0CwAAAAAAAABhcmc6ZmxvYXQxNgkAAAAAAAAAYXJnOnVpbnQ4"
    "CAAAAAAAAABhcmc6aW50OAkAAAAAAAAAYXJnOmludDMyCQAAAAAAAABhcmc6aW50NjQIAAAAAAAAAGFyZzpib29s"
)
# npx.set_np(); npx.save(f, {"s": np.array(3.5), "z": np.zeros((0, 2)), "m": np.ones((2, 2), "float16")})
MXNET_NP_SHAPE = base64.b64decode(
    "EgEAAAAAAAAAAAAAAAAAAAMAAAAAAAAAyvqT+QAAAAAAAAAAAQAAAAAAAAAAAAAAAABgQMr6k/kAAAAAAgAAAAAAAAAAAAAAAgAA"
    "AAAAAAABAAAAAAAAAAAAAADK+pP5AAAAAAIAAAACAAAAAAAAAAIAAAAAAAAAAQAAAAAAAAACAAAAADwAPAA8ADwDAAAAAAAAAAEA"
    "AAAAAAAAcwEAAAAAAAAAegEAAAAAAAAAbQ=="
)
# mx.nd.save(f, {"s": csr of [[0, 1], [0, 0]], "r": the same as row_sparse})
MXNET_SPARSE = base64.b64decode(
    "EgEAAAAAAAAAAAAAAAAAAAIAAAAAAAAAyfqT+QIAAAABAAAAAQAAAAAAAAACAAAAAgAAAAAAAAACAAAAAAAAAAEAAAAAAAAAAAAA"
    "AAYAAAABAAAAAwAAAAAAAAAGAAAAAQAAAAEAAAAAAAAAAACAPwAAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAEAAAAAAAAAyfqT+QEA"
    "AAACAAAAAQAAAAAAAAACAAAAAAAAAAIAAAACAAAAAAAAAAIAAAAAAAAAAQAAAAAAAAAAAAAABgAAAAEAAAABAAAAAAAAAAAAAAAA"
    "AIA/AAAAAAAAAAACAAAAAAAAAAEAAAAAAAAAcwEAAAAAAAAAcg=="
)
# mx.nd.save(f, [mx.nd.array([1.0])]): a list, no names
MXNET_LIST = base64.b64decode(
    "EgEAAAAAAAAAAAAAAAAAAAEAAAAAAAAAyfqT+QAAAAABAAAAAQAAAAAAAAABAAAAAAAAAAAAAAAAAIA/AAAAAAAAAAA="
)


def test_reads_every_dtype_mxnet_writes() -> None:
    got = parse_ndarray_list(MXNET_DTYPES).as_dict()
    names = ["float32", "float64", "float16", "uint8", "int8", "int32", "int64", "bool"]
    assert list(got) == [f"arg:{n}" for n in names]
    for name in names:
        array = got[f"arg:{name}"]
        assert array.dtype == np.dtype(name)
        np.testing.assert_array_equal(array, (np.arange(6).reshape(2, 3) % 3).astype(name))
    assert dump_ndarray_list(got.values(), list(got)) == MXNET_DTYPES  # byte-identical writer


def test_reads_numpy_shape_semantics_file() -> None:
    got = parse_ndarray_list(MXNET_NP_SHAPE).as_dict()
    assert got["s"].shape == () and got["s"] == 3.5
    assert got["z"].shape == (0, 2)
    assert got["m"].dtype == np.float16 and got["m"].shape == (2, 2)
    assert dump_ndarray_list(got.values(), list(got), version=3) == MXNET_NP_SHAPE


def test_sparse_storage_is_refused_by_name() -> None:
    with pytest.raises(OnnxRnnError, match=r"sparse storage is not supported: 's' \(csr\), 'r' \(row_sparse\)"):
        parse_ndarray_list(MXNET_SPARSE)


def test_unnamed_list() -> None:
    parsed = parse_ndarray_list(MXNET_LIST)
    assert parsed.names is None and len(parsed.arrays) == 1
    with pytest.raises(OnnxRnnError, match="1 unnamed arrays; expected named parameters"):
        parsed.as_dict("x.params")
    assert NDArrayList([], None).as_dict() == {}


def test_bfloat16_is_widened_exactly() -> None:
    bits = np.array([0x3F80, 0xC000, 0x7F80], dtype="<u2")  # 1.0, -2.0, inf
    data = (
        struct.pack("<QQQ", LIST_MAGIC, 0, 1)
        + struct.pack("<Iiiq", V2_MAGIC, 0, 1, 3)
        + struct.pack("<iii", 1, 0, 12)
        + bits.tobytes()
        + struct.pack("<Q", 0)
    )
    (array,) = parse_ndarray_list(data).arrays
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, [1.0, -2.0, np.inf])


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_none_arrays_and_versions(version: int) -> None:
    data = dump_ndarray_list([np.ones((2, 1), np.int32), None], ["a", "b"], version=version)
    a, b = parse_ndarray_list(data).arrays
    np.testing.assert_array_equal(a, np.ones((2, 1), np.int32))
    assert b is None


DTYPES = st.sampled_from(
    [
        np.float16,
        np.float32,
        np.float64,
        np.uint8,
        np.int8,
        np.int32,
        np.int64,
        np.bool_,
        np.int16,
        np.uint16,
        np.uint32,
        np.uint64,
    ]
)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), version=st.sampled_from([0, 1, 2, 3]), named=st.booleans())
def test_round_trip(data, version: int, named: bool) -> None:
    arrays = []
    for _ in range(data.draw(st.integers(0, 4))):
        dtype = data.draw(DTYPES)
        shape = data.draw(hnp.array_shapes(min_dims=0 if version == 3 else 1, max_dims=4, min_side=0, max_side=4))
        arrays.append(data.draw(hnp.arrays(dtype, shape)))
    names = [data.draw(st.text(max_size=12)) for _ in arrays] if named else None
    parsed = parse_ndarray_list(dump_ndarray_list(arrays, names, version=version))
    assert parsed.names == (names or None)
    assert len(parsed.arrays) == len(arrays)
    for got, want in zip(parsed.arrays, arrays):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_files_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "m-0000.params"
    save_params(path, {"arg:w": np.ones((2, 3), np.float32), "aux:mean": np.zeros(3, np.float64), "b": np.ones(1)})
    loaded = load_params(path)
    args, aux = split_arg_aux(loaded)
    assert sorted(args) == ["b", "w"] and list(aux) == ["mean"]
    assert load_ndarray_list(path).names == ["arg:w", "aux:mean", "b"]
    assert [p.name for p in tmp_path.iterdir()] == ["m-0000.params"]  # no temporary file left


def test_save_refuses_unstorable_dtype_without_leaving_a_file(tmp_path: Path) -> None:
    with pytest.raises(OnnxRnnError, match="cannot store dtype complex64"):
        save_params(tmp_path / "x.params", {"a": np.ones(2, np.complex64)})
    assert not list(tmp_path.iterdir())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OnnxRnnError, match="cannot read parameter file"):
        load_params(tmp_path / "nope.params")
    with pytest.raises(OnnxRnnError, match="cannot read parameter file"):
        load_params(tmp_path)


# ---------------------------------------------------------------- corrupt files

VALID = dump_ndarray_list(
    [np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(3, dtype=np.int64)], ["arg:w", "aux:m"]
)


def test_every_truncation_is_a_clear_error() -> None:
    for length in range(len(VALID)):
        with pytest.raises(OnnxRnnError, match="not a valid MXNet NDArray"):
            parse_ndarray_list(VALID[:length], "cut.params")


def _patch(data: bytes, offset: int, fmt: str, value) -> bytes:
    size = struct.calcsize("<" + fmt)
    return data[:offset] + struct.pack("<" + fmt, value) + data[offset + size :]


ARRAY0 = 24  # the first array's magic: after the list magic, reserved word and count


@pytest.mark.parametrize(
    "offset, fmt, value, message",
    [
        (0, "Q", 0x113, "wrong magic number 0x113; expected 0x112"),
        (0, "Q", 0x89504E470D0A1A0A, "wrong magic number"),
        (16, "Q", 2**40, "array count is 1099511627776, more than"),
        (ARRAY0, "I", 0xF993FAC0, "array magic number is 0xF993FAC0; expected 0xF993FAC9"),
        (ARRAY0 + 4, "i", 7, "storage type is 7; expected 0"),
        (ARRAY0 + 8, "i", -3, "shape has -3 dimensions"),
        (ARRAY0 + 8, "i", 1000, "shape has 1000 dimensions"),
        (ARRAY0 + 12, "q", -5, "negative dimension"),
        (ARRAY0 + 12, "q", 2**50, "impossibly large"),
        (ARRAY0 + 12, "q", 2**30, "truncated: array data"),
        (ARRAY0 + 28, "i", 9, "device type is 9"),
        (ARRAY0 + 36, "i", 99, "dtype flag is 99"),
    ],
)
def test_corrupt_header_fields(offset: int, fmt: str, value, message: str) -> None:
    with pytest.raises(OnnxRnnError, match=message):
        parse_ndarray_list(_patch(VALID, offset, fmt, value), "bad.params")


def test_name_list_problems() -> None:
    names_at = len(VALID) - (8 + 8 + 5 + 8 + 5)  # count, then two length-prefixed names
    with pytest.raises(OnnxRnnError, match="name count is 1; expected 0 or the array count 2"):
        parse_ndarray_list(_patch(VALID, names_at, "Q", 1))
    with pytest.raises(OnnxRnnError, match="unexpected bytes after the name list"):
        parse_ndarray_list(VALID + b"\0")
    bad_utf8 = VALID[:-5] + b"\xff\xfe:m1"
    with pytest.raises(OnnxRnnError, match="not valid UTF-8"):
        parse_ndarray_list(bad_utf8)
    twice = dump_ndarray_list([np.ones(1), np.ones(1)], ["a", "a"])
    with pytest.raises(OnnxRnnError, match="holds the parameter name 'a' twice"):
        parse_ndarray_list(twice).as_dict()


def test_not_a_params_file_at_all(tmp_path: Path) -> None:
    path = tmp_path / "model-symbol.json"
    path.write_text('{"nodes": []}')
    with pytest.raises(OnnxRnnError, match="wrong magic number"):
        load_params(path)
    path.write_bytes(b"")
    with pytest.raises(OnnxRnnError, match="truncated: list magic"):
        load_params(path)
