"""Where the plugin library is, and ONNX Runtime sessions with it registered."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import onnx

from .errors import OnnxRnnError

if TYPE_CHECKING:
    import onnxruntime as ort

LIBRARY_NAME = "libonnx_rnn_ops.so"
LIBRARY_ENV = "ONNX_RNN_CUSTOM_OPS_LIBRARY"
_PACKAGE_DIR = Path(__file__).resolve().parent


def library_path() -> str:
    """The plugin library's path.

    Looked up in order: ``$ONNX_RNN_CUSTOM_OPS_LIBRARY``; ``onnx_rnn/lib/`` beside this file (an installed
    package); the installed distribution's files (when this module is imported from a source checkout that
    shadows the installed package).
    """
    override = os.environ.get(LIBRARY_ENV)
    if override:
        if not Path(override).is_file():
            raise OnnxRnnError(f"{LIBRARY_ENV}={override} is not a file")
        return override
    for candidate in _candidates():
        if candidate.is_file():
            return str(candidate)
    raise OnnxRnnError(
        f"the onnx-rnn plugin library ({LIBRARY_NAME}) is not built: install the package with "
        f"'pip install .' from a checkout (it compiles custom_ops/), or set {LIBRARY_ENV}"
    )


def _candidates() -> list[Path]:
    found = [_PACKAGE_DIR / "lib" / LIBRARY_NAME]
    try:
        dist = metadata.distribution("onnx-rnn")
        found += [Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == LIBRARY_NAME]
    except metadata.PackageNotFoundError:
        pass
    return found


def plugin_available() -> bool:
    try:
        library_path()
    except OnnxRnnError:
        return False
    return True


def needs_plugin(model: onnx.ModelProto) -> bool:
    """True when a node of our domain has no model-local function to fall back on (docs/portable.md)."""
    from .export.builder import CUSTOM_DOMAIN  # noqa: PLC0415

    local = {(f.domain, f.name) for f in model.functions}
    return any(n.domain == CUSTOM_DOMAIN and (n.domain, n.op_type) not in local for n in model.graph.node)


def InferenceSession(  # named like onnxruntime.InferenceSession, which it mirrors
    model_or_path: onnx.ModelProto | bytes | str | os.PathLike[str],
    sess_options: ort.SessionOptions | None = None,
    providers: Sequence[str] | None = None,
) -> ort.InferenceSession:
    """An ``onnxruntime.InferenceSession`` with the onnx-rnn plugin registered when it is built.

    A model that needs the plugin while it is missing raises :class:`OnnxRnnError` saying how to get it.
    """
    import onnxruntime as ort  # noqa: PLC0415 (keep import of the package light)

    model_bytes, model = _load(model_or_path)
    options = sess_options if sess_options is not None else ort.SessionOptions()
    if plugin_available():
        options.register_custom_ops_library(library_path())
    elif needs_plugin(model):
        library_path()  # raises with the explanation
    chosen = _providers(providers)
    try:
        return ort.InferenceSession(model_bytes, sess_options=options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own exception types
        raise OnnxRnnError(f"ONNX Runtime could not load the model: {_one_line(error)}") from error


def _load(model_or_path: onnx.ModelProto | bytes | str | os.PathLike[str]) -> tuple[bytes | str, onnx.ModelProto]:
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path.SerializeToString(), model_or_path
    if isinstance(model_or_path, bytes):
        try:
            return model_or_path, onnx.load_from_string(model_or_path)
        except Exception as error:  # protobuf's DecodeError and others for bytes that are no ModelProto
            raise OnnxRnnError(f"the model bytes are not a serialized ONNX model: {_one_line(error)}") from None
    from .files import input_file  # noqa: PLC0415

    path = os.fspath(input_file(model_or_path, "ONNX model"))  # a regular file: never /dev/zero or a FIFO
    try:
        model = onnx.load(path, load_external_data=False)
    except (OSError, Exception) as error:  # onnx raises DecodeError and others for malformed files
        raise OnnxRnnError(f"cannot read ONNX model {path}: {_one_line(error)}") from error
    return path, model


def plugin_providers() -> list[str]:
    """The execution providers the plugin library has kernels for (it says so itself)."""
    import ctypes  # noqa: PLC0415

    library = ctypes.CDLL(library_path())
    query = getattr(library, "OnnxRnnPluginProviders", None)
    if query is None:
        return ["CPUExecutionProvider"]
    query.restype = ctypes.c_char_p
    names: bytes = query()
    return names.decode().split(",")


def plugin_cuda_status() -> str:
    """Why the plugin does or does not serve CUDA ("loaded ...", "not built: ...", "cannot load ...")."""
    import ctypes  # noqa: PLC0415

    query = getattr(ctypes.CDLL(library_path()), "OnnxRnnPluginCudaStatus", None)
    if query is None:
        return "unknown (the library does not report it)"
    query.restype = ctypes.c_char_p
    status: bytes = query()
    return status.decode()


def _providers(providers: Sequence[str] | None) -> list[str]:
    """Check the requested providers against this onnxruntime build; never switch silently.

    A provider that is not available is an error, unless the caller listed a fallback that is: then the
    unavailable ones are dropped with a warning.
    """
    import onnxruntime as ort  # noqa: PLC0415

    if not providers:
        return ["CPUExecutionProvider"]
    requested = [p if isinstance(p, str) else p[0] for p in providers]
    available = set(ort.get_available_providers())
    missing = [p for p in requested if p not in available]
    if not missing:
        return list(providers)
    kept = [p for p, name in zip(providers, requested) if name in available]
    if not kept:
        raise OnnxRnnError(
            f"execution provider(s) {', '.join(missing)} not available in this onnxruntime "
            f"(available: {', '.join(sorted(available))}); for CUDA install onnx-rnn[gpu] on a machine with "
            "an NVIDIA GPU, or list CPUExecutionProvider as a fallback"
        )
    warnings.warn(f"{', '.join(missing)} not available; running on {', '.join(map(str, kept))}", stacklevel=3)
    return kept


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
