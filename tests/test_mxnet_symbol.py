"""The -symbol.json reader: MXNet 1.x and 0.x layouts, attribute parsing, and files that are not symbols."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.mxnet import convert_checkpoint, load_symbol, parse_symbol
from onnx_rnn.mxnet.ndarray_file import save_params
from onnx_rnn.mxnet.symbol import Attrs, Node

MODELS = Path(__file__).resolve().parent.parent / "models"


def test_reads_a_gluon_export() -> None:
    sym = load_symbol(MODELS / "char_lstm-symbol.json")
    assert sym.attrs["mxnet_version"] == ["int", 10901]
    ops = [n.op for n in sym.nodes]
    assert {"Embedding", "RNN", "_rnn_param_concat", "_zeros", "FullyConnected", "log_softmax"} <= set(ops)
    data = sym.nodes[sym.arg_nodes[0]]
    assert data.name == "data" and data.is_variable
    weight = next(n for n in sym.nodes if n.name.endswith("embedding0_weight"))
    assert Attrs(weight).ints("__shape__") == (40, 16)
    assert Attrs(weight).dtype("__dtype__") == np.float32
    (head,) = sym.heads
    assert sym.nodes[head[0]].op == "log_softmax"


# MXNet 0.8-era layout: operator arguments under "param", two-element inputs, backward_source_id
OLD_SYMBOL = {
    "nodes": [
        {
            "op": "null",
            "param": {},
            "name": "data",
            "inputs": [],
            "backward_source_id": -1,
            "attr": {"__shape__": "(0, 3)"},
        },
        {"op": "null", "param": {}, "name": "fc1_weight", "inputs": [], "backward_source_id": -1},
        {"op": "null", "param": {}, "name": "fc1_bias", "inputs": [], "backward_source_id": -1},
        {
            "op": "FullyConnected",
            "param": {"no_bias": "False", "num_hidden": "4"},
            "name": "fc1",
            "inputs": [[0, 0], [1, 0], [2, 0]],
            "backward_source_id": -1,
        },
        {
            "op": "Activation",
            "param": {"act_type": "tanh"},
            "name": "tanh1",
            "inputs": [[3, 0]],
            "backward_source_id": -1,
        },
        {"op": "null", "param": {}, "name": "softmax_label", "inputs": [], "backward_source_id": -1},
        {
            "op": "SoftmaxOutput",
            "param": {"grad_scale": "1", "multi_output": "False"},
            "name": "softmax",
            "inputs": [[4, 0], [5, 0]],
            "backward_source_id": -1,
        },
    ],
    "arg_nodes": [0, 1, 2, 5],
    "heads": [[6, 0]],
}
# MXNet 0.9-1.0 layout: arguments under "attr", version in "attrs"
MID_SYMBOL = {
    "nodes": [
        {"op": "null", "name": "data", "inputs": []},
        {"op": "null", "name": "fc1_weight", "attr": {"__lr_mult__": "1.0"}, "inputs": []},
        {"op": "null", "name": "fc1_bias", "inputs": []},
        {
            "op": "FullyConnected",
            "name": "fc1",
            "attr": {"num_hidden": "4"},
            "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]],
        },
        {"op": "Activation", "name": "tanh1", "attr": {"act_type": "tanh"}, "inputs": [[3, 0, 0]]},
        {"op": "null", "name": "softmax_label", "inputs": []},
        {"op": "SoftmaxOutput", "name": "softmax", "attr": {"multi_output": "False"}, "inputs": [[4, 0, 0], [5, 0, 0]]},
    ],
    "arg_nodes": [0, 1, 2, 5],
    "node_row_ptr": [0, 1, 2, 3, 4, 5, 6, 7],
    "heads": [[6, 0, 0]],
    "attrs": {"mxnet_version": ["int", 905]},
}


@pytest.mark.parametrize("doc", [OLD_SYMBOL, MID_SYMBOL], ids=["mxnet0.8-param", "mxnet0.9-attr"])
def test_old_layouts_convert(tmp_path: Path, doc: dict) -> None:
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    (tmp_path / "old-symbol.json").write_text(json.dumps(doc))
    save_params(tmp_path / "old-0000.params", {"arg:fc1_weight": w, "arg:fc1_bias": b})
    model = convert_checkpoint(
        tmp_path / "old-symbol.json", tmp_path / "old-0000.params", input_shapes={"data": (None, 3)}
    )
    assert [i.name for i in model.graph.input] == ["data"]  # the label is training-only
    assert [o.name for o in model.graph.output] == ["softmax_output"]
    x = rng.standard_normal((5, 3)).astype(np.float32)
    (got,) = ort.InferenceSession(model.SerializeToString()).run(None, {"data": x})
    logits = np.tanh(x @ w.T + b)
    want = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_attrs_win_over_older_keys() -> None:
    doc = {
        "nodes": [
            {"op": "null", "name": "x", "inputs": []},
            {
                "op": "Activation",
                "name": "a",
                "param": {"act_type": "relu"},
                "attr": {"act_type": "tanh"},
                "attrs": {"act_type": "sigmoid"},
                "inputs": [[0, 0, 0]],
            },
        ],
        "heads": [[1, 0, 0]],
    }
    sym = parse_symbol(json.dumps(doc))
    assert sym.nodes[1].attrs["act_type"] == "sigmoid"
    assert sym.arg_nodes == [0]  # derived when absent


def test_hand_written_values_are_accepted() -> None:
    doc = {
        "nodes": [
            {"op": "null", "name": "x", "inputs": []},
            {"op": "Reshape", "name": "r", "attrs": {"shape": [0, -1], "reverse": False}, "inputs": [[0, 0]]},
        ],
        "heads": [[1, 0]],
    }
    node = parse_symbol(json.dumps(doc)).nodes[1]
    assert Attrs(node).ints("shape") == (0, -1)
    assert Attrs(node).flag("reverse") is False


def _node(**attrs: str) -> Node:
    return Node(0, "Op", "n", attrs, ())


def test_attribute_parsing() -> None:
    a = Attrs(
        _node(
            t="(2, 0, 32)",
            one="5",
            none="None",
            b="true",
            f="1e-3",
            inf="-inf",
            dt="0",
            dt2="float16",
            s="(None, 2)",
            bad="[1, 'x']",
        )
    )
    assert a.ints("t") == (2, 0, 32) and a.ints("one") == (5,) and a.ints("none", ()) == ()
    assert a.flag("b") is True and a.flag("missing", True) is True
    assert a.number("f") == 1e-3 and a.number("inf") == float("-inf")
    assert a.dtype("dt") == np.float32 and a.dtype("dt2") == np.float16
    assert a.ints("s", allow_none=True) == (None, 2)
    assert a.integer("missing", 7) == 7 and a.integer("none", 3) == 3
    with pytest.raises(OnnxRnnError, match=r"Op node 'n': attribute bad=.*expected a tuple of integers"):
        a.ints("bad")
    with pytest.raises(OnnxRnnError, match="expected a dtype"):
        Attrs(_node(d="complex128")).dtype("d")
    with pytest.raises(OnnxRnnError, match="expected True or False"):
        Attrs(_node(b="maybe")).flag("b")
    with pytest.raises(OnnxRnnError, match="the attribute is missing"):
        a.text("absent")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "invalid JSON"),
        ("{nodes: 1}", "invalid JSON"),
        ("[1, 2, 3]", "the top level is a list"),
        ('{"arg:w": 1}', "lack 'nodes' and 'heads'"),
        ('{"nodes": [], "heads": [[0, 0]]}', "'nodes' is not a non-empty list"),
        ('{"nodes": [{"op": "null", "name": "x"}], "heads": []}', "'heads' is not a non-empty list"),
        ('{"nodes": [{"name": "x"}], "heads": [[0, 0]]}', "node 0 is not an object with string 'op' and 'name'"),
        ('{"nodes": [{"op": "null", "name": "x", "inputs": [[0, 0]]}], "heads": [[0, 0]]}', "refers to node 0"),
        ('{"nodes": [{"op": "null", "name": "x"}], "heads": [[3, 0]]}', "head 0 refers to node 3"),
        ('{"nodes": [{"op": "null", "name": "x"}], "heads": [["a", 0]]}', "not a \\[node, output"),
        ('{"nodes": [{"op": "null", "name": "x", "attrs": [1]}], "heads": [[0, 0]]}', "non-object 'attrs'"),
        ('{"nodes": [{"op": "null", "name": "x"}, {"op": "null", "name": "x"}], "heads": [[0, 0]]}', "two variables"),
        ('{"nodes": [{"op": "null", "name": "x"}], "heads": [[0, 0]], "arg_nodes": [5]}', "'arg_nodes' is not"),
    ],
)
def test_not_a_symbol(text: str, message: str) -> None:
    with pytest.raises(OnnxRnnError, match=message):
        parse_symbol(text, "x-symbol.json")


def test_params_file_given_as_symbol(tmp_path: Path) -> None:
    path = tmp_path / "m-symbol.json"
    path.write_bytes((MODELS / "relu_rnn-0000.params").read_bytes())
    with pytest.raises(OnnxRnnError, match="is not an MXNet symbol file: invalid JSON"):
        load_symbol(path)
    with pytest.raises(OnnxRnnError, match="cannot read symbol file"):
        load_symbol(tmp_path / "missing-symbol.json")
