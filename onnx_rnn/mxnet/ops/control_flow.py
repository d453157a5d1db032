"""MXNet control flow: ``_foreach`` -> ONNX ``Scan``, ``_while_loop`` -> ``Loop``, ``_cond`` -> ``If``.

Each node carries its bodies as ``subgraphs`` in the symbol JSON. A body's variables are numbered in its
``arg_nodes`` order (MXNet's ``list_inputs``), and the node's ``*_locs`` attributes map them onto the node's
inputs. Bodies are translated through the same registry into an ONNX subgraph whose initializers live in
the outer graph; values from outside a body (weights, free variables) are read from the outer scope.

Semantics (MXNet 1.9.1, ``mx.sym.contrib``):
- ``foreach(body, data, init_states)`` slices every data input along axis 0, runs the body per step and
  stacks its outputs along axis 0; the final states follow the stacked outputs.
- ``while_loop(cond, func, loop_vars, max_iterations)`` runs while ``cond`` is true, at most
  ``max_iterations`` times; the stacked outputs always have ``max_iterations`` rows. MXNet leaves the rows
  past the last step uninitialised (whatever the memory held); the translation pads them with zeros. The
  final loop variables follow.
- ``cond(pred, then_func, else_func)`` runs one branch; ``pred`` is a one-element array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import helper

from ...export.builder import GraphBuilder, np_to_onnx_dtype
from ..context import Context, DimT, Value
from ..symbol import Attrs, Symbol
from . import Ranks, register


class BodyBuilder(GraphBuilder):
    """The builder of one ONNX subgraph: its own nodes and inputs, the outer graph's names, initializers,
    functions and domains (an ONNX body may read any outer tensor)."""

    def __init__(self, outer: GraphBuilder) -> None:
        super().__init__(outer.opset)
        self.outer = outer
        self._names = outer._names  # noqa: SLF001  (one name set: ONNX names are unique across subgraphs)
        self.domains = outer.domains
        self.functions = outer.functions

    def initializer(self, array: np.ndarray, hint: str) -> str:
        return self.outer.initializer(array, hint)

    def constant_i64(self, values: Sequence[int] | int, hint: str) -> str:
        return self.outer.constant_i64(values, hint)

    def body_input(self, body: Context, hint: str, dtype: np.dtype, shape: Sequence[DimT] | None) -> Value:
        name = self.unique(hint)
        dims = None if shape is None else [d if isinstance(d, int) else None for d in shape]
        self.inputs.append(helper.make_tensor_value_info(name, np_to_onnx_dtype(dtype), dims))
        return body.value(name, dtype, shape)

    def graph(self, body: Context, name: str, outputs: Sequence[Value]) -> onnx.GraphProto:
        """The subgraph, its outputs being ``outputs`` (each through an Identity of its own name)."""
        infos = []
        for k, v in enumerate(outputs):
            if v.bcast:
                raise body.fail(f"its body's output {k} has a dimension MXNet leaves at 0 (to be inferred)")
            out = self.node("Identity", [body.t(v)], outputs=[self.unique(f"{name}_out{k}")])[0]
            dims = None if v.shape is None else [d if isinstance(d, int) else None for d in v.shape]
            infos.append(helper.make_tensor_value_info(out, np_to_onnx_dtype(v.dtype), dims))
        return helper.make_graph(self.nodes, self.unique(name), self.inputs, infos)


def _translate(ctx: Context, graph: Symbol, inputs: Sequence[Value]) -> list[Value]:
    from ..convert import translate_body  # noqa: PLC0415  (the converter imports this registry)

    return translate_body(ctx, graph, inputs)


def _subgraphs(ctx: Context, attrs: Attrs, count: int) -> tuple[Symbol, ...]:
    graphs = attrs.node.subgraphs
    if len(graphs) != count:
        raise ctx.fail(f"has {len(graphs)} subgraphs in the symbol file; expected {count}")
    return graphs


def _map_inputs(ctx: Context, graph: Symbol, locs: Sequence[int], what: str) -> None:
    if len(locs) != len(graph.arg_nodes):
        raise ctx.fail(f"{what} lists {len(locs)} inputs, but its subgraph has {len(graph.arg_nodes)}")


def _condition(ctx: Context, v: Value) -> str:
    """A boolean scalar from MXNet's one-element predicate (any dtype; nonzero is true)."""
    flat = ctx.emit("Reshape", [ctx.t(v), ctx.i64([])])
    if v.dtype == np.bool_:
        return flat
    return ctx.emit("Not", [ctx.emit("Equal", [flat, ctx.scalar(0, v.dtype)])])


# ---------------------------------------------------------------- rank rules
#
# Forward: the body's variables get the node's input ranks, the body's rules give its heads'. Backward
# (and the weak guesses): the body's heads get the node's output ranks and the body's own rules (e.g. the
# FullyConnected inside a cell) give its variables', which are the node's inputs.


def _body(graph: Symbol, var_ranks: Ranks, head_ranks: Ranks, weak: bool) -> tuple[Ranks, Ranks]:
    from ..convert import infer_body_ranks  # noqa: PLC0415  (the converter imports this registry)

    seeds: dict[tuple[int, int], int] = {}
    for nid, r in zip(graph.arg_nodes, var_ranks):
        if r is not None:
            seeds[(nid, 0)] = r
    for head, r in zip(graph.heads, head_ranks):
        if r is not None:
            seeds.setdefault(head, r)
    ranks = infer_body_ranks(graph, seeds, weak)
    return [ranks.get((nid, 0)) for nid in graph.arg_nodes], [ranks.get(h) for h in graph.heads]


def _shift(ranks: Ranks, delta: int) -> Ranks:
    return [None if r is None else r + delta for r in ranks]


def _gather(ranks: Ranks, locs: Sequence[int]) -> Ranks:
    return [ranks[j] if 0 <= j < len(ranks) else None for j in locs]


def _scatter_into(target: Ranks, locs: Sequence[int], values: Ranks) -> None:
    for loc, v in zip(locs, values):
        if 0 <= loc < len(target) and target[loc] is None:
            target[loc] = v


def _foreach_layout(attrs: Attrs) -> tuple[list[int], int, int]:
    """(subgraph location of each node input, number of data inputs, num_out_data)."""
    data, state, remain = attrs.ints("in_data_locs"), attrs.ints("in_state_locs"), attrs.ints("remain_locs")
    return list(data) + list(state) + list(remain), len(data), attrs.integer("num_out_data")


def _foreach_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    graph = attrs.node.subgraphs[0]
    locs, n_data, n_out_data = _foreach_layout(attrs)
    var_ranks: Ranks = [None] * len(graph.arg_nodes)
    _scatter_into(var_ranks, locs, _shift(list(ranks[:n_data]), -1) + list(ranks[n_data:]))
    _, heads = _body(graph, var_ranks, [], weak=False)
    return _shift(heads[:n_out_data], 1) + heads[n_out_data:]


def _foreach_inputs(attrs: Attrs, out: Ranks, n_in: int, weak: bool) -> Ranks:
    graph = attrs.node.subgraphs[0]
    locs, n_data, n_out_data = _foreach_layout(attrs)
    n_state = n_in - n_data - len(attrs.ints("remain_locs"))
    heads = _shift(list(out[:n_out_data]), -1) + list(out[n_out_data:])
    var_ranks, _ = _body(graph, [], heads, weak)
    back = _gather(var_ranks, locs)
    back[:n_data] = _shift(back[:n_data], 1)
    for k in range(n_state):  # an initial state has its final state's rank
        if back[n_data + k] is None and n_out_data + k < len(out):
            back[n_data + k] = out[n_out_data + k]
    return back


def _while_layout(attrs: Attrs) -> tuple[list[int], list[int], int]:
    """(node input of each func input, node input of each loop variable, num_out_data)."""
    func_locs = list(attrs.ints("func_input_locs"))
    return func_locs, [func_locs[p] for p in attrs.ints("func_var_locs")], attrs.integer("num_out_data")


def _while_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    func = attrs.node.subgraphs[1]
    func_locs, var_inputs, n_out_data = _while_layout(attrs)
    _, heads = _body(func, _gather(ranks, func_locs), [], weak=False)
    return _shift(heads[:n_out_data], 1) + [
        h if h is not None else _gather(ranks, [j])[0] for h, j in zip(heads[n_out_data:], var_inputs)
    ]


def _while_inputs(attrs: Attrs, out: Ranks, n_in: int, weak: bool) -> Ranks:
    func = attrs.node.subgraphs[1]
    func_locs, var_inputs, n_out_data = _while_layout(attrs)
    var_ranks, _ = _body(func, [], _shift(list(out[:n_out_data]), -1) + list(out[n_out_data:]), weak)
    back: Ranks = [None] * n_in
    _scatter_into(back, func_locs, var_ranks)
    _scatter_into(back, var_inputs, list(out[n_out_data:]))
    return back


def _cond_rank(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    _, heads = _body(attrs.node.subgraphs[1], _gather(ranks, attrs.ints("then_input_locs")), [], weak=False)
    return heads


def _cond_inputs(attrs: Attrs, out: Ranks, n_in: int, weak: bool) -> Ranks:
    back: Ranks = [None] * n_in
    for graph, key in zip(attrs.node.subgraphs[1:], ("then_input_locs", "else_input_locs")):
        var_ranks, _ = _body(graph, [], list(out), weak)
        _scatter_into(back, attrs.ints(key), var_ranks)
    return back


# ---------------------------------------------------------------- _foreach -> Scan


@register(
    "_foreach",
    rank=_foreach_rank,
    back=lambda a, o, n: _foreach_inputs(a, o, n, weak=False),
    weak_back=lambda a, o, n: _foreach_inputs(a, o, n, weak=True),
    n_out=lambda a: a.integer("num_outputs"),
    bcast_ok=True,
    arity=(1, None),
)
def foreach(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    (graph,) = _subgraphs(ctx, attrs, 1)
    data_locs, state_locs, remain_locs = (
        attrs.ints("in_data_locs"),
        attrs.ints("in_state_locs"),
        attrs.ints("remain_locs"),
    )
    n_data, n_state = len(data_locs), len(state_locs)
    n_out_data, n_outputs = attrs.integer("num_out_data"), attrs.integer("num_outputs")
    locs = list(data_locs) + list(state_locs) + list(remain_locs)
    if len(ins) != len(locs) or sorted(locs) != list(range(len(graph.arg_nodes))):
        raise ctx.fail(
            f"has {len(ins)} inputs and locations {locs} for a subgraph of {len(graph.arg_nodes)} inputs; "
            "expected one location per input, covering the subgraph's inputs once"
        )
    if n_data < 1 or n_outputs != n_out_data + n_state:
        raise ctx.fail(f"num_outputs={n_outputs}; expected num_out_data ({n_out_data}) + {n_state} states")
    data, states, remain = ins[:n_data], ins[n_data : n_data + n_state], ins[n_data + n_state :]
    for k, d in enumerate(data):
        ctx.require_no_bcast(d, f"data input {k}")
        if ctx.require_rank(d, f"data input {k}") < 1:
            raise ctx.fail(f"data input {k} is a scalar; foreach iterates over axis 0")
    builder = BodyBuilder(ctx.b)
    body = ctx.child(builder)
    inits: list[str] = []
    sub: list[Value | None] = [None] * len(graph.arg_nodes)
    for k, (loc, v) in enumerate(zip(state_locs, states)):
        ctx.require_rank(v, f"state {k}")
        inits.append(ctx.expand_like(v, data[0], {a: a + 1 for a in v.bcast}) if v.bcast else ctx.t(v))
        shape = (
            None
            if v.shape is None
            else tuple(
                data[0].shape[a + 1] if a in v.bcast and data[0].shape is not None and a + 1 < len(data[0].shape) else d
                for a, d in enumerate(v.shape)
            )
        )
        sub[loc] = builder.body_input(body, f"{ctx.hint('state')}{k}", v.dtype, shape)
    for k, (loc, v) in enumerate(zip(data_locs, data)):
        sub[loc] = builder.body_input(body, f"{ctx.hint('step')}{k}", v.dtype, v.shape[1:])  # type: ignore[index]
    for loc, v in zip(remain_locs, remain):
        sub[loc] = v
    outs = _translate(body, graph, sub)  # type: ignore[arg-type]
    if len(outs) != n_outputs:
        raise ctx.fail(f"its subgraph has {len(outs)} outputs; expected num_outputs={n_outputs}")
    out_data, new_states = outs[:n_out_data], outs[n_out_data:]
    for k, (old, new) in enumerate(zip(states, new_states)):
        if old.dtype != new.dtype:
            raise ctx.fail(f"state {k} enters as {old.dtype} and leaves the body as {new.dtype}; expected one dtype")
    body_graph = builder.graph(body, ctx.hint("body"), list(new_states) + list(out_data))
    scan = ctx.emit_n(
        "Scan", inits + [ctx.t(d) for d in data], n_state + n_out_data, body=body_graph, num_scan_inputs=n_data
    )
    steps = data[0].shape[0]  # type: ignore[index]
    stacked = [
        ctx.value(t, v.dtype, None if v.shape is None else (steps, *v.shape)) for t, v in zip(scan[n_state:], out_data)
    ]
    final = [ctx.value(t, v.dtype, v.shape) for t, v in zip(scan[:n_state], new_states)]
    return stacked + final


# ---------------------------------------------------------------- _while_loop -> Loop


def _pad_rows(ctx: Context, tensor: str, rank: int, rows: int) -> str:
    """``tensor`` padded with zero rows at the end of axis 0 up to ``rows`` (MXNet's max_iterations)."""
    missing = ctx.emit(
        "Sub", [ctx.i64([rows]), ctx.emit("Slice", [ctx.emit("Shape", [tensor]), ctx.i64([0]), ctx.i64([1])])]
    )
    pads = ctx.shape_vector([0] * rank + [missing] + [0] * (rank - 1))
    return ctx.emit("Pad", [tensor, pads])


@register(
    "_while_loop",
    rank=_while_rank,
    back=lambda a, o, n: _while_inputs(a, o, n, weak=False),
    weak_back=lambda a, o, n: _while_inputs(a, o, n, weak=True),
    n_out=lambda a: a.integer("num_outputs"),
    arity=(1, None),
)
def while_loop(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    cond_g, func_g = _subgraphs(ctx, attrs, 2)
    cond_locs, func_locs, var_locs = (
        attrs.ints("cond_input_locs"),
        attrs.ints("func_input_locs"),
        attrs.ints("func_var_locs"),
    )
    n_out_data, n_outputs = attrs.integer("num_out_data"), attrs.integer("num_outputs")
    max_iterations = attrs.integer("max_iterations")
    _map_inputs(ctx, cond_g, cond_locs, "cond_input_locs")
    _map_inputs(ctx, func_g, func_locs, "func_input_locs")
    if any(not 0 <= j < len(ins) for j in list(cond_locs) + list(func_locs)) or any(
        not 0 <= p < len(func_locs) for p in var_locs
    ):
        raise ctx.fail(f"its input locations point outside its {len(ins)} inputs")
    if max_iterations < 1 or n_outputs != n_out_data + len(var_locs):
        raise ctx.fail(
            f"max_iterations={max_iterations}, num_outputs={n_outputs}; expected max_iterations >= 1 and "
            f"num_outputs = num_out_data ({n_out_data}) + {len(var_locs)} loop variables"
        )
    var_inputs = [func_locs[p] for p in var_locs]  # the node inputs that are loop variables
    start = _translate(ctx, cond_g, [ins[j] for j in cond_locs])
    builder = BodyBuilder(ctx.b)
    body = ctx.child(builder)
    builder.body_input(body, ctx.hint("iteration"), np.dtype(np.int64), ())
    builder.body_input(body, ctx.hint("cond_in"), np.dtype(np.bool_), ())
    loop_vars = []
    for k, j in enumerate(var_inputs):
        ctx.require_no_bcast(ins[j], f"loop variable {k}")
        ctx.require_rank(ins[j], f"loop variable {k}")
        loop_vars.append(builder.body_input(body, f"{ctx.hint('var')}{k}", ins[j].dtype, ins[j].shape))
    func_ins = [loop_vars[var_inputs.index(j)] if j in var_inputs else ins[j] for j in func_locs]
    outs = _translate(body, func_g, func_ins)
    if len(outs) != n_outputs:
        raise ctx.fail(f"its loop body has {len(outs)} outputs; expected num_outputs={n_outputs}")
    out_data, new_vars = outs[:n_out_data], outs[n_out_data:]
    for k, (old, new) in enumerate(zip(loop_vars, new_vars)):
        if old.dtype != new.dtype:
            raise ctx.fail(f"loop variable {k} enters as {old.dtype} and leaves as {new.dtype}; expected one dtype")
    again = _translate(body, cond_g, [new_vars[var_inputs.index(j)] if j in var_inputs else ins[j] for j in cond_locs])
    flag = body.value(_condition(body, again[0]), np.dtype(np.bool_), ())
    body_graph = builder.graph(body, ctx.hint("body"), [flag, *new_vars, *out_data])
    loop = ctx.emit_n(
        "Loop",
        [ctx.i64(max_iterations), _condition(ctx, start[0])] + [ctx.t(ins[j]) for j in var_inputs],
        len(new_vars) + n_out_data,
        body=body_graph,
    )
    results = []
    for tensor, v in zip(loop[len(new_vars) :], out_data):
        rank = ctx.require_rank(v, "an output of the loop body") + 1
        shape = None if v.shape is None else (max_iterations, *v.shape)
        results.append(ctx.value(_pad_rows(ctx, tensor, rank, max_iterations), v.dtype, shape))
    results += [ctx.value(t, v.dtype, v.shape) for t, v in zip(loop[: len(new_vars)], new_vars)]
    return results


# ---------------------------------------------------------------- _cond -> If


def _branch(
    ctx: Context, graph: Symbol, ins: list[Value], locs: Sequence[int], name: str
) -> tuple[onnx.GraphProto, list[Value]]:
    builder = BodyBuilder(ctx.b)
    body = ctx.child(builder)
    outs = _translate(body, graph, [ins[j] for j in locs])
    return builder.graph(body, ctx.hint(name), outs), outs


def _agree(a: Value, b: Value) -> tuple[DimT, ...] | None:
    if a.shape is None or b.shape is None or len(a.shape) != len(b.shape):
        return None
    return tuple(x if isinstance(x, int) and x == y else None for x, y in zip(a.shape, b.shape))


@register(
    "_cond",
    rank=_cond_rank,
    back=lambda a, o, n: _cond_inputs(a, o, n, weak=False),
    weak_back=lambda a, o, n: _cond_inputs(a, o, n, weak=True),
    n_out=lambda a: a.integer("num_outputs"),
    arity=(1, None),
)
def cond(ctx: Context, attrs: Attrs, ins: list[Value]) -> list[Value]:
    cond_g, then_g, else_g = _subgraphs(ctx, attrs, 3)
    locs = {k: attrs.ints(f"{k}_input_locs") for k in ("cond", "then", "else")}
    for key, graph in zip(locs, (cond_g, then_g, else_g)):
        _map_inputs(ctx, graph, locs[key], f"{key}_input_locs")
        if any(not 0 <= j < len(ins) for j in locs[key]):
            raise ctx.fail(f"{key}_input_locs {locs[key]} point outside its {len(ins)} inputs")
    predicate = _translate(ctx, cond_g, [ins[j] for j in locs["cond"]])
    then_graph, then_outs = _branch(ctx, then_g, ins, locs["then"], "then")
    else_graph, else_outs = _branch(ctx, else_g, ins, locs["else"], "else")
    n_outputs = attrs.integer("num_outputs")
    if not len(then_outs) == len(else_outs) == n_outputs:
        raise ctx.fail(f"its branches have {len(then_outs)} and {len(else_outs)} outputs; expected {n_outputs} each")
    for k, (a, b) in enumerate(zip(then_outs, else_outs)):
        if a.dtype != b.dtype:
            raise ctx.fail(f"output {k} is {a.dtype} in one branch and {b.dtype} in the other; expected one dtype")
    tensors = ctx.emit_n(
        "If", [_condition(ctx, predicate[0])], n_outputs, then_branch=then_graph, else_branch=else_graph
    )
    return [ctx.value(t, a.dtype, _agree(a, b)) for t, a, b in zip(tensors, then_outs, else_outs)]
