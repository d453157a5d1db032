"""Fuzz targets for hostile input (issue 11): what each one feeds, and the property it checks.

Every target is a hypothesis strategy of inputs plus a ``check`` that must either succeed or raise
OnnxRnnError (the plugin: an ONNX Runtime error status), within the limits of onnx_rnn/limits.py. Anything
else is a finding. Inputs are stored as bytes (``encode``/``decode``) so that tests/fuzz_regressions/ can keep
every finding as a file that test_fuzz_short.py replays.

Targets: ``params`` (the .params reader), ``symbol`` (the symbol reader and the converter), ``attrs`` (the
CLI's --attrs file and RNN flags, through ``onnx-rnn convert``), ``plugin`` (the onnx_rnn.LSTM node with
hostile attributes and shapes; run it against the ASan/UBSan build with ``make fuzz-plugin-sanitize``).
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import functools
import io
import json
import struct
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st

from onnx_rnn.errors import OnnxRnnError

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
REGRESSIONS = REPO / "tests" / "fuzz_regressions"


class Finding(AssertionError):
    """The property failed: an exception other than OnnxRnnError, or a limit that did not hold."""


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy
    encode: Callable[[Any], bytes]  # an input as the bytes kept in tests/fuzz_regressions/
    check: Callable[[bytes], None]  # raises Finding (or lets a non-OnnxRnnError through) on a failure
    suffix: str


# ---------------------------------------------------------------- params: the NDArray-list reader


def _params_seeds() -> list[bytes]:
    from onnx_rnn.mxnet.ndarray_file import dump_ndarray_list

    arrays: list[np.ndarray | None] = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.zeros((0, 2), np.float16),
        np.arange(3),
        None,
    ]
    seeds = [dump_ndarray_list(arrays, ["arg:a", "arg:b", "aux:c", "arg:d"], version=v) for v in (0, 1, 2, 3)]
    return seeds + [p.read_bytes() for p in sorted(MODELS.glob("*.params"))[:3]]


U32 = [0, 1, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xF993FAC8, 0xF993FAC9, 0xF993FACA, 0x112, 12, 32, 33]
MUTATION = st.tuples(
    st.integers(0, 10**7),
    st.sampled_from(["flip", "byte", "u32", "u64", "cut", "insert", "dup"]),
    st.integers(0, 2**64 - 1),
)


def mutate(data: bytes, mutations: list[tuple[int, str, int]]) -> bytes:
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
        elif kind == "dup" and buf:
            span = 1 + value % 64
            buf[pos:pos] = buf[pos : pos + span]
    return bytes(buf)


def _params_strategy() -> st.SearchStrategy:
    return st.builds(mutate, st.sampled_from(_params_seeds()), st.lists(MUTATION, min_size=1, max_size=8))


def check_params(data: bytes) -> None:
    from onnx_rnn.mxnet.ndarray_file import NDArrayList, parse_ndarray_list, split_arg_aux

    try:
        result = parse_ndarray_list(data, "<fuzz>")
        split_arg_aux(result.as_dict("<fuzz>"))
    except OnnxRnnError:
        return
    if not isinstance(result, NDArrayList):
        raise Finding(f"parse_ndarray_list returned {type(result).__name__}")
    total = sum(a.nbytes for a in result.arrays if a is not None)
    if total > 8 * len(data) + 1024:  # bfloat16 widens 2x; nothing may grow beyond what the file holds
        raise Finding(f"{len(data)} bytes of file became {total} bytes of arrays")


# ---------------------------------------------------------------- symbol: the symbol reader and the converter

SYMBOL_MODELS = ("relu_rnn", "unrolled_cells", "bilstm_seqlen", "module_lstm", "fused_gru", "lstmp_clip")
HOSTILE_VALUES = [
    "0",
    "1",
    "-1",
    "2",
    "None",
    "True",
    "()",
    "(0,)",
    "(-1, 0)",
    "(2, 3)",
    "(16384, 17408)",
    "(1000000000,)",
    "(0, 1000000, 1000000)",
    "1000000000",
    "-4611686018427387904",
    "1e300",
    "nan",
    "-inf",
    "",
    "[1,",
    "{[]}",
    "{(1, 2): 3}",
    "(" * 3000 + ")" * 3000,
    "[" * 50 + "]" * 50,
    "²",
    "--1",
    "١",
    "float64",
    "int8",
    "bfloat16",
    "gru",
    "lstm",
    "'" + "a" * 10000 + "'",
    "9" * 5000,
    "0x" + "f" * 5000,
    "-0x" + "f" * 400,
    "\x00",
    "(1, None)",
]
SYMBOL_EDIT = st.tuples(
    st.integers(0, 10**6),
    st.sampled_from(["set", "add", "drop", "op", "rewire", "head", "clone", "creation", "rename"]),
    st.integers(0, 10**6),
)


def _symbol_seeds() -> dict[str, dict[str, Any]]:
    return {name: json.loads((MODELS / f"{name}-symbol.json").read_text()) for name in SYMBOL_MODELS}


_SEEDS: dict[str, dict[str, Any]] | None = None
_PARAMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}


def edit_symbol(name: str, edits: list[tuple[int, str, int]], byte_mutations: list[tuple[int, str, int]]) -> bytes:
    """A seed model's symbol with attribute, op and wiring edits; ``name`` travels in front of the JSON."""
    global _SEEDS
    if _SEEDS is None:
        _SEEDS = _symbol_seeds()
    from onnx_rnn.mxnet import supported_ops

    doc = copy.deepcopy(_SEEDS[name])
    nodes = doc["nodes"]
    ops = supported_ops()
    keys = ["shape", "num_layers", "state_size", "num_hidden", "axis", "dim", "num_outputs", "reps", "dtype"]
    keys += ["__shape__", "__dtype__", "mode", "bidirectional", "projection_size", "begin", "end", "num_args"]
    for where, kind, value in edits:
        node = nodes[where % len(nodes)]
        attrs = node.setdefault("attrs", {})
        hostile = HOSTILE_VALUES[value % len(HOSTILE_VALUES)]
        if kind == "set" and attrs:
            attrs[sorted(attrs)[value % len(attrs)]] = hostile
        elif kind == "add":
            attrs[keys[value % len(keys)]] = hostile
        elif kind == "drop" and attrs:
            attrs.pop(sorted(attrs)[value % len(attrs)])
        elif kind == "op" and node["op"] != "null":
            node["op"] = ops[value % len(ops)]
        elif kind == "rewire" and node.get("inputs"):
            node["inputs"][value % len(node["inputs"])] = [value % len(nodes), value % 3, 0]
        elif kind == "head":
            doc["heads"].append([value % len(nodes), value % 2, 0])
        elif kind == "clone" and node["op"] != "null":
            clone = copy.deepcopy(node)
            clone["name"] = f"{node['name']}_clone{value % 100}"
            clone["inputs"] = [[len(nodes) - 1, 0, 0]] * max(1, len(node.get("inputs", [])))
            nodes.append(clone)
            doc["heads"] = [[len(nodes) - 1, 0, 0]]
        elif kind == "rename":
            names = ["", " ", "a/b:0", "x" * 300, nodes[value % len(nodes)]["name"], nodes[-1]["name"] + "_output"]
            node["name"] = names[value % len(names)]
        elif kind == "creation":
            op = ["_zeros", "_ones", "_full", "zeros_like"][value % 4]
            nodes.append({"op": op, "name": f"made{len(nodes)}", "attrs": {"shape": hostile, "value": "1"}})
            if op == "zeros_like":
                nodes[-1]["inputs"] = [[value % (len(nodes) - 1), 0, 0]]
            doc["heads"].append([len(nodes) - 1, 0, 0])
    text = json.dumps(doc).encode()
    return name.encode() + b"\n" + (mutate(text, byte_mutations) if byte_mutations else text)


def _symbol_strategy() -> st.SearchStrategy:
    return st.builds(
        edit_symbol,
        st.sampled_from(SYMBOL_MODELS),
        st.lists(SYMBOL_EDIT, min_size=1, max_size=5),
        st.one_of(st.just([]), st.lists(st.tuples(st.integers(0, 10**6), st.just("byte"), st.integers()), max_size=2)),
    )


def check_symbol(data: bytes) -> None:
    from onnx_rnn import limits
    from onnx_rnn.files import tensor_bytes
    from onnx_rnn.mxnet import parse_symbol
    from onnx_rnn.mxnet.convert import Checkpoint, convert_checkpoint
    from onnx_rnn.mxnet.ndarray_file import load_params, split_arg_aux

    name, _, text = data.partition(b"\n")
    model_name = name.decode(errors="replace")
    if model_name not in SYMBOL_MODELS:
        return
    if model_name not in _PARAMS:
        _PARAMS[model_name] = split_arg_aux(load_params(MODELS / f"{model_name}-0000.params"))
    args, aux = _PARAMS[model_name]
    try:
        model = convert_checkpoint(Checkpoint(parse_symbol(text, "<fuzz>"), args, aux), portable=True)
    except OnnxRnnError as error:
        if "MemoryError" in str(error) or "RecursionError" in str(error):
            raise Finding(f"a limit did not hold: {error}") from None
        if "internal error" in str(error):
            raise Finding(f"the converter reported its own bug: {error}") from None
        return
    params_bytes = sum(a.nbytes for a in list(args.values()) + list(aux.values()) if a is not None)
    if tensor_bytes(model) > 4 * params_bytes + limits.value(limits.CONSTANT_BYTES):
        raise Finding(f"a {len(text)}-byte symbol made {tensor_bytes(model)} bytes of initializers")


# ---------------------------------------------------------------- attrs: --attrs files and RNN flags, via the CLI

ATTR_KEYS = [
    "mode",
    "state_size",
    "num_layers",
    "bidirectional",
    "p",
    "state_outputs",
    "projection_size",
    "lstm_state_clip_min",
    "lstm_state_clip_max",
    "lstm_state_clip_nan",
    "use_sequence_length",
    "__layout__",
    "cudnn_algo",
    "bogus",
]
ATTR_VALUE = st.one_of(
    st.sampled_from(HOSTILE_VALUES + ["lstm", "gru", "rnn_tanh", "rnn_relu", "4", "0.5", "(4,)", "False"]),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-3, 3), max_size=3),
    st.text(max_size=20),
)


def _attrs_text(attrs: dict[str, Any], mutations: list[tuple[int, str, int]]) -> bytes:
    text = json.dumps(attrs).encode()
    return mutate(text, mutations) if mutations else text


def _attrs_strategy() -> st.SearchStrategy:
    base = st.fixed_dictionaries(
        {"mode": st.sampled_from(["lstm", "gru", "rnn_tanh", "rnn_relu"]), "state_size": st.sampled_from(["2", "3"])}
    )
    extra = st.dictionaries(st.sampled_from(ATTR_KEYS), ATTR_VALUE, max_size=5)
    attrs = st.builds(lambda a, b: {**a, **b}, base, extra)
    return st.builds(_attrs_text, attrs, st.one_of(st.just([]), st.lists(MUTATION, max_size=3)))


def check_attrs(data: bytes) -> None:
    """``onnx-rnn convert --attrs FILE --params P.npy -o M.onnx``: exit 0, or exit 2 with one line, no bug."""
    from onnx_rnn.cli import main

    with tempfile.TemporaryDirectory(prefix="fuzz-attrs-") as tmp:
        folder = Path(tmp)
        (folder / "attrs.json").write_bytes(data)
        np.save(folder / "p.npy", np.linspace(-1, 1, 4 * 3 * (2 + 3 + 2), dtype=np.float32))  # lstm H=3, I=2
        argv = ["convert", "--attrs", str(folder / "attrs.json"), "--params", str(folder / "p.npy")]
        argv += ["-o", str(folder / "m.onnx")]
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = main(argv)
        message = err.getvalue()
        if status not in (0, 2) or "internal error" in message or message.count("\n") > 1:
            raise Finding(f"exit status {status}, stderr {message!r}")
        if status == 2 and (folder / "m.onnx").exists():
            raise Finding("a failed convert left a model behind")
        leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
        if leftovers:
            raise Finding(f"staging files left behind: {leftovers}")


# ---------------------------------------------------------------- plugin: the onnx_rnn.LSTM node


@dataclass(frozen=True)
class PluginCase:
    attrs: dict[str, Any]
    shapes: list[list[int] | None]  # per input: a shape, or None for absent
    seq_values: list[int]
    dtype: str


def _plugin_strategy() -> st.SearchStrategy:
    dim = st.one_of(st.integers(0, 5), st.sampled_from([7, 16, 33]))
    shape = st.lists(dim, min_size=0, max_size=4)
    attr_value = st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.sampled_from([0, 1, 2, 3, 4, -1]),
        st.floats(allow_nan=True, allow_infinity=True, width=32),
        st.sampled_from(["forward", "reverse", "bidirectional", "", "FORWARD", "x" * 300]),
    )
    attrs = st.dictionaries(
        st.sampled_from(["hidden_size", "direction", "clip_min", "clip_max", "clip_nan", "layout", "activations"]),
        attr_value,
        max_size=6,
    )
    return st.builds(
        PluginCase,
        attrs,
        st.lists(st.one_of(st.none(), shape), min_size=1, max_size=8),
        st.lists(st.integers(-(2**31), 2**31 - 1), max_size=6),
        st.sampled_from(["float32", "float64", "float16", "int32", "int64"]),
    )


def _encode_plugin(case: PluginCase) -> bytes:
    return json.dumps(
        {"attrs": case.attrs, "shapes": case.shapes, "seq_values": case.seq_values, "dtype": case.dtype},
        allow_nan=True,
    ).encode()


PLUGIN_INPUTS = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "projection"]


def plugin_model(doc: dict[str, Any]) -> tuple[Any, dict[str, np.ndarray]]:
    """A one-node onnx_rnn.LSTM model with the case's attributes, and its feeds."""
    from onnx import TensorProto, helper

    dtype = np.dtype(doc["dtype"])
    elem = {
        "float32": TensorProto.FLOAT,
        "float64": TensorProto.DOUBLE,
        "float16": TensorProto.FLOAT16,
        "int32": TensorProto.INT32,
        "int64": TensorProto.INT64,
    }
    names, feeds, graph_inputs = [], {}, []
    for k, shape in enumerate(doc["shapes"][: len(PLUGIN_INPUTS)]):
        name = PLUGIN_INPUTS[k]
        if shape is None:
            names.append("")
            continue
        names.append(name)
        if name == "sequence_lens":
            values = (doc["seq_values"] or [1]) * (1 + int(np.prod(shape, dtype=np.int64)))
            array = np.array(values[: int(np.prod(shape, dtype=np.int64))], np.int64).astype(np.int32).reshape(shape)
        else:
            rng = np.random.default_rng(k)
            array = rng.standard_normal(shape).astype(dtype)
        feeds[name] = array
        graph_inputs.append(helper.make_tensor_value_info(name, elem[str(array.dtype)], None))
    while names and not names[-1]:
        names.pop()
    attrs = {}
    for key, value in doc["attrs"].items():
        if isinstance(value, float) and key in ("hidden_size", "clip_nan", "layout"):
            value = int(value) if np.isfinite(value) else 0
        attrs[key] = value
    node = helper.make_node("LSTM", names or ["X"], ["Y", "Y_h", "Y_c"], domain="onnx_rnn", **attrs)
    outputs = [helper.make_tensor_value_info(n, elem[str(dtype)], None) for n in ("Y", "Y_h", "Y_c")]
    graph = helper.make_graph([node], "fuzz", graph_inputs, outputs)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("onnx_rnn", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8), feeds


@functools.cache
def keep_plugin_loaded(path: str) -> ctypes.CDLL:
    """Hold one handle on the plugin for the life of the process, as a serving process does.

    ONNX Runtime dlopens the library for each session's options and dlcloses it with them. Under AddressSanitizer
    every such load/unload cycle keeps about 0.7 MB that is never given back (sanitizers do not support dlclose:
    google/sanitizers#318), so the 30-minute run grew to 24 GB and was killed by the kernel's OOM killer on an
    input that replays clean. Without the sanitizers the cycle costs nothing (measured: RSS flat over 2000
    sessions). Cached, so the handle lives as long as the process."""
    return ctypes.CDLL(path)


def check_plugin(data: bytes) -> None:
    """Session creation and one run: a result or an ONNX Runtime error; a crash kills the process (the long
    runner keeps the input that was running in tests/fuzz_regressions/)."""
    import onnxruntime as ort

    from onnx_rnn.runtime import library_path

    keep_plugin_loaded(library_path())
    try:
        doc = json.loads(data)
        model, feeds = plugin_model(doc)
    except (ValueError, TypeError, KeyError, OverflowError):
        return  # not a case this target builds (a mutated file)
    options = ort.SessionOptions()
    options.register_custom_ops_library(library_path())
    options.log_severity_level = 4
    options.intra_op_num_threads = 1
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        session.run(None, feeds)
    except Exception:  # noqa: BLE001 - onnxruntime's error types: the kernel returned a status
        return


TARGETS: dict[str, Target] = {}


def quiet(check: Callable[[bytes], None]) -> Callable[[bytes], None]:
    """``check`` with one more property: no Python warning. The CLI prints warnings on stderr, above its one-line
    error (Python's parser warned so about "1if" in an attribute before ``ast.literal_eval`` raised)."""

    def checked(data: bytes) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check(data)
        if caught:
            raise Finding(f"a warning would reach stderr: {caught[0].category.__name__}: {caught[0].message}")

    return checked


def targets() -> dict[str, Target]:
    if not TARGETS:
        TARGETS.update(
            params=Target("params", _params_strategy(), bytes, quiet(check_params), ".params"),
            symbol=Target("symbol", _symbol_strategy(), bytes, quiet(check_symbol), ".symbol"),
            attrs=Target("attrs", _attrs_strategy(), bytes, quiet(check_attrs), ".json"),
            plugin=Target("plugin", _plugin_strategy(), _encode_plugin, quiet(check_plugin), ".plugin.json"),
        )
    return TARGETS


def regression_files(target: str) -> list[Path]:
    suffix = targets()[target].suffix
    return sorted(p for p in REGRESSIONS.glob(f"{target}-*{suffix}"))
