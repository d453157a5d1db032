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
from .export.contract import check_custom_nodes

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


def uses_custom_ops(model: onnx.ModelProto) -> bool:
    """True when a graph node is of our domain (with or without a fallback function)."""
    from .export.builder import CUSTOM_DOMAIN  # noqa: PLC0415

    return any(n.domain == CUSTOM_DOMAIN for n in model.graph.node)


def plugin_serves(model: onnx.ModelProto) -> bool:
    """True when :func:`InferenceSession` registers the plugin for ``model``: it has custom nodes and the
    library is built. Then the plugin's kernel runs them; otherwise their fallback functions do."""
    return uses_custom_ops(model) and plugin_available()


def InferenceSession(  # named like onnxruntime.InferenceSession, which it mirrors
    model_or_path: onnx.ModelProto | bytes | str | os.PathLike[str],
    sess_options: ort.SessionOptions | None = None,
    providers: Sequence[str] | None = None,
) -> ort.InferenceSession:
    """An ``onnxruntime.InferenceSession`` with the onnx-rnn plugin registered when the model has custom nodes
    and the plugin is built (a model of standard nodes never loads the library).

    A model that needs the plugin while it is missing raises :class:`OnnxRnnError` saying how to get it, and so
    does a node of our domain the plugin would refuse or misread (export/contract.py). ``sess_options`` is
    never changed: the plugin is registered on a copy (:func:`copy_session_options`), so the same options
    serve any number of calls.
    """
    import onnxruntime as ort  # noqa: PLC0415 (keep import of the package light)

    model_bytes, model = _load(model_or_path)
    check_custom_nodes(model)
    options = copy_session_options(sess_options)
    if plugin_serves(model):  # only for custom nodes: a model of standard nodes never loads the library
        options.register_custom_ops_library(library_path())
    elif needs_plugin(model):
        library_path()  # raises with the explanation
    chosen = _providers(providers)
    try:
        return ort.InferenceSession(model_bytes, sess_options=options, providers=chosen)
    except Exception as error:  # onnxruntime raises its own exception types
        raise OnnxRnnError(f"ONNX Runtime could not load the model: {_one_line(error)}") from error


# Session configuration keys (onnxruntime_session_options_config_keys.h, 1.21) copied when the caller set them.
_CONFIG_KEYS = [
    "session.disable_prepacking",
    "session.use_env_allocators",
    "session.load_model_format",
    "session.save_model_format",
    "session.set_denormal_as_zero",
    "session.disable_quant_qdq",
    "session.disable_double_qdq_remover",
    "session.enable_quant_qdq_cleanup",
    "optimization.enable_gelu_approximation",
    "session.disable_aot_function_inlining",
    "optimization.memory_optimizer_config",
    "optimization.enable_memory_probe_recompute_config",
    "optimization.disable_specified_optimizers",
    "session.use_device_allocator_for_initializers",
    "session.inter_op.allow_spinning",
    "session.intra_op.allow_spinning",
    "session.use_ort_model_bytes_directly",
    "session.qdqisint8allowed",
    "session.x64quantprecision",
    "session.dynamic_block_base",
    "session.force_spinning_stop",
    "session.strict_shape_type_inference",
    "session.allow_released_opsets_only",
    "session.node_partition_config_file",
    "session.intra_op_thread_affinities",
    "session.debug_layout_transformation",
    "session.disable_cpu_ep_fallback",
    "session.collect_node_memory_stats_to_file",
    "ep.context_enable",
    "ep.context_file_path",
    "ep.context_embed_mode",
    "ep.context_node_name_prefix",
    "ep.share_ep_contexts",
    "session.qdq_matmulnbits_accuracy_level",
]
_PROPERTIES = [
    "enable_cpu_mem_arena",
    "enable_mem_pattern",
    "enable_mem_reuse",
    "enable_profiling",
    "execution_mode",
    "execution_order",
    "graph_optimization_level",
    "inter_op_num_threads",
    "intra_op_num_threads",
    "log_severity_level",
    "log_verbosity_level",
    "logid",
    "optimized_model_filepath",
    "profile_file_prefix",
    "use_deterministic_compute",
    "use_per_session_threads",
]


def copy_session_options(options: ort.SessionOptions | None = None) -> ort.SessionOptions:
    """A new ``onnxruntime.SessionOptions`` with ``options``' settings (a fresh one for None).

    ONNX Runtime's SessionOptions cannot be copied or pickled, and registering a custom-op library on one
    changes it for good (a second registration fails with "Domain already set in registry"). So the plugin is
    registered on a copy: every readable property and every documented session configuration entry is carried
    over. What the Python API cannot read back (initializers added with ``add_initializer``, free-dimension
    overrides, other custom-op libraries) is not: set those on options you pass to ``onnxruntime`` directly.
    """
    import onnxruntime as ort  # noqa: PLC0415

    fresh = ort.SessionOptions()
    if options is None:
        return fresh
    for name in _PROPERTIES:
        if hasattr(options, name):
            setattr(fresh, name, getattr(options, name))
    for key in _CONFIG_KEYS:
        value = _config_entry(options, key)
        if value is not None:
            fresh.add_session_config_entry(key, value)
    return fresh


def _config_entry(options: ort.SessionOptions, key: str) -> str | None:
    """The session configuration entry ``key``, or None when it is not set (onnxruntime raises then)."""
    try:
        return str(options.get_session_config_entry(key))
    except RuntimeError:
        return None


def _load(model_or_path: onnx.ModelProto | bytes | str | os.PathLike[str]) -> tuple[bytes | str, onnx.ModelProto]:
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path.SerializeToString(), model_or_path
    if isinstance(model_or_path, bytes):
        return model_or_path, onnx.load_from_string(model_or_path)
    path = os.fspath(model_or_path)
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


def cpu_kernel_path() -> str:
    """The instruction set the plugin's CPU kernel uses for sessions created now, as
    "avx2 (this CPU: avx2,avx512-on-avx2,baseline)": the best this CPU runs, or the one $ONNX_RNN_CPU_ISA
    forces ("error: ..." when that is unknown or unsupported here). See custom_ops/README.md, "Instruction sets"."""
    import ctypes  # noqa: PLC0415

    library = ctypes.CDLL(library_path())
    path, paths = getattr(library, "OnnxRnnCpuKernelPath", None), getattr(library, "OnnxRnnCpuKernelPaths", None)
    if path is None or paths is None:
        return "unknown (the library does not report it)"
    path.restype = paths.restype = ctypes.c_char_p
    return f"{path().decode()} (this CPU: {paths().decode()})"


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
            f"(available: {', '.join(sorted(available))}); for CUDA install onnxruntime-gpu as docs/gpu.md says, on a machine with "
            "an NVIDIA GPU, or list CPUExecutionProvider as a fallback"
        )
    warnings.warn(f"{', '.join(missing)} not available; running on {', '.join(map(str, kept))}", stacklevel=3)
    return kept


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
