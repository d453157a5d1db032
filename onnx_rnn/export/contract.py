"""The custom op's contract as the Python side checks it (docs/custom_op.md): op types, versions, attributes.

The plugin validates every attribute it knows by exact type, but ONNX Runtime's C API (1.21) cannot list a
node's attributes, so the kernel cannot see an attribute name the contract does not have. This module can:
``onnx_rnn.InferenceSession`` runs :func:`check_custom_nodes` before handing a model to ONNX Runtime.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import AttributeProto

from ..errors import OnnxRnnError
from .builder import CUSTOM_DOMAIN

# onnx_rnn opset version -> the op type of that contract version.
OP_TYPES = {1: "LSTM", 2: "LSTMP"}
ATTRIBUTE_TYPES = {
    "hidden_size": AttributeProto.INT,
    "direction": AttributeProto.STRING,
    "clip_min": AttributeProto.FLOAT,
    "clip_max": AttributeProto.FLOAT,
    "clip_nan": AttributeProto.INT,
    "layout": AttributeProto.INT,
}
UNIMPLEMENTED_ONNX_LSTM_ATTRIBUTES = ("activations", "activation_alpha", "activation_beta", "clip", "input_forget")


def domain_version(model: onnx.ModelProto) -> int | None:
    """The model's ``onnx_rnn`` opset version, or None when it does not import the domain."""
    versions = [o.version for o in model.opset_import if o.domain == CUSTOM_DOMAIN]
    return versions[0] if versions else None


def check_custom_nodes(model: onnx.ModelProto) -> None:
    """Raise :class:`OnnxRnnError` naming the first ``onnx_rnn`` node the plugin would refuse or misread."""
    nodes = [n for n in _all_nodes(model.graph) if n.domain == CUSTOM_DOMAIN]
    if not nodes:
        return
    version = domain_version(model)
    if version not in OP_TYPES:
        supported = ", ".join(str(v) for v in OP_TYPES)
        raise OnnxRnnError(f"the model imports onnx_rnn opset version {version}; this onnx-rnn supports {supported}")
    want_op = OP_TYPES[version]
    for node in nodes:
        where = f"node {node.name!r} ({CUSTOM_DOMAIN}.{node.op_type})"
        if node.op_type != want_op:
            raise OnnxRnnError(f"{where}: onnx_rnn opset {version} has op type {want_op!r} only")
        for attr in node.attribute:
            if attr.name in UNIMPLEMENTED_ONNX_LSTM_ATTRIBUTES:
                raise OnnxRnnError(
                    f"{where}: attribute {attr.name!r} (of ONNX's LSTM) is not implemented by {want_op}; "
                    "the node must not carry it"
                )
            want = ATTRIBUTE_TYPES.get(attr.name)
            if want is None:
                raise OnnxRnnError(
                    f"{where}: unknown attribute {attr.name!r}; {want_op} has {', '.join(ATTRIBUTE_TYPES)}"
                )
            if attr.name in ("clip_min", "clip_max") and attr.type == AttributeProto.TENSOR:
                if attr.t.data_type != onnx.TensorProto.DOUBLE or int(np.prod(attr.t.dims)) != 1:
                    raise OnnxRnnError(f"{where}: attribute {attr.name!r} as a TENSOR must hold one float64 value")
                continue
            if attr.type != want:
                got = AttributeProto.AttributeType.Name(attr.type)
                raise OnnxRnnError(
                    f"{where}: attribute {attr.name!r} must be {AttributeProto.AttributeType.Name(want)}, got {got}"
                )


def _all_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """Nodes of ``graph`` and of its subgraphs (Scan/Loop/If bodies)."""
    found = []
    for node in graph.node:
        found.append(node)
        for attr in node.attribute:
            if attr.type == AttributeProto.GRAPH:
                found += _all_nodes(attr.g)
            for sub in attr.graphs:
                found += _all_nodes(sub)
    return found
