"""PyTorch models with ``nn.LSTM``/``nn.GRU``/``nn.RNN`` inside -> ONNX, the RNNs emitted by onnx-rnn.

How: during ``torch.onnx.export`` (the TorchScript exporter, ``dynamo=False``) every RNN module is swapped
for a stand-in whose forward runs the real module inside a ``torch.autograd.Function``; that function's
``symbolic`` writes one placeholder node (domain ``onnx_rnn_torch``) carrying the module's key. PyTorch's
exporter writes everything else. Afterwards each placeholder is replaced by the nodes onnx-rnn's layer
emitters write for the module's RNNSpec and weights (export/: standard nodes where exact; our custom op with
its fallback function for projection; the portable form on request). The stand-ins are removed again, even
on error, so the user's model is left as it was.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import onnx
import onnx.numpy_helper

from ..errors import OnnxRnnError
from ..export.builder import GraphBuilder
from ..export.model import BATCH, SEQ, check_opset, layer_backend
from ..export.rnn import emit_rnn
from ..files import save_model
from .modules import TorchRNN, from_module, is_rnn_module

PLACEHOLDER_DOMAIN = "onnx_rnn_torch"
PLACEHOLDER_OP = "RNN"


@dataclass(frozen=True)
class ModuleOutputs:
    output: str  # the module's layout: (T, N, D*R), or (N, T, D*R) when batch_first
    state: str  # (L*D, N, R)
    state_cell: str | None  # (L*D, N, H), LSTM only


def emit_module(
    builder: GraphBuilder, rnn: TorchRNN, *, data: str, h0: str | None, c0: str | None, backend: str
) -> ModuleOutputs:
    """Append one RNN module's nodes to ``builder``; ``data`` is in the module's layout (batch_first or not)."""
    x = builder.node("Transpose", [data], perm=[1, 0, 2])[0] if rnn.batch_first else data
    outs = emit_rnn(
        builder,
        rnn.spec,
        rnn.parameters,
        data=x,
        state=h0,
        state_cell=c0 if rnn.spec.mode == "lstm" else None,
        input_size=rnn.input_size,
        backend=backend,
    )
    y = builder.node("Transpose", [outs.output], perm=[1, 0, 2])[0] if rnn.batch_first else outs.output
    return ModuleOutputs(y, outs.state_output, outs.state_cell_output)


def export_rnn_module(
    module: Any,
    *,
    initial_state: bool = True,
    opset: int | None = None,
    portable: bool = False,
    plugin_only: bool = False,
) -> onnx.ModelProto:
    """One bare ``nn.LSTM``/``nn.GRU``/``nn.RNN`` -> a checked ONNX model with MXNet-style graph names.

    Inputs: ``data`` (T, N, I), or (N, T, I) for a ``batch_first`` module; with ``initial_state`` also
    ``state`` (L*D, N, R) and, for LSTM, ``state_cell`` (L*D, N, H) (PyTorch's h_0 and c_0). Outputs:
    ``output`` (the module's layout, last axis D*R), ``state_output`` (h_n) and, for LSTM,
    ``state_cell_output`` (c_n). R is ``proj_size`` when projecting, else ``hidden_size``; T and N symbolic.
    """
    rnn = from_module(module)
    spec = rnn.spec
    builder = GraphBuilder(check_opset(opset))
    LD, H, R = spec.num_layers * spec.directions, spec.state_size, spec.output_size
    lead = [BATCH, SEQ] if rnn.batch_first else [SEQ, BATCH]
    data = builder.add_input("data", rnn.dtype, [*lead, rnn.input_size])
    h0 = c0 = None
    if initial_state:
        h0 = builder.add_input("state", rnn.dtype, [LD, BATCH, R])
        if spec.mode == "lstm":
            c0 = builder.add_input("state_cell", rnn.dtype, [LD, BATCH, H])
    outs = emit_module(builder, rnn, data=data, h0=h0, c0=c0, backend=layer_backend(portable, plugin_only))
    builder.add_output(builder.rename_to_output(outs.output, "output"), rnn.dtype, [*lead, spec.directions * R])
    builder.add_output(builder.rename_to_output(outs.state, "state_output"), rnn.dtype, [LD, BATCH, R])
    if outs.state_cell is not None:
        builder.add_output(builder.rename_to_output(outs.state_cell, "state_cell_output"), rnn.dtype, [LD, BATCH, H])
    builder.check("torch_rnn")
    return builder.to_model("torch_rnn", doc=f"converted by onnx-rnn from PyTorch {type(module).__name__}")


def export(
    model: Any,
    args: Any,
    f: str | os.PathLike[str] | IO[bytes],
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: Mapping[str, Any] | None = None,
    opset: int | None = None,
    portable: bool = False,
    plugin_only: bool = False,
) -> onnx.ModelProto:
    """Like ``torch.onnx.export``, with every ``nn.LSTM``/``nn.GRU``/``nn.RNN`` inside ``model`` emitted by
    onnx-rnn. Writes the model to ``f`` (a path, written atomically, or a binary file object) and returns it.

    ``args`` are the example inputs (a tuple, or one tensor); ``input_names``, ``output_names`` and
    ``dynamic_axes`` mean what they mean to ``torch.onnx.export``: name T and N dynamic and one file serves
    every sequence length and batch size. ``portable``/``plugin_only`` choose how LSTM layers with projection
    are written (export_rnn's options).
    """
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    if isinstance(model, (torch.jit.ScriptModule, torch.jit.ScriptFunction)):
        raise OnnxRnnError("onnx_rnn.torch.export takes an eager nn.Module (it is traced), not a TorchScript module")
    if not isinstance(model, torch.nn.Module):
        raise OnnxRnnError(f"onnx_rnn.torch.export takes an nn.Module, got {type(model).__name__}")
    backend = layer_backend(portable, plugin_only)
    opset = check_opset(opset)
    root = _Root(model) if is_rnn_module(model) else model
    buffer = io.BytesIO()
    with _stand_ins(root) as rnns, warnings.catch_warnings():
        # The TorchScript exporter is chosen on purpose (autograd.Function symbolics); do not warn about it.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        try:
            torch.onnx.export(
                root,
                args if isinstance(args, tuple) else (args,),
                buffer,  # type: ignore[arg-type]  # it takes file objects too
                dynamo=False,
                input_names=list(input_names) if input_names is not None else None,
                output_names=list(output_names) if output_names is not None else None,
                dynamic_axes=dict(dynamic_axes) if dynamic_axes is not None else None,
                opset_version=opset,
                custom_opsets={PLACEHOLDER_DOMAIN: 1},
            )
        except OnnxRnnError:
            raise
        except Exception as error:  # torch raises many types; name the step that failed
            raise OnnxRnnError(f"torch.onnx.export failed: {' '.join(str(error).split())[:500]}") from error
    onnx_model = splice_rnns(onnx.load_from_string(buffer.getvalue()), rnns, backend)
    _write(onnx_model, f)
    return onnx_model


def splice_rnns(model: onnx.ModelProto, rnns: Mapping[int, TorchRNN], backend: str) -> onnx.ModelProto:
    """Replace every placeholder node of ``model`` by the module's onnx-rnn nodes; returns the checked model."""
    graph = model.graph
    _refuse_placeholders_in_subgraphs(graph)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    builder = GraphBuilder(opset)
    for name in sorted(_names_in(graph)):
        builder.reserve(name)
    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.domain != PLACEHOLDER_DOMAIN:
            nodes.append(node)
            continue
        start = len(builder.nodes)
        _emit_placeholder(builder, node, rnns, backend)
        nodes.extend(builder.nodes[start:])
    emitted = builder.to_model("rnns")
    initializers, renamed = _deduplicate(emitted.graph.initializer)
    del graph.node[:]
    graph.node.extend(nodes)
    if renamed:
        _rename_inputs(graph, renamed)
    graph.initializer.extend(initializers)
    model.functions.extend(emitted.functions)
    kept = [o for o in model.opset_import if o.domain != PLACEHOLDER_DOMAIN]
    known = {o.domain for o in kept}
    kept += [o for o in emitted.opset_import if o.domain not in known]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    model.ir_version = max(model.ir_version, emitted.ir_version)
    _drop_unused_initializers(graph)
    model.producer_name, model.producer_version = "onnx-rnn (torch front end)", ""
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        raise OnnxRnnError(f"the exported model fails ONNX's checker: {' '.join(str(error).split())[:500]}") from error
    return model


def _deduplicate(tensors: Sequence[onnx.TensorProto]) -> tuple[list[onnx.TensorProto], dict[str, str]]:
    """One initializer per distinct weight: a module called several times (a loop, two inputs) is emitted once
    per call, each call with its own copy of the same weights."""
    kept: dict[tuple[int, tuple[int, ...], bytes], str] = {}
    unique, renamed = [], {}
    for tensor in tensors:
        key = (tensor.data_type, tuple(tensor.dims), _payload(tensor))
        if key in kept:
            renamed[tensor.name] = kept[key]
        else:
            kept[key] = tensor.name
            unique.append(tensor)
    return unique, renamed


def _payload(tensor: onnx.TensorProto) -> bytes:
    """A digest of the tensor's bytes (keeping digests, not copies, of every weight)."""
    data = tensor.raw_data if tensor.HasField("raw_data") else onnx.numpy_helper.to_array(tensor).tobytes()
    return hashlib.sha256(data).digest()


def _rename_inputs(graph: onnx.GraphProto, renamed: Mapping[str, str]) -> None:
    """Point every node input (subgraphs included: Scan bodies read outer weights) at the kept initializer."""
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name in renamed:
                node.input[k] = renamed[name]
        for attr in node.attribute:
            for sub in (*([attr.g] if attr.HasField("g") else []), *attr.graphs):
                _rename_inputs(sub, renamed)


def _emit_placeholder(builder: GraphBuilder, node: onnx.NodeProto, rnns: Mapping[int, TorchRNN], backend: str) -> None:
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    rnn = rnns[int(attrs["key"])]
    rest = list(node.input[1:])
    h0 = rest.pop(0) if attrs["has_h"] else None
    c0 = rest.pop(0) if attrs["has_c"] else None
    outs = emit_module(builder, rnn, data=node.input[0], h0=h0, c0=c0, backend=backend)
    for tensor, name in zip((outs.output, outs.state, outs.state_cell), node.output):
        if tensor is not None and name:
            builder.node("Identity", [tensor], outputs=[name])


def _names_in(graph: onnx.GraphProto) -> set[str]:
    """Every tensor and node name of ``graph`` (subgraphs included), so emitted names cannot collide."""
    names = {v.name for v in (*graph.input, *graph.output, *graph.value_info)}
    names |= {t.name for t in graph.initializer}
    for node in graph.node:
        names |= {*node.input, *node.output, node.name}
        for attr in node.attribute:
            for sub in (*([attr.g] if attr.HasField("g") else []), *attr.graphs):
                names |= _names_in(sub)
    names.discard("")
    return names


def _refuse_placeholders_in_subgraphs(graph: onnx.GraphProto) -> None:
    for node in graph.node:
        for attr in node.attribute:
            for sub in (*([attr.g] if attr.HasField("g") else []), *attr.graphs):
                if any(n.domain == PLACEHOLDER_DOMAIN for n in sub.node):
                    raise OnnxRnnError(
                        "an nn.LSTM/GRU/RNN runs inside a scripted loop or branch (ONNX Loop/If); onnx_rnn.torch "
                        "exports RNN modules called from traced code only (Python loops are unrolled and fine)"
                    )
                _refuse_placeholders_in_subgraphs(sub)


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    """PyTorch may keep the replaced modules' parameters; nothing reads them any more."""
    used = _used_names(graph) | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    if len(kept) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(kept)


def _used_names(graph: onnx.GraphProto) -> set[str]:
    used: set[str] = set()
    for node in graph.node:
        used |= set(node.input)
        for attr in node.attribute:
            for sub in (*([attr.g] if attr.HasField("g") else []), *attr.graphs):
                used |= _used_names(sub)
    return used


def _write(model: onnx.ModelProto, f: str | os.PathLike[str] | IO[bytes]) -> None:
    if isinstance(f, (str, os.PathLike)):
        save_model(model, Path(f))
        return
    if not hasattr(f, "write"):
        raise OnnxRnnError(f"f must be a path or a binary file object, got {type(f).__name__}")
    try:
        f.write(model.SerializeToString())
    except (OSError, TypeError, ValueError) as error:
        raise OnnxRnnError(f"cannot write the model to {f!r}: {error}") from error


# --- the stand-ins: swapped in for the duration of one torch.onnx.export call ---------------------------------

_ACTIVE: dict[int, Any] = {}  # key -> original module, while an export runs (placeholder forwards read it)
_LOCK = threading.Lock()


class _stand_ins:
    """Context manager: swap every RNN module under ``root`` for a stand-in; yields key -> TorchRNN."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.swapped: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> dict[int, TorchRNN]:
        _LOCK.acquire()
        rnns: dict[int, TorchRNN] = {}
        keys: dict[int, int] = {}  # id(module) -> key: a module reachable twice keeps one key
        try:
            for parent in list(self.root.modules()):
                for name, child in list(parent.named_children()):
                    if not is_rnn_module(child):
                        continue
                    key = keys.setdefault(id(child), len(keys))
                    if key not in rnns:
                        rnns[key] = from_module(child)
                        _ACTIVE[key] = child
                    self.swapped.append((parent, name, child))
                    setattr(parent, name, _make_stand_in(child, key))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return rnns

    def __exit__(self, *exc: object) -> None:
        for parent, name, child in reversed(self.swapped):
            setattr(parent, name, child)
        self.swapped.clear()
        _ACTIVE.clear()
        _LOCK.release()


def _make_stand_in(module: Any, key: int) -> Any:
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    class RNNStandIn(torch.nn.Module):
        """Calls the placeholder function in the original module's calling convention. Other attributes
        (``hidden_size``, ``num_layers``, ... that a model's forward may read) are the original module's."""

        def __init__(self) -> None:
            super().__init__()
            self.stand_in_key = key
            self.stand_in_lstm = is_lstm(module)

        def __getattr__(self, name: str) -> Any:
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(module, name)

        def forward(self, input: Any, hx: Any = None) -> Any:
            if isinstance(input, torch.nn.utils.rnn.PackedSequence):
                raise OnnxRnnError(
                    "PackedSequence inputs are not supported by onnx_rnn.torch.export; pass padded tensors"
                )
            h0, c0 = (hx if self.stand_in_lstm else (hx, None)) if hx is not None else (None, None)
            unbatched = input.dim() == 2
            if unbatched:  # PyTorch's unbatched form: (T, I) and states (L*D, R)
                input = input.unsqueeze(0 if module.batch_first else 1)
                h0, c0 = (None if s is None else s.unsqueeze(1) for s in (h0, c0))
            outs = _placeholder().apply(self.stand_in_key, input, h0, c0)
            if unbatched:
                outs = (outs[0].squeeze(0 if module.batch_first else 1), *(s.squeeze(1) for s in outs[1:]))
            return (outs[0], (outs[1], outs[2])) if self.stand_in_lstm else (outs[0], outs[1])

    return RNNStandIn()


def is_lstm(module: Any) -> bool:
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    return isinstance(module, torch.nn.LSTM)


_PLACEHOLDER: Any = None


def _placeholder() -> Any:
    """The autograd.Function (made once, on first use, so that importing this module needs no torch)."""
    global _PLACEHOLDER
    if _PLACEHOLDER is None:
        _PLACEHOLDER = _make_placeholder()
    return _PLACEHOLDER


def _make_placeholder() -> Any:
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    class RNNPlaceholder(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, key: int, x: Any, h0: Any, c0: Any) -> Any:
            module = _ACTIVE[key]
            hx = None if h0 is None else ((h0, c0) if is_lstm(module) else h0)
            if is_lstm(module) and h0 is not None and c0 is None:
                raise OnnxRnnError("nn.LSTM got h_0 without c_0; expected hx=(h_0, c_0)")
            # The real outputs, for the rest of the trace. The module's own ops must not enter the trace (the
            # tracer would bake its parameters in as constants); the placeholder's symbolic stands for them.
            with _tracing_paused(), torch.no_grad():
                y, state = module(x, hx)
            outs = (y, *state) if is_lstm(module) else (y, state)
            return tuple(t.clone() for t in outs)  # traced values (the tracer needs outputs it recorded)

        @staticmethod
        def symbolic(g: Any, key: int, x: Any, h0: Any, c0: Any) -> Any:
            module = _ACTIVE[key]
            lstm = is_lstm(module)
            inputs = [x] + [s for s in (h0, c0 if lstm else None) if s is not None]
            outs = g.op(
                f"{PLACEHOLDER_DOMAIN}::{PLACEHOLDER_OP}",
                *inputs,
                key_i=key,
                has_h_i=int(h0 is not None),
                has_c_i=int(lstm and c0 is not None),
                outputs=3 if lstm else 2,
            )
            d = 2 if module.bidirectional else 1
            r = module.proj_size if lstm and module.proj_size else module.hidden_size
            ld = module.num_layers * d
            outs[0].setType(x.type().with_sizes([None, None, d * r]))
            outs[1].setType(x.type().with_sizes([ld, None, r]))
            if lstm:
                outs[2].setType(x.type().with_sizes([ld, None, module.hidden_size]))
            return outs

    return RNNPlaceholder


class _tracing_paused:
    """Run the real module inside the placeholder's forward without the tracer recording its ops (torch._C
    holds the only switch for that)."""

    def __enter__(self) -> None:
        import torch  # noqa: PLC0415 (optional dependency, imported when used)

        self.state = torch._C._get_tracing_state()  # noqa: SLF001 (no public API pauses the tracer)
        torch._C._set_tracing_state(None)  # type: ignore[attr-defined]  # noqa: SLF001

    def __exit__(self, *exc: object) -> None:
        import torch  # noqa: PLC0415 (optional dependency, imported when used)

        torch._C._set_tracing_state(self.state)  # type: ignore[attr-defined]  # noqa: SLF001


def _Root(module: Any) -> Any:
    """A container around a bare RNN module, so the module itself can be swapped."""
    import torch  # noqa: PLC0415 (optional dependency, imported when used)

    class Root(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = module

        def forward(self, *args: Any) -> Any:
            return self.rnn(*args)

    return Root()
