"""Reading arrays and writing models: atomic writes (never a partial output) and ONNX external data."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from .errors import OnnxRnnError

# Models whose tensors exceed this are saved with ONNX external data (protobuf's 2 GiB limit).
EXTERNAL_DATA_THRESHOLD = 1 << 30


def load_array(path: str | os.PathLike[str], key: str | None = None) -> np.ndarray:
    """A ``.npy`` file, or one array of a ``.npz`` named by ``key`` (or its only array)."""
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise OnnxRnnError(f"cannot read array file {path}: {' '.join(str(error).split())}") from error
    if isinstance(loaded, np.ndarray):
        if key is not None:
            raise OnnxRnnError(f"{path} is a .npy file; a key ({key!r}) only applies to .npz files")
        return loaded
    with loaded:
        names = list(loaded.files)
        if key is None and len(names) == 1:
            key = names[0]
        if key is None or key not in names:
            wanted = "a key" if key is None else f"key {key!r}"
            raise OnnxRnnError(f"{path} needs {wanted}; it holds {names}")
        return np.asarray(loaded[key])


def load_attrs(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The RNN operator's attribute dictionary from a JSON file (as MXNet's symbol JSON writes it)."""
    try:
        attrs = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise OnnxRnnError(f"cannot read attributes JSON {path}: {' '.join(str(error).split())}") from error
    if not isinstance(attrs, dict):
        raise OnnxRnnError(f"{path} must hold a JSON object of RNN attributes, got {type(attrs).__name__}")
    return attrs


def tensor_bytes(model: onnx.ModelProto) -> int:
    return sum(int(np.prod(t.dims, dtype=np.int64)) * _itemsize(t.data_type) for t in model.graph.initializer)


def _itemsize(data_type: int) -> int:
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(data_type)).itemsize


def save_model(model: onnx.ModelProto, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` atomically; large models get a ``<name>.data`` external-data file
    (their tensors are moved out of ``model`` on the way, which keeps memory near one copy).

    Everything is first written into a temporary folder beside the target and then renamed into place, so
    an error never leaves a partial model behind.
    """
    path = Path(path)
    if path.is_dir():
        raise OnnxRnnError(f"output path {path} is a directory; expected a .onnx file name")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise OnnxRnnError(f"output folder {parent} does not exist")
    external = tensor_bytes(model) > EXTERNAL_DATA_THRESHOLD
    data_name = path.name + ".data"
    staging = Path(tempfile.mkdtemp(prefix=".onnx-rnn-", dir=parent))
    try:
        staged = staging / path.name
        if external:
            onnx.save_model(
                model,
                staged,
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=data_name,
                size_threshold=1024,
            )
            onnx.checker.check_model(str(staged), full_check=True)
            os.replace(staging / data_name, parent / data_name)
        else:
            onnx.save_model(model, staged)
        os.replace(staged, path)
    except OSError as error:
        raise OnnxRnnError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
