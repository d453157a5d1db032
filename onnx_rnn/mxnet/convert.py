"""Whole MXNet checkpoints (``prefix-symbol.json`` + ``prefix-0000.params``) -> one ONNX model.

Steps: read both files; keep the nodes the heads depend on; split variables into parameters (in the
.params file) and graph inputs (everything else); find the inputs' ranks from the ops around them; translate
node by node through the op registry; declare the used inputs (MXNet's names, symbolic batch/time
dimensions unless fixed) and the heads as outputs.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from .. import limits
from ..errors import OnnxRnnError
from ..export.builder import DEFAULT_OPSET, MIN_OPSET, GraphBuilder, np_to_onnx_dtype
from ..export.model import layer_backend
from .context import Context, DimT, SymDim, Value, check_constant, const_value
from .gate_weights import join_gate_weights
from .heads import LABEL_OPS, LOSS_OPS, inference_inputs, select_heads
from .ndarray_file import load_params, split_arg_aux
from .ops import OPS, OpDef, supported_ops
from .symbol import Attrs, Node, Symbol, load_symbol, parse_dtype

#: Variables with these name endings are parameters; one missing from the .params file is an error,
#: not a new graph input (name them in input_shapes to make them inputs).
PARAM_SUFFIXES = (
    "_weight",
    "_bias",
    "_gamma",
    "_beta",
    "_moving_mean",
    "_moving_var",
    "_running_mean",
    "_running_var",
    "_parameters",
    "_params",
    "_alpha",
)
#: Attribute hints that only Gluon/Module parameters carry (``__storage_type__`` is not one: data inputs
#: declared with ``stype="csr"`` carry it too).
PARAM_HINTS = ("__lr_mult__", "__wd_mult__", "__init__")

InputShape = Sequence["int | str | None"]

#: More outputs than any real node has (SliceChannel over a long sequence stays far below).
MAX_OUTPUTS = 1 << 16

#: Gate suffixes of the per-gate arrays mx.rnn.FusedRNNCell.unpack_weights writes, in the operator's order.
FUSED_GATES = {"lstm": ["_i", "_f", "_c", "_o"], "gru": ["_r", "_z", "_o"], "rnn_tanh": [""], "rnn_relu": [""]}


@dataclass
class Checkpoint:
    symbol: Symbol
    arg_params: dict[str, np.ndarray | None]
    aux_params: dict[str, np.ndarray | None] = field(default_factory=dict)
    name: str = "mxnet_model"


def load_checkpoint(symbol_path: str | os.PathLike[str], params_path: str | os.PathLike[str]) -> Checkpoint:
    """Read a ``-symbol.json`` and its ``.params`` file (written natively; MXNet is not imported)."""
    symbol = load_symbol(symbol_path)
    args, aux = split_arg_aux(load_params(params_path))
    name = re.sub(r"-symbol$", "", Path(symbol_path).stem.removesuffix(".json"))
    return Checkpoint(symbol, args, aux, name or "mxnet_model")


def convert_checkpoint(
    symbol_path: str | os.PathLike[str] | Checkpoint,
    params_path: str | os.PathLike[str] | None = None,
    *,
    input_shapes: Mapping[str, InputShape] | None = None,
    input_dtypes: Mapping[str, str | np.dtype] | None = None,
    opset: int | None = None,
    portable: bool = False,
    plugin_only: bool = False,
    outputs: Sequence[str] | None = None,
) -> onnx.ModelProto:
    """Convert a checkpoint (two paths, or a loaded Checkpoint) into an ONNX ModelProto.

    ``input_shapes`` fixes graph inputs' dimensions (ints; None, -1 or a name keeps one symbolic).
    LSTMs with projection or clipping are, as in :func:`onnx_rnn.export_rnn`, by default the onnx_rnn custom op
    plus a model-local function that runtimes without the plugin inline; ``portable=True`` writes standard
    ONNX only, ``plugin_only=True`` the custom op only. ``outputs`` names the heads to convert (node outputs
    as MXNet names them, e.g. ``pred_output``; default: the symbol's heads); the model's doc string notes
    the heads left out.
    """
    backend = layer_backend(portable, plugin_only)
    opset = DEFAULT_OPSET if opset is None else opset
    if isinstance(symbol_path, Checkpoint):
        checkpoint = symbol_path
    else:
        if params_path is None:
            raise OnnxRnnError("convert_checkpoint needs the .params path beside the -symbol.json path")
        checkpoint = load_checkpoint(symbol_path, params_path)
    return Converter(checkpoint, input_shapes or {}, input_dtypes or {}, opset, backend, outputs).run()


def translate_body(ctx: Context, symbol: Symbol, inputs: Sequence[Value]) -> list[Value]:
    """Translate a control-flow subgraph into ``ctx`` (a body context, see ``Context.child``).

    ``inputs`` are the Values of the subgraph's variables in its ``arg_nodes`` order (MXNet's
    ``list_inputs`` order, which the control-flow node's ``*_locs`` attributes index); returns the Values
    of its heads. Nested control flow recurses through the same registry.
    """
    if len(inputs) != len(symbol.arg_nodes):
        raise ctx.fail(f"its subgraph has {len(symbol.arg_nodes)} inputs, but the node maps {len(inputs)} onto it")
    body = Converter(Checkpoint(symbol, {}, {}, "body"), {}, {}, ctx.opset, ctx.backend)
    body.ctx = ctx
    outer_node = ctx.node
    for nid, value in zip(symbol.arg_nodes, inputs):
        body.values[(nid, 0)] = value
    reachable = body.reachable_nodes()
    for node in symbol.nodes:
        if node.index not in reachable or node.is_variable:
            continue
        if node.op not in OPS:
            raise OnnxRnnError(
                f"{symbol.source}: {node.describe()} uses op {node.op!r}, which onnx-rnn does not "
                f"translate; supported ops: {', '.join(supported_ops())}"
            )
        body.translate_node(node)
    ctx.node = outer_node
    return [body.values[head] for head in symbol.heads]


def infer_body_ranks(symbol: Symbol, seeds: Mapping[tuple[int, int], int], weak: bool) -> dict[tuple[int, int], int]:
    """Ranks inside a control-flow subgraph from ``seeds`` (known entries) and its variables' ``__shape__``
    hints, by the same forward/backward rules (and, when ``weak``, guesses) as the outer graph's inputs."""
    body = Converter(Checkpoint(symbol, {}, {}, "body"), {}, {}, DEFAULT_OPSET, "plugin")
    ranks = body.infer_ranks_from([n for n in symbol.nodes if n.is_variable], use_given=False, weak=False)
    ranks.update({k: v for k, v in seeds.items() if v is not None and v >= 0})
    ops = [n for n in symbol.nodes if not n.is_variable and n.op in OPS]
    body.propagate_ranks(ops, ranks, weak=False)
    if weak and body.propagate_ranks(ops, ranks, weak=True):
        body.propagate_ranks(ops, ranks, weak=False)
    return ranks


class Converter:
    def __init__(
        self,
        checkpoint: Checkpoint,
        input_shapes: Mapping[str, InputShape],
        input_dtypes: Mapping[str, str | np.dtype],
        opset: int,
        backend: str,
        outputs: Sequence[str] | None = None,
    ) -> None:
        latest = onnx.defs.onnx_opset_version()
        if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= latest:
            raise OnnxRnnError(f"opset must be an integer in [{MIN_OPSET}, {latest}], got {opset!r}")
        both = sorted(set(checkpoint.arg_params) & set(checkpoint.aux_params))
        if both:  # which one the symbol's variable means would be a silent guess
            raise OnnxRnnError(f"parameter(s) {both[:5]} are both arg and aux parameters; expected each once")
        self.cp = checkpoint
        self.symbol = checkpoint.symbol
        self.arg_params = dict(checkpoint.arg_params)
        self.input_shapes = dict(input_shapes)
        self.input_dtypes = dict(input_dtypes)
        self.ctx = Context(GraphBuilder(opset), backend)
        self.values: dict[tuple[int, int], Value] = {}
        self.n_out: dict[int, int] = {}
        self._dim_names: dict[int, str] = {}  # id(SymDim class representative) -> dim_param
        self._named_dims: dict[str, SymDim] = {}  # --input-shape names
        self.dropped_heads: list[str] = []
        if outputs is not None:
            self.symbol, self.dropped_heads = select_heads(self.symbol, outputs, self._output_name, self._n_outputs)

    # ------------------------------------------------------------ driver

    def run(self) -> onnx.ModelProto:
        reachable = self.reachable_nodes()
        nodes = [n for n in self.symbol.nodes if n.index in reachable]
        for node in nodes:
            if not node.is_variable and node.op not in OPS:
                loss = (
                    f" ({node.op} is a training loss: convert the inference heads with --outputs NAME,...)"
                    if node.op in LOSS_OPS
                    else ""
                )
                raise OnnxRnnError(
                    f"{self.symbol.source}: {node.describe()} uses op {node.op!r}, which onnx-rnn does not "
                    f"translate{loss}; supported ops: {', '.join(supported_ops())}"
                )
        for what, given in (("shape", self.input_shapes), ("dtype", self.input_dtypes)):
            unknown = sorted(set(given) - {n.name for n in nodes if n.is_variable})
            if unknown:
                raise OnnxRnnError(
                    f"input {what} given for {unknown}, which the symbol has no (used) variable named; its "
                    "inputs are " + str([n.name for n in nodes if n.is_variable and self._param(n) is None])
                )
        join_gate_weights([n.name for n in nodes if n.is_variable and n.name not in self.input_shapes], self.arg_params)
        self._repack_fused_rnn(nodes)
        self._check_params(nodes)
        output_names = self._reserve_names(nodes)
        ranks = self._infer_ranks(nodes)
        for node in nodes:
            if node.is_variable:
                self.values[(node.index, 0)] = self._variable(node, ranks.get((node.index, 0)))
            else:
                self.translate_node(node)
        self.ctx.node = None
        self._declare_outputs(output_names)
        self._declare_inputs()
        try:
            self.ctx.b.check(_graph_name(self.cp.name))
        except onnx.shape_inference.InferenceError as exc:
            # shapes that disagree where the converter could not see it (symbolic dimensions): most often
            # the checkpoint's own (a weight that does not fit its input), so not called an internal error
            raise OnnxRnnError(
                f"{self.symbol.source}: the converted graph's shapes or types disagree ({' '.join(str(exc).split())}); "
                "expected a symbol whose weights fit their inputs (check the symbol, the .params shapes and "
                "--input-shape; if they are right, this is a bug of onnx-rnn)"
            ) from None
        except onnx.checker.ValidationError as exc:
            # a bug of ours, not the user's: say so plainly
            raise OnnxRnnError(f"internal error: the converted model is not valid ONNX: {exc}") from None
        doc = f"Converted by onnx-rnn from the MXNet checkpoint {self.cp.name!r}"
        if self.dropped_heads:
            doc += f"; heads left out (not in --outputs): {', '.join(self.dropped_heads)}"
        return self.ctx.b.to_model(_graph_name(self.cp.name), doc=doc)

    def reachable_nodes(self) -> set[int]:
        seen: set[int] = set()
        stack = [nid for nid, _ in self.symbol.heads]
        while stack:
            nid = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            stack.extend(src for src, _ in inference_inputs(self.symbol.nodes[nid]))
        return seen

    # ------------------------------------------------------------ variables

    def _param(self, node: Node) -> np.ndarray | None:
        if node.name in self.input_shapes:
            return None
        if node.name in self.cp.aux_params:
            return self.cp.aux_params[node.name]
        return self.arg_params.get(node.name)

    def _is_param_name(self, node: Node) -> bool:
        return node.name in self.cp.aux_params or node.name in self.arg_params

    def _repack_fused_rnn(self, nodes: list[Node]) -> None:
        """``mx.rnn.save_rnn_checkpoint`` stores a FusedRNNCell's ``PREFIXparameters`` unpacked, one array per
        layer, direction, connection and gate (``PREFIXl0_i2h_r_weight``, ...); join them back in the
        operator's order (weights, then biases; layer by layer, forward then backward; i2h then h2h; gates in
        MXNet's order)."""
        for node in nodes:
            if node.op != "RNN" or len(node.inputs) < 2:
                continue
            var = self.symbol.nodes[node.inputs[1][0]]
            if (
                not var.is_variable
                or self._is_param_name(var)
                or var.name in self.input_shapes
                or not var.name.endswith("parameters")
            ):
                continue
            prefix, attrs = var.name[: -len("parameters")], Attrs(node)
            # read before "the .params file lacks ...parameters" is said: a bad attribute is what is wrong
            gates = FUSED_GATES.get(attrs.text("mode", ""))
            layers = attrs.integer("num_layers", 1)
            directions = ["l", "r"][: 2 if attrs.flag("bidirectional") else 1]
            if gates is None or not isinstance(layers, int) or layers < 1:
                continue
            limits.check(limits.LAYERS, layers, f"{node.describe()}: num_layers")
            names = [
                f"{prefix}{d}{layer}_{conn}{gate}_{kind}"
                for kind in ("weight", "bias")
                for layer in range(layers)
                for d in directions
                for conn in ("i2h", "h2h")
                for gate in gates
            ]
            arrays = [a for a in (self.arg_params.get(n) for n in names) if a is not None]
            if len(arrays) == len(names):
                self.arg_params[var.name] = np.concatenate([a.reshape(-1) for a in arrays])

    def _check_params(self, nodes: list[Node]) -> None:
        missing = []
        for node in nodes:
            if not node.is_variable or node.name in self.input_shapes:
                continue
            if self._is_param_name(node):
                array = self._param(node)
                if array is None:
                    raise OnnxRnnError(
                        f"parameter {node.name!r} is stored as an empty (uninitialised) array in "
                        "the .params file; expected its values"
                    )
                hint = node.attrs.get("__shape__")
                if hint:
                    declared = Attrs(node).ints("__shape__", ())
                    if len(declared) != array.ndim or any(d not in (0, -1, a) for d, a in zip(declared, array.shape)):
                        raise OnnxRnnError(
                            f"parameter {node.name!r} has shape {tuple(array.shape)} in the .params "
                            f"file but {tuple(declared)} in the symbol; expected them to agree "
                            "(do the two files belong together?)"
                        )
            elif node.name.endswith(PARAM_SUFFIXES) or any(h in node.attrs for h in PARAM_HINTS):
                missing.append(node.name)
        if missing:
            raise OnnxRnnError(
                f"the .params file lacks {len(missing)} argument(s) of the symbol: "
                f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}; expected every "
                "weight in it (do the two files belong together?). To feed one as a graph input "
                "instead, give its shape with --input-shape"
            )

    def _default_float(self) -> np.dtype:
        counts: dict[np.dtype, int] = {}
        for array in list(self.cp.arg_params.values()) + list(self.cp.aux_params.values()):
            if array is not None and np.issubdtype(array.dtype, np.floating):
                counts[array.dtype] = counts.get(array.dtype, 0) + array.size
        return max(counts, key=lambda dtype: counts[dtype]) if counts else np.dtype(np.float32)

    def _input_dtype(self, node: Node) -> np.dtype:
        if node.name in self.input_dtypes:
            given = self.input_dtypes[node.name]
            text = given if isinstance(given, str) else str(np.dtype(given))
            return parse_dtype(text, lambda: OnnxRnnError(f"input dtype {text!r} for {node.name!r} is unknown"))
        if "__dtype__" in node.attrs:
            hinted: np.dtype = Attrs(node).dtype("__dtype__")
            return hinted
        return self._default_float()

    def _input_shape(self, node: Node, rank: int | None) -> tuple[DimT, ...] | None:
        given = self.input_shapes.get(node.name)
        if given is None and "__shape__" in node.attrs:
            hint = Attrs(node).ints("__shape__", ())
            given = [None if d in (0, -1) else d for d in hint] if hint else None
        if given is None:
            return None if rank is None else tuple(SymDim(node.name, i) for i in range(rank))
        dims: list[DimT] = []
        for i, d in enumerate(given):
            if d is None or isinstance(d, str) or (isinstance(d, int) and d < 0):
                unknown = SymDim(node.name, i)
                dims.append(unknown)
                if isinstance(d, str):  # the user's name: equal names are one dimension
                    if d in self._named_dims:
                        self.ctx.unify(self._named_dims[d], unknown)
                    self._named_dims.setdefault(d, unknown)
                    self.ctx.set_role(unknown, d)
            elif isinstance(d, (int, np.integer)) and not isinstance(d, bool):
                dims.append(int(d))
            else:
                raise OnnxRnnError(f"input shape for {node.name!r} has entry {d!r}; expected sizes or names")
        if rank is not None and len(dims) != rank and node.name in self.input_shapes:
            raise OnnxRnnError(
                f"input {node.name!r} is given {len(dims)} dimensions, but the graph uses it with {rank}"
            )
        return tuple(dims)

    def _variable(self, node: Node, rank: int | None) -> Value:
        array = self._param(node)
        if array is not None:
            return const_value(array)
        dtype = self._input_dtype(node)
        shape = self._input_shape(node, rank)
        return Value(dtype, shape, tensor=node.name, input=node.name)

    # ------------------------------------------------------------ ranks of inputs

    def _infer_ranks(self, nodes: list[Node]) -> dict[tuple[int, int], int]:
        if self.input_shapes:  # the user's shapes must fit what the graph says about those inputs
            free = self.infer_ranks_from(nodes, use_given=False, weak=False)
            for node in nodes:
                given = self.input_shapes.get(node.name)
                rank = free.get((node.index, 0))
                if node.is_variable and given is not None and rank is not None and rank != len(given):
                    raise OnnxRnnError(
                        f"input {node.name!r} is given {len(given)} dimensions, but the graph uses it with {rank}"
                    )
        return self.infer_ranks_from(nodes, use_given=True, weak=True)

    def infer_ranks_from(self, nodes: list[Node], use_given: bool, weak: bool) -> dict[tuple[int, int], int]:
        ranks: dict[tuple[int, int], int] = {}
        for node in nodes:
            if node.is_variable:
                array = self._param(node)
                shape = self.input_shapes.get(node.name) if use_given else None
                if array is not None:
                    ranks[(node.index, 0)] = array.ndim
                elif shape is not None:
                    ranks[(node.index, 0)] = len(shape)
                elif node.attrs.get("__shape__"):
                    with contextlib.suppress(OnnxRnnError):
                        ranks[(node.index, 0)] = len(Attrs(node).ints("__shape__"))
        ops = [n for n in nodes if not n.is_variable]
        self.propagate_ranks(ops, ranks, weak=False)
        if weak and self.propagate_ranks(ops, ranks, weak=True):  # guesses only where nothing else decided
            self.propagate_ranks(ops, ranks, weak=False)
        return ranks

    def propagate_ranks(self, ops: list[Node], ranks: dict[tuple[int, int], int], weak: bool) -> bool:
        """Forward and backward rank rules to a fixed point (one backward sweep of guesses when ``weak``)."""
        any_change = False
        for _ in range(50):
            changed = False
            if not weak:
                for node in ops:
                    opdef, attrs = OPS[node.op], Attrs(node)
                    n_out = self._count(node, opdef)
                    try:
                        out = opdef.rank(attrs, [ranks.get(e) for e in inference_inputs(node)], n_out)
                    except (OnnxRnnError, LookupError, TypeError, ValueError, ArithmeticError):
                        continue
                    for i, r in enumerate(out[:n_out]):
                        if r is not None and r >= 0 and (node.index, i) not in ranks:
                            ranks[(node.index, i)] = r
                            changed = True
            for node in reversed(ops):
                opdef, attrs = OPS[node.op], Attrs(node)
                rule = opdef.weak_back if weak else opdef.back
                if rule is None:
                    continue
                outs = [ranks.get((node.index, i)) for i in range(self._count(node, opdef))]
                try:
                    back = rule(attrs, outs, len(inference_inputs(node)))
                except (OnnxRnnError, LookupError, TypeError, ValueError, ArithmeticError):
                    continue
                for entry, r in zip(inference_inputs(node), back):
                    if r is not None and r >= 0 and entry not in ranks:
                        ranks[entry] = r
                        changed = True
            any_change |= changed
            if not changed or weak:
                break
        return any_change

    def _count(self, node: Node, opdef: OpDef) -> int:
        """The node's number of outputs (1 where its attributes are unusable: translation reports them)."""
        if node.index not in self.n_out:
            try:
                count = int(opdef.n_out(Attrs(node)))
            except (OnnxRnnError, TypeError, ValueError):
                count = 1
            self.n_out[node.index] = count if 1 <= count <= MAX_OUTPUTS else 1
        return self.n_out[node.index]

    # ------------------------------------------------------------ translation

    def translate_node(self, node: Node) -> None:
        ctx = self.ctx
        ctx.node = node
        opdef = OPS[node.op]
        attrs = Attrs(node)
        try:
            count = int(opdef.n_out(attrs))
        except OnnxRnnError:
            raise  # names the attribute that decides the number of outputs
        except (TypeError, ValueError):
            count = 1  # the translation names the bad attribute
        if not 1 <= count <= MAX_OUTPUTS:
            raise ctx.fail(f"would have {count} outputs; expected 1 to {MAX_OUTPUTS}")
        fewest, most = opdef.arity
        if len(node.inputs) < fewest or (most is not None and len(node.inputs) > most):
            expected = str(fewest) if fewest == most else f"{fewest} or more" if most is None else f"{fewest} to {most}"
            raise ctx.fail(f"has {len(node.inputs)} inputs; expected {expected}")
        inputs = []
        for pos, (src, index) in enumerate(inference_inputs(node)):
            value = self.values.get((src, index))
            if value is None:
                src_node = self.symbol.nodes[src]
                raise ctx.fail(
                    f"input {pos} refers to output {index} of {src_node.describe()}, which has "
                    f"{self.n_out.get(src, 1)} output(s)"
                )
            if value.bcast and not opdef.bcast_ok:
                ctx.require_no_bcast(value, f"input {pos}")
            inputs.append(value)
        try:
            outs = opdef.fn(ctx, attrs, inputs)
        except OnnxRnnError:
            raise
        except (ValueError, LookupError, TypeError, ArithmeticError) as exc:  # malformed attributes or shapes
            raise ctx.fail(f"cannot translate: {type(exc).__name__}: {exc}") from None
        except (MemoryError, RecursionError) as exc:
            raise ctx.fail(f"cannot translate: {type(exc).__name__} (see docs/limits.md)") from None
        for out in outs:  # a backstop for folds that do not check their size before computing it
            if out.const is not None:
                sources = [v.const for v in inputs]
                check_constant(out.const.shape, out.const.dtype, f"{node.describe()}: its constant output", sources)
        n = self._count(node, opdef)
        if len(outs) != n:
            raise ctx.fail(f"internal error: translated into {len(outs)} outputs, expected {n}")
        for i, v in enumerate(outs):
            self.values[(node.index, i)] = v

    # ------------------------------------------------------------ graph inputs and outputs

    def _n_outputs(self, nid: int) -> int:
        node = self.symbol.nodes[nid]
        return 1 if node.is_variable or node.op not in OPS else self._count(node, OPS[node.op])

    def _output_name(self, nid: int, index: int) -> str:
        node = self.symbol.nodes[nid]
        if node.is_variable or node.op not in OPS:
            return f"{node.name}_output"
        opdef = OPS[node.op]
        n = self._count(node, opdef)
        if opdef.out_names is not None:
            names = list(opdef.out_names(Attrs(node)))
            if index < len(names):
                return f"{node.name}_{names[index]}"
        return f"{node.name}_output" if n == 1 else f"{node.name}_output{index}"

    def _reserve_names(self, nodes: list[Node]) -> list[str]:
        b = self.ctx.b
        for node in nodes:
            if node.is_variable and self._param(node) is None:
                b.reserve(node.name)
        names = []
        for nid, index in self.symbol.heads:
            wanted = self._output_name(nid, index)
            try:
                names.append(b.reserve(wanted))
            except ValueError:  # two heads on one tensor, or a head named like an input
                names.append(b.unique(wanted))
        return names

    def _declare_outputs(self, names: list[str]) -> None:
        ctx = self.ctx
        for k, ((nid, index), name) in enumerate(zip(self.symbol.heads, names)):
            value = self.values.get((nid, index))
            if value is None:
                raise OnnxRnnError(
                    f"head {k} refers to output {index} of {self.symbol.nodes[nid].describe()}, "
                    f"which has {self.n_out.get(nid, 1)} output(s)"
                )
            if value.bcast:
                raise OnnxRnnError(
                    f"output {name!r} has a dimension MXNet leaves at 0 (to be inferred), which "
                    "nothing in the graph determines; expected a fully defined output"
                )
            if value.shape is None:  # ONNX's checker requires every graph output to have a rank
                raise OnnxRnnError(
                    f"output {name!r} ({self.symbol.nodes[nid].describe()}) has a number of dimensions that "
                    "nothing in the graph determines; give the graph inputs' shapes (--input-shape name=d0,d1,...)"
                )
            ctx.b.node("Identity", [ctx.t(value)], outputs=[name])
            ctx.b.add_output(name, value.dtype, self._dims(value.shape))

    def _declare_inputs(self) -> None:
        """Every input the heads depend on, in the symbol's order; labels of *Output ops are left out
        (they only matter in training)."""
        b = self.ctx.b
        consumers = self.symbol.consumers()
        for nid in self.symbol.arg_nodes:
            node = self.symbol.nodes[nid]
            value = self.ctx.used_inputs.get(node.name)
            if value is None:
                value = self.values.get((nid, 0))
                if value is None or value.input is None:
                    continue  # unreachable from the heads, or a parameter
                uses = consumers.get((nid, 0), [])
                if uses and all(self.symbol.nodes[c].op in LABEL_OPS and pos == 1 for c, pos in uses):
                    continue
            if value.shape is None:
                raise OnnxRnnError(
                    f"the number of dimensions of input {node.name!r} is unknown: no op it feeds fixes it; "
                    f"give its shape (--input-shape {node.name}=d0,d1,...; a name or -1 keeps a dimension symbolic)"
                )
            shape = self._dims(value.shape)
            b.inputs.append(helper.make_tensor_value_info(node.name, np_to_onnx_dtype(value.dtype), shape))

    def _dims(self, shape: tuple[DimT, ...]) -> list[int | str | None]:
        out: list[int | str | None] = []
        for d in shape:
            size, root, role = self.ctx.resolve(d)
            if size is not None:
                out.append(size)
            elif root is None:
                out.append(None)
            else:
                out.append(self._dim_name(root, role))
        return out

    def _dim_name(self, root: SymDim, role: str | None) -> str:
        """One dim_param per class of equal dimensions: its role (batch, time, a user's name) or input/axis."""
        key = id(root)
        if key not in self._dim_names:
            base = role or f"{root.input}_dim{root.axis}"
            name, k = base, 2
            while name in self._dim_names.values():
                name, k = f"{base}_{k}", k + 1
            self._dim_names[key] = name
        return self._dim_names[key]


def _graph_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name) or "mxnet_model"
