"""Training symbols: which heads to convert, and which inputs of a node inference never reads.

A symbol saved for training (``Module.save_checkpoint``, ``BucketingModule``) carries label variables and
loss heads. ``SoftmaxOutput``-style ops read their label only for the gradient: that input, and everything
that only feeds it (``Reshape`` of ``softmax_label``, ...), is not part of the inference graph, so the
converted model has no label input. Loss heads (``make_loss`` of ``pick``ed log-probabilities) are
ordinary ops and convert with their label input; ``--outputs`` chooses other heads (any node output of
the symbol, named as MXNet's ``list_outputs``/``get_internals`` name it) and the rest are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..errors import OnnxRnnError
from .symbol import Node, Symbol

#: Ops whose inputs after the first are training labels, unused at inference.
LABEL_OPS = {"SoftmaxOutput", "Softmax", "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"}

#: Loss ops with no inference meaning here: an unsupported-op error on one of them suggests --outputs.
LOSS_OPS = {"_contrib_ctc_loss", "_contrib_CTCLoss", "ctc_loss", "CTCLoss", "WarpCTC", "softmax_cross_entropy"}


def inference_inputs(node: Node) -> tuple[tuple[int, int], ...]:
    """The inputs a node reads at inference: all but the label of the *Output ops."""
    if node.op in LABEL_OPS:
        return node.inputs[:1]
    return node.inputs


def select_heads(
    symbol: Symbol, wanted: Sequence[str], output_name: Callable[[int, int], str], n_outputs: Callable[[int], int]
) -> tuple[Symbol, list[str]]:
    """The symbol with the heads named in ``wanted`` (in that order), and the names of the heads left out.

    A name is a node output as MXNet names it (``pred_output``, ``rnn_state_output``), or the name of a node
    with a single output (``pred``).
    """
    by_output: dict[str, tuple[int, int]] = {}
    by_node: dict[str, list[int]] = {}
    for node in symbol.nodes:
        if node.is_variable:
            continue
        by_node.setdefault(node.name, []).append(node.index)
        for index in range(n_outputs(node.index)):
            by_output.setdefault(output_name(node.index, index), (node.index, index))
    heads: list[tuple[int, int]] = []
    for name in wanted:
        if name in by_output:
            entry = by_output[name]
        elif len(by_node.get(name, [])) == 1 and n_outputs(by_node[name][0]) == 1:
            entry = (by_node[name][0], 0)
        elif name in by_node:
            nid = by_node[name][0]
            choices = [output_name(nid, i) for i in range(n_outputs(nid))]
            raise OnnxRnnError(f"--outputs {name!r}: node {name!r} has several outputs; name one of {choices}")
        else:
            current = [output_name(nid, index) for nid, index in symbol.heads]
            raise OnnxRnnError(
                f"--outputs {name!r}: the symbol has no node or node output of that name; expected one of its "
                f"heads {current} or another node's output (as MXNet's get_internals() names it)"
            )
        if entry in heads:
            raise OnnxRnnError(f"--outputs names {name!r} twice")
        heads.append(entry)
    if not heads:
        raise OnnxRnnError("--outputs names no output; expected one or more node outputs")
    dropped = [output_name(nid, index) for nid, index in symbol.heads if (nid, index) not in heads]
    return replace(symbol, heads=heads), dropped
