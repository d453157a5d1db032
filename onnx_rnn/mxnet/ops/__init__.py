"""The registry of MXNet op translations: one small function per op family.

A translation takes the Context, the node's typed attributes and its input Values, emits ONNX nodes and
returns the node's output Values. Beside it each entry carries rank rules (forward: input ranks -> output
ranks; backward: output ranks -> input ranks), used before translation to find the number of dimensions
of graph inputs that have no ``__shape__`` hint (Gluon's exported ``data``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..context import Context, Value
from ..symbol import Attrs

Ranks = list["int | None"]
Translator = Callable[[Context, Attrs, list[Value]], list[Value]]
RankRule = Callable[[Attrs, Ranks, int], Ranks]  # (attrs, input ranks, n_out) -> output ranks
BackRule = Callable[[Attrs, Ranks, int], Ranks]  # (attrs, output ranks, n_in) -> input ranks


def same(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    """Outputs have the first input's rank."""
    return [ranks[0] if ranks else None] * n_out


def same_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    """Every input has the output's rank (elementwise ops of equal shapes)."""
    return [out[0]] * n_in


def first_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    """The first input has the output's rank; nothing is known about the others."""
    return [out[0]] + [None] * (n_in - 1)


def no_back(attrs: Attrs, out: Ranks, n_in: int) -> Ranks:
    return [None] * n_in


def broadcast(attrs: Attrs, ranks: Ranks, n_out: int) -> Ranks:
    known = [r for r in ranks if r is not None]
    return [max(known) if ranks and len(known) == len(ranks) else None] * n_out


def fixed(*ranks: int | None) -> RankRule:
    return lambda attrs, _ranks, n_out: list(ranks[:n_out]) + [None] * (n_out - len(ranks))


def shifted(delta: int) -> RankRule:
    """Output rank = first input's rank + delta."""
    return lambda attrs, ranks, n_out: [None if not ranks or ranks[0] is None else ranks[0] + delta] * n_out


def shifted_back(delta: int) -> BackRule:
    """First input's rank = output rank - delta."""
    return lambda attrs, out, n_in: [None if out[0] is None else out[0] - delta] + [None] * (n_in - 1)


@dataclass(frozen=True)
class OpDef:
    name: str
    fn: Translator
    rank: RankRule
    back: BackRule
    n_out: Callable[[Attrs], int]
    out_names: Callable[[Attrs], Sequence[str]] | None
    bcast_ok: bool  # accepts values with placeholder (0-sized in MXNet) axes
    weak_back: BackRule | None  # a guess used only where no other rule decides (FullyConnected's 2-D data)
    arity: tuple[int, int | None]  # (fewest, most) inputs; None: any number


OPS: dict[str, OpDef] = {}


def register(
    *names: str,
    rank: RankRule = same,
    back: BackRule = same_back,
    n_out: Callable[[Attrs], int] | int = 1,
    out_names: Callable[[Attrs], Sequence[str]] | None = None,
    bcast_ok: bool = False,
    weak_back: BackRule | None = None,
    arity: tuple[int, int | None] = (1, 1),
) -> Callable[[Translator], Translator]:
    count = n_out if callable(n_out) else (lambda attrs, _n=n_out: _n)

    def deco(fn: Translator) -> Translator:
        for name in names:
            if name in OPS:
                raise RuntimeError(f"op {name} registered twice")
            OPS[name] = OpDef(name, fn, rank, back, count, out_names, bcast_ok, weak_back, arity)
        return fn

    return deco


def supported_ops() -> list[str]:
    return sorted(OPS)


from . import (  # noqa: E402,F401  (registration side effects)
    control_flow,
    conv,
    elementwise,
    indexing,
    nn,
    numpy_mode,
    pick,
    rnn,
    sequence,
    tensor,
)
