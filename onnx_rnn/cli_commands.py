"""Arguments and handlers of each ``onnx-rnn`` subcommand (cli.py wires them into argparse)."""

from __future__ import annotations

import argparse
import logging
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import OnnxRnnError
from .providers import PROVIDERS, provider_names

if TYPE_CHECKING:
    import onnx

# Parse-time imports stay light (argparse, numpy): onnx and onnxruntime load inside the handlers, so `--help`
# answers at once.


# ---------------------------------------------------------------- convert
def add_convert_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "checkpoint",
        nargs="*",
        metavar="FILE",
        help="an MXNet checkpoint: PREFIX-symbol.json PREFIX-NNNN.params (instead of --params)",
    )
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    p.add_argument("--params", help="MXNet's flat parameter vector (.npy, or .npz with --params-key)")
    p.add_argument("--params-key", help="the array's name inside a .npz given to --params")
    p.add_argument("--attrs", help="the RNN operator's attributes as MXNet's symbol JSON writes them")
    p.add_argument("--mode", choices=["lstm", "gru", "rnn_tanh", "rnn_relu"], help="MXNet RNN mode")
    p.add_argument("--state-size", type=int, metavar="H", help="hidden state size (MXNet state_size)")
    p.add_argument("--num-layers", type=int, metavar="L", help="stacked layers (default 1)")
    p.add_argument("--bidirectional", action="store_true", default=None, help="both directions in every layer")
    p.add_argument("--state-outputs", action="store_true", default=None, help="also output the final states")
    p.add_argument(
        "--use-sequence-length",
        action="store_true",
        default=None,
        help="add an int32 sequence_length (N,) input (cuDNN padded-data semantics)",
    )
    p.add_argument("--projection-size", type=int, metavar="P", help="LSTM projection size (LSTMP), below --state-size")
    p.add_argument("--lstm-state-clip-min", type=float, metavar="A", help="LSTM: clip the cell state to >= A")
    p.add_argument("--lstm-state-clip-max", type=float, metavar="B", help="LSTM: clip the cell state to <= B")
    p.add_argument(
        "--lstm-state-clip-nan",
        action="store_true",
        default=None,
        help="LSTM clipping: a NaN cell becomes the lower bound (default: NaN propagates)",
    )
    p.add_argument("--input-size", type=int, help="checked against the size the parameter vector implies")
    p.add_argument(
        "--input-shape",
        action="append",
        default=[],
        metavar="NAME=D0,D1,...",
        help="checkpoints: fix an input's shape (default: batch and time are symbolic)",
    )
    p.add_argument(
        "--input-dtype",
        action="append",
        default=[],
        metavar="NAME=DTYPE",
        help="checkpoints: an input's element type (e.g. sequence_length=int32; default: the weights' float type)",
    )
    p.add_argument(
        "--outputs",
        action="append",
        default=[],
        metavar="NAME,...",
        help="checkpoints: the heads to convert, as MXNet names node outputs (e.g. pred_output); "
        "default: the symbol's heads. Picks inference heads out of a training symbol",
    )
    p.add_argument("--zero-initial-state", action="store_true", help="no state inputs: the model starts from zeros")
    p.add_argument("--opset", type=int, help="ONNX opset (default 17)")
    layer_form = p.add_mutually_exclusive_group()
    layer_form.add_argument(
        "--portable",
        action="store_true",
        help="standard ONNX operators only, also for projection and clipping (no plugin)",
    )
    layer_form.add_argument(
        "--plugin-only",
        action="store_true",
        help="projection/clipping layers need the onnx-rnn plugin (no portable fallback)",
    )


_SPEC_FLAGS = (
    "mode",
    "state_size",
    "num_layers",
    "bidirectional",
    "state_outputs",
    "use_sequence_length",
    "projection_size",
    "lstm_state_clip_min",
    "lstm_state_clip_max",
    "lstm_state_clip_nan",
)
_FLAGS_FORM_ONLY = ("params", "params_key", "attrs", "input_size", "zero_initial_state") + _SPEC_FLAGS


def run_convert(args: argparse.Namespace) -> int:
    if args.checkpoint:
        return _convert_checkpoint(args)
    from .export import export_spec  # noqa: PLC0415
    from .files import load_array, save_model  # noqa: PLC0415
    from .spec import RNNSpec  # noqa: PLC0415

    if args.params is None:
        raise OnnxRnnError("give --params (with RNN flags or --attrs) or a checkpoint's two files")
    if args.input_shape:
        raise OnnxRnnError("--input-shape applies to checkpoints; a converted RNN's T and N are always symbolic")
    if args.input_dtype or args.outputs:
        raise OnnxRnnError("--input-dtype and --outputs apply to checkpoints (the symbol defines inputs and heads)")
    spec = RNNSpec.from_mxnet_attrs(_spec_attrs(args))
    parameters = load_array(args.params, args.params_key)
    model = export_spec(
        spec,
        parameters,
        input_size=args.input_size,
        zero_initial_state=args.zero_initial_state,
        opset=args.opset,
        **_backend_kwargs(args),
    )
    save_model(model, args.output)
    print(written_summary(args.output, model))
    return 0


def written_summary(path: str, model: onnx.ModelProto) -> str:
    """What both convert forms print: nodes, inputs and outputs with their shapes, and whether it has custom
    nodes (symbolic dimensions by name: README, Symbolic dimensions)."""
    from .export.builder import CUSTOM_DOMAIN  # noqa: PLC0415

    graph = model.graph
    inputs = ", ".join(f"{i.name}{_shape(i)}" for i in graph.input)
    outputs = ", ".join(f"{o.name}{_shape(o)}" for o in graph.output)
    custom = any(n.domain == CUSTOM_DOMAIN for n in graph.node)
    return f"wrote {path}: {len(graph.node)} nodes; inputs {inputs}; outputs {outputs}" + (
        "; uses the onnx_rnn.LSTMP custom op" if custom else ""
    )


def _shape(value_info: onnx.ValueInfoProto) -> str:
    tensor = value_info.type.tensor_type
    if not tensor.HasField("shape"):
        return "(?)"
    dims = [
        d.dim_param if d.HasField("dim_param") else str(d.dim_value) if d.HasField("dim_value") else "?"
        for d in tensor.shape.dim
    ]
    return "(" + ", ".join(dims) + ")"


def _spec_attrs(args: argparse.Namespace) -> dict[str, Any]:
    """Spec attributes from --attrs, overridden by explicit flags (flags win)."""
    from .files import load_attrs  # noqa: PLC0415

    attrs = load_attrs(args.attrs) if args.attrs else {}
    for name in _SPEC_FLAGS:
        value = getattr(args, name)
        if value is not None:
            attrs[name] = value
    if "mode" not in attrs or "state_size" not in attrs:
        raise OnnxRnnError("--mode and --state-size are required (or an --attrs file that has them)")
    return attrs


def _backend_kwargs(args: argparse.Namespace) -> dict[str, bool]:
    kwargs = {}
    if args.portable:
        kwargs["portable"] = True
    if getattr(args, "plugin_only", False):
        kwargs["plugin_only"] = True
    return kwargs


def _convert_checkpoint(args: argparse.Namespace) -> int:
    """The checkpoint form: the symbol defines the graph, so the flags form's options must be absent."""
    from .mxnet.cli_commands import run_convert_checkpoint  # noqa: PLC0415

    given = [f"--{name.replace('_', '-')}" for name in _FLAGS_FORM_ONLY if getattr(args, name) not in (None, False)]
    if given:
        raise OnnxRnnError(f"{', '.join(given)} do not apply to a checkpoint (the symbol defines the graph)")
    return run_convert_checkpoint(args)


# ---------------------------------------------------------------- run
def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="the .onnx model")
    p.add_argument(
        "--input", action="append", default=[], metavar="NAME=FILE.npy", help="a graph input (repeat for each)"
    )
    p.add_argument("--out-dir", default=".", help="where to write each output as NAME.npy (default: .)")
    p.add_argument(
        "--provider",
        choices=sorted(PROVIDERS),
        action="append",
        help="execution provider, in order of preference (repeat to allow a fallback)",
    )


def run_run(args: argparse.Namespace) -> int:
    from .session import run_model  # noqa: PLC0415

    feeds = dict(_parse_input(item) for item in args.input)
    for name, value in feeds.items():
        logging.getLogger("onnx_rnn").info("input %s: %s %s", name, value.dtype, tuple(value.shape))
    outputs = run_model(args.model, feeds, providers=provider_names(args.provider))
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        raise OnnxRnnError(f"--out-dir {out_dir} is not a folder")
    from .check import implementations  # noqa: PLC0415

    for line in implementations(args.model):
        print(f"ran: {line}")
    for name, value in outputs.items():
        np.save(out_dir / f"{_file_stem(name)}.npy", value)
        print(f"{name}: shape {tuple(value.shape)} {value.dtype} -> {out_dir / (_file_stem(name) + '.npy')}")
    return 0


def _parse_input(item: str) -> tuple[str, np.ndarray]:
    from .files import load_array  # noqa: PLC0415

    name, sep, path = item.partition("=")
    if not sep or not name or not path:
        raise OnnxRnnError(f"--input takes NAME=FILE.npy, got {item!r}")
    return name, load_array(path)


def _file_stem(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


# ---------------------------------------------------------------- check
def add_check_arguments(p: argparse.ArgumentParser) -> None:
    from .check import add_arguments  # noqa: PLC0415

    add_arguments(p)


def run_check(args: argparse.Namespace) -> int:
    from .check import run  # noqa: PLC0415

    return run(args)


# ---------------------------------------------------------------- info
def add_info_arguments(p: argparse.ArgumentParser) -> None:
    del p  # no arguments


def run_info(args: argparse.Namespace) -> int:
    import onnx  # noqa: PLC0415
    import onnxruntime as ort  # noqa: PLC0415

    from . import __version__  # noqa: PLC0415
    from .runtime import cpu_kernel_path, library_path, plugin_cuda_status, plugin_providers  # noqa: PLC0415

    print(f"onnx-rnn     {__version__}")
    print(f"python       {platform.python_version()}")
    print(f"numpy        {np.__version__}")
    print(f"onnx         {onnx.__version__}")
    print(f"onnxruntime  {ort.__version__}")
    print(f"providers    {', '.join(ort.get_available_providers())}")
    try:
        path = library_path()
    except OnnxRnnError as error:
        print(f"plugin       not available: {error}")
        return 0
    print(f"plugin       {path}")
    print(f"plugin serves {', '.join(plugin_providers())}")
    print(f"plugin CUDA  {plugin_cuda_status()}")
    print(f"plugin CPU   {cpu_kernel_path()}")
    return 0


# ---------------------------------------------------------------- bench
def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    from .bench import add_arguments  # noqa: PLC0415

    add_arguments(p)


def run_bench(args: argparse.Namespace) -> int:
    from .bench import run  # noqa: PLC0415

    return run(args)
