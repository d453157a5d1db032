"""GraphBuilder: a small, explicit helper that accumulates ONNX nodes, initializers and graph I/O.

Every emitter (standard nodes, the custom op, the portable decomposition, MXNet op translations) writes
through one builder, so names stay unique and opset imports are collected in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CUSTOM_DOMAIN = "onnx_rnn"
CUSTOM_DOMAIN_VERSION = 2  # contract v2 (docs/custom_op.md): op type LSTMP; v1 was LSTM at version 1
CUSTOM_OP_TYPE = "LSTMP"
DEFAULT_OPSET = 17
MIN_OPSET = 14  # GRU/LSTM/RNN as we emit them, and Reshape's allowzero, are stable from 14

Dim = int | str | None
SMALL_TENSOR_BYTES = 1024  # initializers up to this size stay in the model that check() inspects


def np_to_onnx_dtype(dtype: np.dtype | type) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


class GraphBuilder:
    """Accumulates one ONNX graph; ``to_model`` turns it into a ModelProto."""

    def __init__(self, opset: int = DEFAULT_OPSET) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[tuple[str, np.ndarray]] = []  # initializers, kept as arrays until to_model
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.value_info: list[onnx.ValueInfoProto] = []  # shapes inference cannot find (a custom node's outputs)
        self.domains: dict[str, int] = {}
        self.functions: list[onnx.FunctionProto] = []
        self._names: set[str] = set()
        self._next_suffix: dict[str, int] = {}
        self._constants: dict[tuple[int, ...], str] = {}

    def unique(self, hint: str) -> str:
        """A tensor/node name not used before in this graph, derived from ``hint``.

        The next suffix to try is remembered per hint: a hint used n times costs O(n) in all, not O(n**2)
        (a symbol with 40k inputs to one add_n took minutes).
        """
        name, k = hint, self._next_suffix.get(hint, 1)
        if name in self._names:
            name = f"{hint}_{k}"
            while name in self._names:
                k += 1
                name = f"{hint}_{k}"
            self._next_suffix[hint] = k + 1
        self._names.add(name)
        return name

    def reserve(self, name: str) -> str:
        """Claim an exact name (graph inputs and outputs keep the names the user sees)."""
        if name in self._names:
            raise ValueError(f"tensor name {name!r} used twice")
        self._names.add(name)
        return name

    def initializer(self, array: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        self.weights.append((name, np.require(array, requirements="C")))
        return name

    def constant_i64(self, values: Sequence[int] | int, hint: str) -> str:
        """An int64 initializer (shapes, axes, slice bounds); equal values share one tensor."""
        array = np.asarray(values, dtype=np.int64)
        key = (array.ndim, *array.ravel().tolist())
        if key not in self._constants:
            self._constants[key] = self.initializer(array, hint)
        return self._constants[key]

    def node(
        self,
        op_type: str,
        inputs: Sequence[str | None],
        n_outputs: int = 1,
        *,
        outputs: Sequence[str] | None = None,
        domain: str = "",
        **attrs: Any,
    ) -> list[str]:
        """Append a node; ``None`` inputs become empty names (an omitted optional input)."""
        if outputs is None:
            outputs = [self.unique(f"{op_type.lower()}_out") for _ in range(n_outputs)]
        if domain and domain not in self.domains:
            self.domains[domain] = CUSTOM_DOMAIN_VERSION if domain == CUSTOM_DOMAIN else 1
        attrs = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            helper.make_node(
                op_type,
                ["" if i is None else i for i in inputs],
                list(outputs),
                name=self.unique(f"{op_type}_node"),
                domain=domain,
                **attrs,
            )
        )
        return list(outputs)

    def add_input(self, name: str, dtype: np.dtype | type, shape: Sequence[Dim]) -> str:
        self.reserve(name)
        self.inputs.append(helper.make_tensor_value_info(name, np_to_onnx_dtype(dtype), list(shape)))
        return name

    def add_output(self, name: str, dtype: np.dtype | type, shape: Sequence[Dim] | None) -> str:
        self.outputs.append(
            helper.make_tensor_value_info(name, np_to_onnx_dtype(dtype), None if shape is None else list(shape))
        )
        return name

    def declare(self, tensor: str, dtype: np.dtype | type, shape: Sequence[Dim | None]) -> None:
        """State ``tensor``'s type and shape (None: a dimension not known here), for a tensor shape inference
        cannot see through: ONNX infers nothing for a custom node without a function, and little through our
        function's Scan body, so a later shape mismatch (a weight that does not fit) would go unseen."""
        self.value_info.append(helper.make_tensor_value_info(tensor, np_to_onnx_dtype(dtype), list(shape)))

    def rename_to_output(self, tensor: str, name: str) -> str:
        """Make ``tensor`` available under the graph-output name ``name`` (an Identity)."""
        self.reserve(name)
        return self.node("Identity", [tensor], outputs=[name])[0]

    def check(self, graph_name: str) -> None:
        """Full ONNX check (types and shape inference included) of the graph as built so far.

        Large weights are stood in for by typed graph inputs of the same name and shape: the checker
        serializes the model it checks, and leaving the weights out keeps that from copying them.
        """
        onnx.checker.check_model(self._model(graph_name, "", weights_as_inputs=True), full_check=True)

    def to_model(self, graph_name: str, doc: str = "") -> onnx.ModelProto:
        """The ModelProto. Consumes the weights: each array is released once it is an initializer, so a
        conversion holds about one copy of the weights beside the caller's (plus one tensor in flight)."""
        return self._model(graph_name, doc, weights_as_inputs=False)

    def _model(self, graph_name: str, doc: str, weights_as_inputs: bool) -> onnx.ModelProto:
        inputs = list(self.inputs)
        if weights_as_inputs:
            inputs += [
                helper.make_tensor_value_info(name, np_to_onnx_dtype(a.dtype), a.shape)
                for name, a in self.weights
                if a.nbytes > SMALL_TENSOR_BYTES
            ]
        graph = helper.make_graph(self.nodes, graph_name, inputs, self.outputs, value_info=self.value_info)
        opsets = [helper.make_opsetid("", self.opset)]
        opsets += [helper.make_opsetid(d, v) for d, v in sorted(self.domains.items())]
        model = helper.make_model(
            graph, opset_imports=opsets, functions=self.functions, producer_name="onnx-rnn", doc_string=doc
        )
        # Initializers go straight into the model's graph: make_model copies the graph it is given.
        initializers = model.graph.initializer
        if weights_as_inputs:
            initializers.extend(
                numpy_helper.from_array(a, name) for name, a in self.weights if a.nbytes <= SMALL_TENSOR_BYTES
            )
        else:
            weights, self.weights = self.weights[::-1], []
            while weights:  # popped: the builder's reference goes once the tensor holds the data
                name, array = weights.pop()
                initializers.append(numpy_helper.from_array(array, name))
                del array
        # The oldest IR version that holds these opsets (and model-local functions), so older runtimes load it.
        # Function overloads (several configurations of one custom op's fallback) need IR 10.
        least = 10 if any(f.overload for f in self.functions) else 8
        model.ir_version = max(least, helper.find_min_ir_version_for(opsets, ignore_unknown=True))
        return model


TENSOR_INT32 = TensorProto.INT32
TENSOR_INT64 = TensorProto.INT64
