"""Reading arrays and writing models: atomic writes (never a partial output) and ONNX external data."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from . import limits
from .errors import OnnxRnnError

# Models whose tensors exceed this are saved with ONNX external data (protobuf's 2 GiB limit).
EXTERNAL_DATA_THRESHOLD = 1 << 30


def input_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` if it names a regular file (symlinks followed) within the file-size limit.

    Devices (``/dev/zero``), FIFOs and folders are refused: reading them may never end or return unbounded data.
    """
    path = as_path(path, what)
    try:
        info = path.stat()
    except OSError as error:
        raise OnnxRnnError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise OnnxRnnError(f"cannot read {what} {path}: it is {_kind(info.st_mode)}; expected a regular file")
    limits.check(limits.FILE_BYTES, info.st_size, f"{what} {path}: its size in bytes")
    return path


def as_path(path: Any, what: str) -> Path:
    """``path`` as a Path; anything that is not a path (None, a number) is an OnnxRnnError naming the input."""
    try:
        return Path(path)
    except TypeError:
        raise OnnxRnnError(
            f"{what}: expected a file path (str or os.PathLike[str]), got {type(path).__name__}"
        ) from None


def read_input(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of a regular file, refused before reading when it is not one or is above the size limit."""
    path = input_file(path, what)
    bound = limits.value(limits.FILE_BYTES)
    try:
        with open(path, "rb") as f:
            data = f.read(bound + 1)
    except OSError as error:
        raise OnnxRnnError(f"cannot read {what} {path}: {error.strerror or error}") from None
    limits.check(limits.FILE_BYTES, len(data), f"{what} {path}: its size in bytes")
    return data


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def load_json(data: bytes | str, source: str) -> Any:
    """Parse JSON, refusing nesting deeper than the JSON depth limit before the parser recurses into it."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = json_depth(raw)
    limits.check(limits.JSON_DEPTH, depth, f"{source}: its JSON nesting depth")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise OnnxRnnError(f"{source} is not valid JSON: {' '.join(str(error).split())}") from None


def json_depth(raw: bytes) -> int:
    """Deepest nesting of ``[``/``{`` in JSON text, ignoring brackets inside strings (linear, vectorised)."""
    codes = np.frombuffer(raw, dtype=np.uint8)
    if not codes.size:
        return 0
    quote, backslash = codes == ord('"'), codes == ord("\\")
    # a quote is escaped when an odd run of backslashes ends just before it
    positions = np.arange(codes.size)
    last_other = np.maximum.accumulate(np.where(backslash, -1, positions))
    run = np.where(backslash, positions - last_other, 0)
    escaped = np.zeros(codes.size, dtype=bool)
    escaped[1:] = (run[:-1] % 2) == 1
    real_quote = quote & ~escaped
    inside = (np.cumsum(real_quote) % 2) == 1  # True from an opening quote up to (not incl.) its closing one
    opens = ((codes == ord("[")) | (codes == ord("{"))) & ~inside
    closes = ((codes == ord("]")) | (codes == ord("}"))) & ~inside
    steps = opens.astype(np.int64) - closes.astype(np.int64)
    return int(max(np.max(np.cumsum(steps)), 0))


def load_array(path: str | os.PathLike[str], key: str | None = None, flag: str | None = None) -> np.ndarray:
    """A ``.npy`` file, or one array of a ``.npz`` named by ``key`` (or its only array); ``flag`` names the
    option the path was given to, for the messages."""
    given = "" if flag is None else f" (given to {flag})"
    what = "array file"
    path = input_file(path, what + given)
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - NumPy raises ValueError, OSError, EOFError, zipfile.BadZipFile, ...
        raise OnnxRnnError(f"cannot read {what} {path}{given}: {_why(error)}; expected a .npy or .npz file") from None
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
        return npz_member(loaded, key, path, what + given)


def load_npz(path: str | os.PathLike[str], what: str) -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` by name; a ``.npy`` or a damaged archive is an OnnxRnnError."""
    path = input_file(path, what)
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - see load_array
        raise OnnxRnnError(f"cannot read {what} {path}: {_why(error)}; expected a .npz file") from None
    if not hasattr(loaded, "files"):
        raise OnnxRnnError(f"{what} {path} is a single array (.npy); expected a .npz file of named arrays")
    with loaded:
        return {name: npz_member(loaded, name, path, what) for name in loaded.files}


def npz_member(archive: Any, key: str, path: Path, what: str) -> np.ndarray:
    """One member of an open ``.npz``; a corrupt member (bad CRC, truncated, pickled) is an OnnxRnnError."""
    try:
        info = archive.zip.getinfo(key if key in archive.zip.namelist() else f"{key}.npy")
        limits.check(limits.FILE_BYTES, info.file_size, f"array {key!r} of {what} {path}: its size in bytes")
        array = archive[key]
    except OnnxRnnError:
        raise
    except Exception as error:  # noqa: BLE001 - zipfile.BadZipFile, zlib.error, ValueError (pickles), EOFError, ...
        raise OnnxRnnError(f"cannot read array {key!r} of {what} {path}: {_why(error)}") from None
    if not isinstance(array, np.ndarray):
        raise OnnxRnnError(f"{what} {path}: {key!r} is not an array")
    return array


def _why(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def load_attrs(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The RNN operator's attribute dictionary from a JSON file (as MXNet's symbol JSON writes it)."""
    attrs = load_json(read_input(path, "attributes JSON"), f"attributes JSON {path}")
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
    an error (or SIGINT/SIGTERM/SIGHUP in the CLI) never leaves a partial model behind. Only a regular file or
    a new name is ever replaced: a symlink, device, FIFO or folder at the path is refused.
    """
    path = output_path(path, "output path", "a .onnx file name")
    parent = path.parent
    external = tensor_bytes(model) > EXTERNAL_DATA_THRESHOLD
    data_name = path.name + ".data"
    if external:
        output_path(parent / data_name, "external data path", "a regular file or a new name")
    with staging_folder(parent, path) as staging:
        staged = staging / path.name
        try:
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
                publish(staging / data_name, parent / data_name)
            else:
                onnx.save_model(model, staged)
            publish(staged, path)
        except OSError as error:
            raise OnnxRnnError(f"cannot write {path}: {error.strerror or error}") from None


def output_path(path: str | os.PathLike[str], what: str, expected: str) -> Path:
    """``path`` as an output: its folder must exist, and anything already there must be a regular file.

    Symlinks are refused rather than followed (writing through one replaces a file the user did not name).
    """
    path = as_path(path, what)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OnnxRnnError(f"cannot write {what} {path}: {error.strerror or error}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OnnxRnnError(f"{what} {path} is {_kind(info.st_mode)}; expected {expected} (it is left untouched)")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise OnnxRnnError(f"output folder {parent} of {path} does not exist")
    return path.absolute()


@contextlib.contextmanager
def staging_folder(parent: Path, target: Path) -> Iterator[Path]:
    """A hidden temporary folder in ``parent`` (same file system: renames are atomic), always removed."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=".onnx-rnn-", dir=parent))
    except OSError as error:
        raise OnnxRnnError(f"cannot write {target}: {error.strerror or error} (in folder {parent})") from None
    try:
        yield staging
    finally:  # also on KeyboardInterrupt and the CLI's SIGTERM/SIGHUP exception
        shutil.rmtree(staging, ignore_errors=True)


def publish(staged: Path, target: Path) -> None:
    """Give ``staged`` the permissions a new file gets under the umask, then rename it onto ``target``.

    ``target`` is checked again just before the rename: a symlink or device that appeared meanwhile is refused.
    """
    os.chmod(staged, 0o666 & ~current_umask())
    output_path(target, "output path", "a regular file or a new name")
    os.replace(staged, target)


def write_outputs(files: dict[Path, bytes], *, overwrite: bool) -> None:
    """Write several files all-or-nothing: every target is checked, then all are staged, then renamed.

    Without ``overwrite`` an existing file is an error (nothing is written).
    """
    targets = {output_path(p, "output file", "a regular file or a new name"): data for p, data in files.items()}
    if len(targets) != len(files):
        raise OnnxRnnError(f"two outputs would be written to one file among {sorted(map(str, files))}")
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise OnnxRnnError(f"{', '.join(existing)} already exist(s); expected new file names (or pass --overwrite)")
    by_folder: dict[Path, list[Path]] = {}
    for target in targets:
        by_folder.setdefault(target.parent, []).append(target)
    with contextlib.ExitStack() as stack:
        staged: list[tuple[Path, Path]] = []
        for folder, names in by_folder.items():
            staging = stack.enter_context(staging_folder(folder, names[0]))
            for k, target in enumerate(names):
                temp = staging / f"{k}.tmp"
                try:
                    temp.write_bytes(targets[target])
                except OSError as error:
                    raise OnnxRnnError(f"cannot write {target}: {error.strerror or error}") from None
                staged.append((temp, target))
        try:
            for temp, target in staged:
                publish(temp, target)
        except OSError as error:
            raise OnnxRnnError(f"cannot write {target}: {error.strerror or error}") from None


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, what: str = "output file") -> None:
    """Write one file atomically (a temporary file beside it, then a rename); see :func:`write_outputs`."""
    path = output_path(path, what, "a regular file or a new name")
    with staging_folder(path.parent, path) as staging:
        temp = staging / "data.tmp"
        try:
            temp.write_bytes(data)
            publish(temp, path)
        except OSError as error:
            raise OnnxRnnError(f"cannot write {path}: {error.strerror or error}") from None


def current_umask() -> int:
    """The process umask (read from /proc where possible: setting it to probe is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
