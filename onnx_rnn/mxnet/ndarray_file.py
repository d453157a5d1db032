"""MXNet's binary NDArray-list format (``.params`` files, ``mx.nd.save``), read and written without MXNet.

File layout (all integers little-endian)::

    uint64  0x112                       list magic (kMXAPINDArrayListMagic)
    uint64  0                           reserved
    uint64  n                           number of arrays, then n arrays:
        uint32  0xF993FAC9              array magic V2 (0xF993FACA: V3, NumPy shape semantics;
                                        0xF993FAC8: V1; any other value: V0, where it is ndim itself)
        int32   storage type            V2/V3 only: 0 dense, 1 row_sparse, 2 csr
        [shape  storage shape]          sparse only
        shape                           V1-V3: int32 ndim + ndim x int64; V0: ndim x uint32
        -- a "none" array (V0-V2: ndim 0; V3: ndim -1 or a -1 dimension) ends here --
        int32   device type, int32 device id
        int32   dtype flag              mshadow: 0 f32, 1 f64, 2 f16, 3 u8, 4 i32, 5 i8, 6 i64, 7 bool,
                                        8 i16, 9 u16, 10 u32, 11 u64, 12 bf16
        [sparse: per aux array int32 dtype flag + shape]
        data                            prod(shape) x itemsize bytes (sparse: prod(storage shape))
        [sparse: aux data]
    uint64  m                           number of names (0 or n), then m times:
        uint64  length, bytes           e.g. "arg:lstm0_l0_i2h_weight", "aux:bn_moving_mean"

Sparse arrays are parsed (to be skipped correctly and named in the error) but refused: a checkpoint for
inference holds dense weights.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import OnnxRnnError

LIST_MAGIC = 0x112
V1_MAGIC = 0xF993FAC8
V2_MAGIC = 0xF993FAC9
V3_MAGIC = 0xF993FACA
ARRAY_MAGICS = (V1_MAGIC, V2_MAGIC, V3_MAGIC)

STORAGE_TYPES = {0: "default (dense)", 1: "row_sparse", 2: "csr"}
SPARSE_AUX_COUNT = {1: 1, 2: 2}  # row_sparse: indices; csr: indptr, indices

#: mshadow type flags -> NumPy dtypes ("bfloat16" is widened to float32 on reading).
DTYPE_FLAGS: dict[int, str] = {
    0: "float32",
    1: "float64",
    2: "float16",
    3: "uint8",
    4: "int32",
    5: "int8",
    6: "int64",
    7: "bool",
    8: "int16",
    9: "uint16",
    10: "uint32",
    11: "uint64",
    12: "bfloat16",
}
FLAG_OF_DTYPE = {np.dtype(name): flag for flag, name in DTYPE_FLAGS.items() if name != "bfloat16"}

#: Any legacy (V0) ndim above this is taken for a corrupt or foreign file, not a real array.
MAX_NDIM = 32
#: No real array has more elements than this, even counting a zero-sized dimension as 1 (NumPy would
#: refuse such shapes, and a corrupt header should say so rather than fail deep inside NumPy).
MAX_ELEMENTS = 2**48
#: Devices MXNet writes: 1 cpu, 2 gpu, 3 cpu_pinned, 5 cpu_shared.
DEVICE_TYPES = {1, 2, 3, 5}


@dataclass(frozen=True)
class NDArrayList:
    """The contents of one NDArray-list file: arrays in file order and, when the file has them, names."""

    arrays: list[np.ndarray | None]  # None for MXNet's "none" (uninitialised) arrays
    names: list[str] | None

    def as_dict(self, source: str = "the file") -> dict[str, np.ndarray | None]:
        if self.names is None and self.arrays:
            raise OnnxRnnError(
                f"{source} holds {len(self.arrays)} unnamed arrays; expected named parameters "
                "('arg:NAME' / 'aux:NAME'), as save_checkpoint and HybridBlock.export write them"
            )
        out: dict[str, np.ndarray | None] = {}
        for name, array in zip(self.names or [], self.arrays):
            if name in out:
                raise OnnxRnnError(f"{source} holds the parameter name {name!r} twice")
            out[name] = array
        return out


class _Reader:
    """Bounds-checked little-endian reads over an in-memory buffer; every failure is an OnnxRnnError."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.source = source
        self.context = "the file header"

    def fail(self, what: str) -> OnnxRnnError:
        return OnnxRnnError(
            f"{self.source}: {what} (in {self.context}, at byte offset {self.pos}); "
            "not a valid MXNet NDArray (.params) file"
        )

    def take(self, size: int, what: str) -> memoryview:
        if size < 0 or self.pos + size > len(self.data):
            raise self.fail(f"truncated: {what} needs {size} bytes, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str, what: str) -> int:
        value: int = struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0]
        return value

    def u32(self, what: str) -> int:
        return self.unpack("I", what)

    def i32(self, what: str) -> int:
        return self.unpack("i", what)

    def u64(self, what: str) -> int:
        return self.unpack("Q", what)

    def count(self, what: str, min_item_bytes: int) -> int:
        """A uint64 element count, rejected when the remaining bytes cannot possibly hold that many items."""
        n = self.u64(what)
        if n * min_item_bytes > len(self.data) - self.pos:
            raise self.fail(
                f"truncated or corrupt: {what} is {n}, more than the "
                f"{len(self.data) - self.pos} remaining bytes can hold"
            )
        return n


def _shape(r: _Reader, what: str, magic: int) -> tuple[int, ...] | None:
    """One shape; None for an unknown dimension count or unknown dimension (NumPy-semantics "none")."""
    if magic not in ARRAY_MAGICS:  # V0: the magic word was ndim, dims are uint32
        ndim = magic
        dims = tuple(struct.unpack(f"<{ndim}I", r.take(4 * ndim, f"{what} dimensions")))
        _check_size(r, what, dims)
        return dims
    ndim = r.i32(f"{what} ndim")
    if ndim == -1 and magic == V3_MAGIC:
        return None
    if not 0 <= ndim <= MAX_NDIM:
        raise r.fail(f"{what} has {ndim} dimensions; expected 0..{MAX_NDIM}")
    dims = struct.unpack(f"<{ndim}q", r.take(8 * ndim, f"{what} dimensions"))
    if magic == V3_MAGIC and -1 in dims:
        return None
    if any(d < 0 for d in dims):
        raise r.fail(f"{what} {tuple(dims)} has a negative dimension")
    _check_size(r, what, dims)
    return tuple(dims)


def _check_size(r: _Reader, what: str, dims: tuple[int, ...]) -> None:
    size = 1
    for d in dims:
        size *= max(d, 1)
    if size > MAX_ELEMENTS:
        raise r.fail(f"{what} {tuple(dims)} is impossibly large (over 2**48 elements)")


def _dtype(r: _Reader, what: str) -> str:
    flag = r.i32(what)
    if flag not in DTYPE_FLAGS:
        raise r.fail(f"{what} is {flag}; expected one of {sorted(DTYPE_FLAGS)} ({', '.join(DTYPE_FLAGS.values())})")
    return DTYPE_FLAGS[flag]


def _data(r: _Reader, dtype: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    size = 1
    for d in shape:
        size *= d
    itemsize = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
    if size * itemsize > len(r.data) - r.pos:  # before multiplying buffers out: no huge allocations
        raise r.fail(
            f"truncated: {what} of shape {shape} and dtype {dtype} needs {size * itemsize} bytes, "
            f"{len(r.data) - r.pos} left"
        )
    raw = r.take(size * itemsize, what)
    if dtype == "bfloat16":  # the upper half of a float32: widen exactly
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        widened: np.ndarray = bits.view(np.float32).reshape(shape).copy()
        return widened
    array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    return array.astype(np.dtype(dtype), copy=True)  # native byte order, owning its memory


def _array(r: _Reader, index: int) -> tuple[np.ndarray | None, str | None]:
    """One array; returns (array, None) or (None, storage name) for a sparse array that was skipped."""
    magic = r.u32("array magic")
    if magic not in ARRAY_MAGICS and magic > MAX_NDIM:
        raise r.fail(
            f"array magic number is 0x{magic:08X}; expected 0x{V2_MAGIC:08X} "
            f"(or 0x{V3_MAGIC:08X}, 0x{V1_MAGIC:08X}, or a legacy dimension count)"
        )
    stype = 0
    if magic in (V2_MAGIC, V3_MAGIC):
        stype = r.i32("storage type")
        if stype not in STORAGE_TYPES:
            raise r.fail(f"storage type is {stype}; expected 0 (dense), 1 (row_sparse) or 2 (csr)")
        if stype != 0 and magic == V3_MAGIC:
            raise r.fail("a sparse array in a NumPy-shape (V3) file, which MXNet never writes")
    n_aux = SPARSE_AUX_COUNT.get(stype, 0)
    storage_shape = _shape(r, "storage shape", magic) if n_aux else None
    shape = _shape(r, "shape", magic)
    if shape is None or (magic != V3_MAGIC and len(shape) == 0):
        return None, None  # MXNet's "none" array: nothing else is stored
    if n_aux and storage_shape is None:
        raise r.fail("sparse array without a storage shape")
    device_type = r.i32("device type")
    r.i32("device id")
    if device_type not in DEVICE_TYPES:
        raise r.fail(f"device type is {device_type}; expected one of {sorted(DEVICE_TYPES)}")
    dtype = _dtype(r, "dtype flag")
    if not n_aux:
        return _data(r, dtype, shape, "array data"), None
    aux = [(_dtype(r, "sparse index dtype"), _shape(r, "sparse index shape", magic)) for _ in range(n_aux)]
    if storage_shape is None:  # n_aux > 0: read with the storage shape above
        raise r.fail("sparse array without a storage shape")
    _data(r, dtype, storage_shape, "sparse values")
    for aux_dtype, aux_shape in aux:
        if aux_shape is None:
            raise r.fail("sparse index array without a shape")
        _data(r, aux_dtype, aux_shape, "sparse index data")
    return None, STORAGE_TYPES[stype]


def parse_ndarray_list(data: bytes, source: str = "<bytes>") -> NDArrayList:
    """Parse the bytes of an NDArray-list file. Sparse arrays raise OnnxRnnError naming them."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise OnnxRnnError(f"{source}: expected the bytes of an NDArray file, got a {type(data).__name__}")
    r = _Reader(data, source)
    header = r.u64("list magic")
    if header != LIST_MAGIC:
        raise r.fail(f"wrong magic number 0x{header:X}; expected 0x{LIST_MAGIC:X} at the start of the file")
    r.u64("reserved word")
    n = r.count("array count", 4)
    arrays: list[np.ndarray | None] = []
    sparse: list[tuple[int, str]] = []
    for index in range(n):
        r.context = f"array {index} of {n}"
        array, storage = _array(r, index)
        arrays.append(array)
        if storage is not None:
            sparse.append((index, storage))
    r.context = "the name list"
    m = r.count("name count", 8)
    if m not in (0, n):
        raise r.fail(f"name count is {m}; expected 0 or the array count {n}")
    names: list[str] = []
    for i in range(m):
        length = r.count(f"length of name {i}", 1)
        raw = bytes(r.take(length, f"name {i}"))
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise r.fail(f"name {i} is not valid UTF-8: {raw[:40]!r}") from None
    if r.pos != len(r.data):
        raise r.fail(f"{len(r.data) - r.pos} unexpected bytes after the name list")
    if sparse:
        described = ", ".join(f"{names[i] if names else f'array {i}'!r} ({storage})" for i, storage in sparse)
        raise OnnxRnnError(
            f"{source}: sparse storage is not supported: {described}; expected dense arrays. "
            "Convert them with .tostype('default') in MXNet and save again"
        )
    return NDArrayList(arrays, names or None)


def load_ndarray_list(path: str | os.PathLike[str]) -> NDArrayList:
    """Read an NDArray-list file (``mx.nd.save``/``.params``) from disk."""
    from ..files import read_input  # noqa: PLC0415 (a regular file within the size limit: never /dev/zero)

    return parse_ndarray_list(read_input(path, "parameter file"), str(path))


def load_params(path: str | os.PathLike[str]) -> dict[str, np.ndarray | None]:
    """Named arrays of a ``.params`` file, keys as stored (``arg:``/``aux:`` prefixes kept)."""
    return load_ndarray_list(path).as_dict(str(path))


def split_arg_aux(
    params: Mapping[str, np.ndarray | None],
) -> tuple[dict[str, np.ndarray | None], dict[str, np.ndarray | None]]:
    """``arg:``/``aux:`` prefixes -> two dicts; unprefixed names (``save_parameters``) count as args."""
    args: dict[str, np.ndarray | None] = {}
    aux: dict[str, np.ndarray | None] = {}
    stored_as: dict[str, str] = {}  # bare name -> the key it came from
    for key, value in params.items():
        kind, sep, name = key.partition(":")
        if not (sep and kind in ("arg", "aux")):
            name = key
        if name in stored_as:  # "arg:fc_bias" and "fc_bias" (or "aux:fc_bias"): which one is meant?
            raise OnnxRnnError(
                f"the parameter file holds both {stored_as[name]!r} and {key!r}, which name one parameter "
                f"{name!r}; expected each parameter once"
            )
        stored_as[name] = key
        (aux if sep and kind == "aux" else args)[name] = value
    return args, aux


# ---------------------------------------------------------------- writing


def _pack_array(array: np.ndarray | None, magic: int) -> bytes:
    """One array record; ``magic`` 0 selects the legacy V0 layout (no magic word, uint32 dimensions)."""
    if array is None:  # MXNet's "none" array: the header up to an empty shape
        return {
            V3_MAGIC: struct.pack("<Iii", V3_MAGIC, 0, -1),
            V2_MAGIC: struct.pack("<Iii", V2_MAGIC, 0, 0),
            V1_MAGIC: struct.pack("<Ii", V1_MAGIC, 0),
            0: struct.pack("<I", 0),
        }[magic]
    array = np.asarray(array)
    if array.dtype not in FLAG_OF_DTYPE:
        raise OnnxRnnError(
            f"cannot store dtype {array.dtype} in an MXNet NDArray file; "
            f"expected one of {sorted(str(d) for d in FLAG_OF_DTYPE)}"
        )
    if array.ndim == 0 and magic != V3_MAGIC:
        array = array.reshape(1)  # outside NumPy semantics ndim 0 means "none"
    if array.ndim > MAX_NDIM:
        raise OnnxRnnError(f"cannot store {array.ndim} dimensions; expected at most {MAX_NDIM}")
    shape = array.shape
    if magic == 0:
        head = struct.pack(f"<I{len(shape)}I", len(shape), *shape)
    else:
        head = struct.pack("<I", magic) + (b"" if magic == V1_MAGIC else struct.pack("<i", 0))
        head += struct.pack(f"<i{len(shape)}q", len(shape), *shape)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return head + struct.pack("<iii", 1, 0, FLAG_OF_DTYPE[array.dtype]) + data


def dump_ndarray_list(
    arrays: Iterable[np.ndarray | None], names: Sequence[str] | None = None, *, version: int = 2
) -> bytes:
    """Serialise arrays (and optional names) the way ``mx.nd.save`` does.

    ``version`` 2 is what MXNet 1.x writes; 3 is NumPy-shape semantics (``npx.set_np``); 1 and 0 are the
    legacy formats MXNet still reads. Used by tests and the fuzzer; MXNet reads the result.
    """
    magic = {0: 0, 1: V1_MAGIC, 2: V2_MAGIC, 3: V3_MAGIC}.get(version)
    if magic is None:
        raise OnnxRnnError(f"unknown NDArray file version {version}; expected 0, 1, 2 or 3")
    arrays = list(arrays)
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(arrays))]
    parts += [_pack_array(a, magic) for a in arrays]
    names = list(names or [])
    if names and len(names) != len(arrays):
        raise OnnxRnnError(f"{len(names)} names for {len(arrays)} arrays; expected one name per array")
    parts.append(struct.pack("<Q", len(names)))
    for name in names:
        raw = name.encode("utf-8")
        parts.append(struct.pack("<Q", len(raw)) + raw)
    return b"".join(parts)


def save_params(path: str | os.PathLike[str], params: Mapping[str, np.ndarray | None], *, version: int = 2) -> None:
    """Write named arrays as an MXNet ``.params`` file (atomically: a temporary file, then a rename)."""
    data = dump_ndarray_list(params.values(), list(params.keys()), version=version)
    write_atomic(path, data)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so no partial file is left
    (and only a regular file or a new name is replaced; see :func:`onnx_rnn.files.write_bytes_atomic`)."""
    from ..files import write_bytes_atomic  # noqa: PLC0415

    write_bytes_atomic(path, data, "parameter file")
