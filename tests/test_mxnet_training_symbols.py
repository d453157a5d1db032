"""Training symbols and checkpoint quirks of real MXNet projects (the zoo's models/zoo/ checkpoints, MXNet 1.9.1):
label pruning, ``--outputs``, ``--input-dtype``, per-gate weights of unfused cells, ``__storage_type__``.

Numbers are checked against MXNet's outputs stored beside each checkpoint (``NAME-io.npz``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from onnx_rnn.check import check_model, load_golden
from onnx_rnn.cli import main as cli_main
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.mxnet import convert_checkpoint
from onnx_rnn.mxnet.gate_weights import join_gate_weights
from onnx_rnn.mxnet.ndarray_file import load_params, split_arg_aux
from onnx_rnn.session import run_model

ROOT = Path(__file__).resolve().parent.parent
ZOO = ROOT / "models" / "zoo"
OPS = Path(__file__).resolve().parent / "fixtures" / "mxnet_ops"


def files(name: str) -> tuple[Path, Path, Path]:
    return ZOO / name / f"{name}-symbol.json", ZOO / name / f"{name}-0000.params", ZOO / name / f"{name}-io.npz"


def input_names(model: onnx.ModelProto) -> list[str]:
    return [i.name for i in model.graph.input]


# ---------------------------------------------------------------- labels


@pytest.mark.parametrize("name", ["lstm_bucketing", "speech_lstmp"])
def test_label_and_its_reshape_are_pruned(name: str) -> None:
    symbol, params, io = files(name)
    nodes = json.loads(symbol.read_text())["nodes"]
    label = next(i for i, n in enumerate(nodes) if n["name"] == "softmax_label")
    assert any(n["op"] == "Reshape" and n["inputs"][0][0] == label for n in nodes)  # the label is preprocessed
    model = convert_checkpoint(symbol, params)
    assert "softmax_label" not in input_names(model)
    assert not any("softmax_label" in x for node in model.graph.node for x in node.input)
    assert all(r.within for r in check_model(model, io, rtol=1e-4, atol=1e-4))


def test_loss_head_converts_with_its_label_input() -> None:
    symbol, params, io = files("word_lm_loss")
    model = convert_checkpoint(symbol, params, input_shapes={"label": (None, None)})
    assert "label" in input_names(model)
    results = check_model(model, io, rtol=1e-4, atol=1e-4)
    assert len(results) == 5 and all(r.within for r in results)


# ---------------------------------------------------------------- --outputs


def test_unsupported_loss_op_error_suggests_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    symbol, params, _ = files("lstm_ocr")
    assert cli_main(["convert", str(symbol), str(params), "-o", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "CTCLoss node" in err and "--outputs" in err and "supported ops:" in err
    assert not (tmp_path / "m.onnx").exists()


def test_outputs_selects_the_inference_head_and_notes_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    symbol, params, io = files("lstm_ocr")
    head = json.loads((ZOO / "lstm_ocr" / "lstm_ocr-convert.json").read_text())["args"][1]
    out = tmp_path / "m.onnx"
    assert cli_main(["convert", str(symbol), str(params), "-o", str(out), "--outputs", head]) == 0
    printed = capsys.readouterr().out
    assert "note: left out the heads" in printed and "makeloss" in printed.split("note:")[1]
    model = onnx.load(str(out))
    assert [o.name for o in model.graph.output] == [head]
    assert "label" not in input_names(model)
    assert all(r.within for r in check_model(model, io, rtol=1e-4, atol=1e-4))


def test_outputs_can_name_an_internal_node() -> None:
    """``pred_fc`` (logits) is no head of the training symbol; its softmax is MXNet's first head."""
    symbol, params, io = files("lstm_ocr")
    model = convert_checkpoint(symbol, params, outputs=["pred_fc"])
    golden = load_golden(io)
    (logits,) = run_model(model, {n: golden[n] for n in input_names(model)}).values()
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, golden["output0"], rtol=1e-4, atol=1e-5)


def test_outputs_unknown_name_is_an_error_listing_heads() -> None:
    symbol, params, _ = files("word_lm")
    with pytest.raises(OnnxRnnError, match=r"no node or node output of that name.*reshape13_output"):
        convert_checkpoint(symbol, params, outputs=["nope_output"])


def test_outputs_reorders_heads() -> None:
    symbol, params, io = files("word_lm")
    full = convert_checkpoint(symbol, params)
    names = [o.name for o in full.graph.output]
    model = convert_checkpoint(symbol, params, outputs=[names[2], names[0]])
    assert [o.name for o in model.graph.output] == [names[2], names[0]]
    golden = load_golden(io)
    got = list(run_model(model, {n: golden[n] for n in input_names(model)}).values())
    np.testing.assert_allclose(got[0], golden["output2"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[1], golden["output0"], rtol=1e-4, atol=1e-4)


def test_outputs_flag_is_refused_for_the_flags_form(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    np.save(tmp_path / "p.npy", np.zeros(10, np.float32))
    argv = ["convert", "--params", str(tmp_path / "p.npy"), "--mode", "gru", "--state-size", "2"]
    assert cli_main([*argv, "-o", str(tmp_path / "m.onnx"), "--outputs", "x"]) == 2
    assert "apply to checkpoints" in capsys.readouterr().err


# ---------------------------------------------------------------- --input-dtype


def test_input_dtype_makes_sequence_length_int32(tmp_path: Path) -> None:
    models = ROOT / "models"
    out = tmp_path / "m.onnx"
    argv = ["convert", str(models / "bilstm_seqlen-symbol.json"), str(models / "bilstm_seqlen-0000.params")]
    assert cli_main([*argv, "-o", str(out), "--input-dtype", "data1=int32"]) == 0
    model = onnx.load(str(out))
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert types["data1"] == onnx.TensorProto.INT32 and types["data0"] == onnx.TensorProto.FLOAT
    golden = load_golden(models / "bilstm_seqlen-io.npz")
    feeds = {"data0": golden["data0"], "data1": golden["data1"].astype(np.int32)}
    got = list(run_model(model, feeds).values())
    for i, value in enumerate(got):
        np.testing.assert_allclose(value, golden[f"output{i}"], rtol=1e-4, atol=1e-4)


def test_input_of_unknown_rank_is_the_documented_error() -> None:
    """word_lm_loss's label only meets Reshape(shape=(-1,)): nothing says how many dimensions it has."""
    symbol, params, _ = files("word_lm_loss")
    with pytest.raises(OnnxRnnError, match=r"input 'label'.*--input-shape label="):
        convert_checkpoint(symbol, params)


def test_input_dtype_for_an_unknown_input_is_an_error() -> None:
    symbol, params, _ = files("word_lm")
    with pytest.raises(OnnxRnnError, match=r"input dtype given for \['nope'\]"):
        convert_checkpoint(symbol, params, input_dtypes={"nope": "int32"})


def test_input_dtype_bad_syntax(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    symbol, params, _ = files("word_lm")
    assert cli_main(["convert", str(symbol), str(params), "-o", str(tmp_path / "m.onnx"), "--input-dtype", "x"]) == 2
    assert "NAME=DTYPE" in capsys.readouterr().err


# ---------------------------------------------------------------- weights per gate, storage types


@pytest.mark.parametrize(
    "name, stored, joined",
    [
        ("lstm_bucketing", "lstm_l0_i2h_i_weight", "lstm_l0_i2h_weight"),
        ("gru_bucketing", "gru_l1_h2h_z_bias", "gru_l1_h2h_bias"),
        ("cudnn_bucketing_unfused", "gru_r1_i2h_o_weight", "gru_r1_i2h_weight"),
    ],
)
def test_save_rnn_checkpoint_stores_unfused_weights_per_gate(name: str, stored: str, joined: str) -> None:
    symbol, params, io = files(name)
    args, _ = split_arg_aux(load_params(params))
    assert stored in args and joined not in args
    assert joined in {n["name"] for n in json.loads(symbol.read_text())["nodes"]}
    assert all(r.within for r in check_model(convert_checkpoint(symbol, params), io, rtol=1e-4, atol=1e-4))


def test_join_gate_weights_stacks_gates_in_mx_rnn_order() -> None:
    """LSTMCell's gates are (_i, _f, _c, _o) along axis 0, GRUCell's (_r, _z, _o) (mx.rnn.rnn_cell)."""
    lstm = {f"c_i2h{g}_weight": np.full((2, 3), k, np.float32) for k, g in enumerate(["_i", "_f", "_c", "_o"])}
    gru = {f"g_h2h{g}_bias": np.full((2,), k, np.float32) for k, g in enumerate(["_r", "_z", "_o"])}
    params: dict = {**lstm, **gru}
    assert join_gate_weights(["c_i2h_weight", "g_h2h_bias", "other_weight"], params) == ["c_i2h_weight", "g_h2h_bias"]
    np.testing.assert_array_equal(params["c_i2h_weight"][:, 0], [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(params["g_h2h_bias"], [0, 0, 1, 1, 2, 2])


def test_storage_type_hint_marks_no_parameter() -> None:
    """``sym.var("data", stype=...)`` writes ``__storage_type__``, as Gluon's parameters do: still a data input."""
    symbol = OPS / "storage_type_input-symbol.json"
    assert "__storage_type__" in json.loads(symbol.read_text())["nodes"][0]["attrs"]
    model = convert_checkpoint(symbol, OPS / "storage_type_input-0000.params")
    assert input_names(model) == ["data"]
    assert all(r.within for r in check_model(model, OPS / "storage_type_input-io.npz", rtol=1e-5, atol=1e-5))
