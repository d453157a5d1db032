"""MXNet ``-symbol.json`` files: nodes, arg_nodes and heads, with typed access to node attributes.

MXNet 1.x writes each node's attributes under ``attrs``; 0.x files used ``param`` (the operator's
arguments) and ``attr`` (hints such as ``__shape__``). All three are read and merged (``attrs`` wins).
Variables (``op == "null"``) may carry ``__shape__`` (0 = unknown), ``__dtype__`` (an mshadow type flag) and
``__layout__`` hints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import limits
from ..errors import OnnxRnnError
from ..spec import python_literal
from .ndarray_file import DTYPE_FLAGS


@dataclass(frozen=True)
class Node:
    index: int
    op: str  # "null" for a variable
    name: str
    attrs: dict[str, str]
    inputs: tuple[tuple[int, int], ...]  # (node index, output index)
    subgraphs: tuple[Symbol, ...] = ()  # control flow (_foreach, _while_loop, _cond): the bodies

    @property
    def is_variable(self) -> bool:
        return self.op == "null"

    def describe(self) -> str:
        return f"variable {self.name!r}" if self.is_variable else f"{self.op} node {self.name!r}"


@dataclass(frozen=True)
class Symbol:
    nodes: list[Node]
    arg_nodes: list[int]
    heads: list[tuple[int, int]]
    attrs: dict[str, Any] = field(default_factory=dict)
    source: str = "<symbol>"

    def variables(self) -> list[Node]:
        return [self.nodes[i] for i in self.arg_nodes]

    def consumers(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """(node, output) -> [(consumer node index, input position)]."""
        out: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for node in self.nodes:
            for pos, entry in enumerate(node.inputs):
                out.setdefault(entry, []).append((node.index, pos))
        return out


def _not_a_symbol(source: str, why: str) -> OnnxRnnError:
    return OnnxRnnError(
        f"{source} is not an MXNet symbol file: {why}; expected the JSON that "
        "HybridBlock.export or save_checkpoint writes ('nodes', 'arg_nodes', 'heads')"
    )


def _attr_text(value: Any) -> str:
    """Attribute values are strings in MXNet's files; hand-written JSON may hold numbers or lists."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return "None"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "(" + ", ".join(_attr_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    raise TypeError(type(value).__name__)


def _entry(raw: Any, where: str, source: str, limit: int) -> tuple[int, int]:
    if (
        not isinstance(raw, list)
        or len(raw) not in (2, 3)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
    ):
        raise _not_a_symbol(source, f"{where} is {raw!r}, not a [node, output(, version)] entry")
    nid, index = raw[0], raw[1]
    if not 0 <= nid < limit or index < 0:
        raise OnnxRnnError(
            f"{source}: {where} refers to node {nid} output {index}; expected a node index "
            f"below {limit} (nodes must come after their inputs)"
        )
    return nid, index


def parse_symbol(text: str | bytes, source: str = "<symbol>") -> Symbol:
    from ..files import json_depth  # noqa: PLC0415

    if not isinstance(text, (str, bytes, bytearray, memoryview)):
        raise _not_a_symbol(source, f"got a {type(text).__name__}, not JSON text (str or bytes)")
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    limits.check(limits.JSON_DEPTH, json_depth(raw), f"{source}: its JSON nesting depth")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _not_a_symbol(source, f"invalid JSON ({exc})") from None
    return _parse_graph(doc, source)


def _parse_graph(doc: Any, source: str) -> Symbol:
    """One graph object (the file's top level, or a control-flow node's subgraph)."""
    if not isinstance(doc, dict):
        raise _not_a_symbol(source, f"the top level is a {type(doc).__name__}, not an object")
    if "nodes" not in doc or "heads" not in doc:
        raise _not_a_symbol(source, f"keys {sorted(doc)[:8]} lack 'nodes' and 'heads'")
    raw_nodes, raw_heads = doc["nodes"], doc["heads"]
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise _not_a_symbol(source, "'nodes' is not a non-empty list")
    if not isinstance(raw_heads, list) or not raw_heads:
        raise _not_a_symbol(source, "'heads' is not a non-empty list")
    limits.check(limits.GRAPH_NODES, len(raw_nodes), f"{source}: its number of nodes")
    nodes: list[Node] = []
    names: set[str] = set()
    for i, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str) or not isinstance(raw.get("name"), str):
            raise _not_a_symbol(source, f"node {i} is not an object with string 'op' and 'name'")
        attrs: dict[str, str] = {}
        for key in ("param", "attr", "attrs"):  # oldest first, so newer keys win
            block = raw.get(key, {})
            if not isinstance(block, dict):
                raise _not_a_symbol(source, f"node {i} ({raw['name']!r}) has a non-object {key!r}")
            try:
                attrs.update({str(k): _attr_text(v) for k, v in block.items()})
            except TypeError as exc:
                raise _not_a_symbol(source, f"node {i} ({raw['name']!r}) has an attribute of type {exc}") from None
        raw_inputs = raw.get("inputs", [])
        if not isinstance(raw_inputs, list):
            raise _not_a_symbol(source, f"node {i} ({raw['name']!r}) has non-list 'inputs'")
        inputs = tuple(
            _entry(e, f"input {k} of node {i} ({raw['name']!r})", source, i) for k, e in enumerate(raw_inputs)
        )
        op = raw["op"]
        if op == "null":
            if not raw["name"]:
                raise _not_a_symbol(source, f"variable node {i} has an empty name (graph inputs need names)")
            if inputs:
                raise _not_a_symbol(source, f"variable node {i} ({raw['name']!r}) has inputs")
            if raw["name"] in names:
                raise OnnxRnnError(f"{source}: two variables are named {raw['name']!r}; expected unique names")
            names.add(raw["name"])
        raw_subgraphs = raw.get("subgraphs", [])
        if not isinstance(raw_subgraphs, list):
            raise _not_a_symbol(source, f"node {i} ({raw['name']!r}) has non-list 'subgraphs'")
        subgraphs = tuple(
            _parse_graph(g, f"{source}: subgraph {k} of node {raw['name']!r}") for k, g in enumerate(raw_subgraphs)
        )
        nodes.append(Node(i, op, raw["name"], attrs, inputs, subgraphs))
    heads = [_entry(h, f"head {k}", source, len(nodes)) for k, h in enumerate(raw_heads)]
    if "arg_nodes" in doc:
        arg_nodes = doc["arg_nodes"]
        if not isinstance(arg_nodes, list) or not all(
            isinstance(a, int) and not isinstance(a, bool) and 0 <= a < len(nodes) for a in arg_nodes
        ):
            raise _not_a_symbol(source, "'arg_nodes' is not a list of node indices")
        bad = [a for a in arg_nodes if not nodes[a].is_variable]
        if bad:
            raise _not_a_symbol(source, f"arg_nodes {bad} are not variables")
    else:
        arg_nodes = [n.index for n in nodes if n.is_variable]
    listed = set(arg_nodes)  # once, not per node: a symbol may have tens of thousands of variables
    missing = [n.index for n in nodes if n.is_variable and n.index not in listed]
    arg_nodes = list(arg_nodes) + missing  # variables not listed are still graph inputs
    graph_attrs = doc.get("attrs", {}) if isinstance(doc.get("attrs", {}), dict) else {}
    return Symbol(nodes, arg_nodes, heads, graph_attrs, source)


def load_symbol(path: str | os.PathLike[str]) -> Symbol:
    from ..files import read_input  # noqa: PLC0415 (a regular file within the size limit)

    data = read_input(path, "symbol file")
    return parse_symbol(data, str(path))


# ---------------------------------------------------------------- attribute access


_NONE = object()
#: MXNet's attributes are at most int64; a literal beyond that ("0xfff...") is refused where it is read.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Attrs:
    """Typed, validated access to one node's string attributes; errors name the node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.raw = node.attrs

    def fail(self, key: str, expected: str) -> OnnxRnnError:
        return OnnxRnnError(f"{self.node.describe()}: attribute {key}={self.raw.get(key)!r}; expected {expected}")

    def has(self, key: str) -> bool:
        return key in self.raw and self.raw[key].strip() not in ("None", "")

    def _literal(self, key: str, expected: str) -> Any:
        text = self.raw[key].strip()
        if text in ("True", "true"):
            return True
        if text in ("False", "false"):
            return False
        if text in ("None", ""):
            return None
        if text in ("inf", "+inf", "-inf", "nan", "-nan"):
            return float(text.replace("-nan", "nan"))
        try:
            return python_literal(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):  # TypeError: "{[]}"
            raise self.fail(key, expected) from None

    def text(self, key: str, default: Any = _NONE) -> Any:
        if key not in self.raw:
            if default is _NONE:
                raise self.fail(key, "a value (the attribute is missing)")
            return default
        return self.raw[key].strip()

    def flag(self, key: str, default: bool = False) -> bool:
        if key not in self.raw:
            return default
        value = self._literal(key, "True or False")
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.fail(key, "True or False")

    def integer(self, key: str, default: Any = _NONE) -> Any:
        if not self.has(key):
            if default is _NONE:
                raise self.fail(key, "an integer")
            return default
        value = self._literal(key, "an integer")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not _INT64_MIN <= value <= _INT64_MAX:
            raise self.fail(key, "an integer (in int64's range)")
        return value

    def number(self, key: str, default: Any = _NONE) -> Any:
        if not self.has(key):
            if default is _NONE:
                raise self.fail(key, "a number")
            return default
        value = self._literal(key, "a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number")
        if isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
            raise self.fail(key, "a number (an integer in int64's range)")
        return float(value)

    def ints(self, key: str, default: Any = _NONE, *, allow_none: bool = False) -> Any:
        """A tuple of integers ("(2, 0, 32)", "[1,2]", "-1"); entries may be None when ``allow_none``."""
        if key not in self.raw or self.raw[key].strip() in ("", "None"):
            if default is _NONE:
                raise self.fail(key, "a tuple of integers")
            return default
        value = self._literal(key, "a tuple of integers")
        if isinstance(value, (int, type(None))) and not isinstance(value, bool):
            value = (value,)
        if not isinstance(value, (tuple, list)):
            raise self.fail(key, "a tuple of integers")
        out: list[int | None] = []
        for v in value:
            if v is None and allow_none:
                out.append(None)
            elif isinstance(v, bool) or not isinstance(v, int) or not _INT64_MIN <= v <= _INT64_MAX:
                raise self.fail(key, "a tuple of integers in int64's range" + (" or None" if allow_none else ""))
            else:
                out.append(v)
        return tuple(out)

    def dtype(self, key: str = "dtype", default: Any = _NONE) -> Any:
        """A dtype attribute: a name ("float32") or an mshadow flag ("0"); "None" gives the default."""
        if not self.has(key):
            if default is _NONE:
                raise self.fail(key, "a dtype")
            return default
        return parse_dtype(self.raw[key], lambda: self.fail(key, f"a dtype (one of {', '.join(_DTYPE_NAMES)})"))


_DTYPE_NAMES = [n for n in DTYPE_FLAGS.values() if n != "bfloat16"]


def parse_dtype(text: str, fail: Callable[[], OnnxRnnError]) -> np.dtype:
    text = text.strip()
    if text.lstrip("-").isdigit():
        try:
            name = DTYPE_FLAGS.get(int(text))
        except ValueError:  # "--1", "²": digits to str.isdigit, not to int()
            raise fail() from None
    else:
        name = text
    if name == "bfloat16" or name not in _DTYPE_NAMES:
        raise fail()
    return np.dtype(name)
