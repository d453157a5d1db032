"""Bad checkpoints: each gives one clear error (API: OnnxRnnError; CLI: one line, exit 2) and no output file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_mxnet_ops import SymbolBuilder

from onnx_rnn.cli import main as cli_main
from onnx_rnn.errors import OnnxRnnError
from onnx_rnn.mxnet import convert_checkpoint, load_params, save_params

MODELS = Path(__file__).resolve().parent.parent / "models"


def model_files(name: str) -> tuple[Path, Path]:
    return MODELS / f"{name}-symbol.json", MODELS / f"{name}-0000.params"


def cli_fails(tmp_path: Path, capsys, symbol: Path, params: Path, *extra: str) -> str:
    """Run the CLI conversion, expect exit status 2, one stderr line, and nothing written."""
    out = tmp_path / "out" / "model.onnx"
    out.parent.mkdir(exist_ok=True)
    assert cli_main(["convert", str(symbol), str(params), "-o", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("onnx-rnn convert: error: ") and err.count("\n") == 1, err
    assert list(out.parent.iterdir()) == []  # no partial or temporary file
    return err


def corrupt(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_truncated_params(tmp_path: Path, capsys) -> None:
    symbol, params = model_files("char_lstm")
    cut = corrupt(tmp_path, "cut-0000.params", params.read_bytes()[:5000])
    err = cli_fails(tmp_path, capsys, symbol, cut)
    assert "truncated: array data" in err and "not a valid MXNet NDArray (.params) file" in err


def test_wrong_magic(tmp_path: Path, capsys) -> None:
    symbol, params = model_files("char_lstm")
    data = bytearray(params.read_bytes())
    data[0] = 0x13
    err = cli_fails(tmp_path, capsys, symbol, corrupt(tmp_path, "bad-0000.params", bytes(data)))
    assert "wrong magic number 0x113; expected 0x112" in err


def test_corrupt_array_header(tmp_path: Path, capsys) -> None:
    symbol, params = model_files("relu_rnn")
    data = bytearray(params.read_bytes())
    data[24 + 4] = 9  # the first array's storage type
    err = cli_fails(tmp_path, capsys, symbol, corrupt(tmp_path, "bad-0000.params", bytes(data)))
    assert "storage type is 9" in err and "array 0 of" in err


def test_params_of_another_model(tmp_path: Path, capsys) -> None:
    err = cli_fails(tmp_path, capsys, model_files("char_lstm")[0], model_files("relu_rnn")[1])
    assert "the .params file lacks" in err and "charlm_embedding0_weight" in err


def test_one_argument_missing(tmp_path: Path) -> None:
    symbol, params = model_files("module_lstm")
    arrays = load_params(params)
    del arrays["arg:fc_bias"]
    save_params(tmp_path / "m-0000.params", arrays)
    with pytest.raises(OnnxRnnError, match=r"lacks 1 argument\(s\) of the symbol: fc_bias"):
        convert_checkpoint(symbol, tmp_path / "m-0000.params")


def test_parameter_shape_differs_from_symbol(tmp_path: Path, capsys) -> None:
    symbol, params = model_files("char_lstm")
    arrays = load_params(params)
    arrays["arg:charlm_dense0_weight"] = arrays["arg:charlm_dense0_weight"].T.copy()
    save_params(tmp_path / "m-0000.params", arrays)
    err = cli_fails(tmp_path, capsys, symbol, tmp_path / "m-0000.params")
    assert "parameter 'charlm_dense0_weight' has shape (32, 40) in the .params file but (40, 32) in the symbol" in err


def test_rnn_parameter_vector_of_wrong_length(tmp_path: Path) -> None:
    symbol, params = model_files("module_lstm")
    arrays = load_params(params)
    arrays["arg:lstm_parameters"] = arrays["arg:lstm_parameters"][:-3]
    save_params(tmp_path / "m-0000.params", arrays)
    with pytest.raises(OnnxRnnError, match=r"RNN node 'lstm': parameter vector of length \d+ fits no input size"):
        convert_checkpoint(symbol, tmp_path / "m-0000.params")


def test_weight_shape_against_the_op(tmp_path: Path) -> None:
    symbol, params = model_files("module_lstm")
    arrays = load_params(params)
    arrays["arg:fc_weight"] = np.ones((10, 5), np.float32)  # the LSTM gives 16 features
    save_params(tmp_path / "m-0000.params", arrays)
    with pytest.raises(
        OnnxRnnError, match="FullyConnected node 'fc': data of shape .* has 16 features per row; the weight expects 5"
    ):
        convert_checkpoint(symbol, tmp_path / "m-0000.params")


def test_data_of_wrong_width(tmp_path: Path) -> None:
    symbol, params = model_files("lstmp_speech")
    with pytest.raises(OnnxRnnError, match="data has shape \\(2, 15, 30\\)|sized for input width 40"):
        convert_checkpoint(symbol, params, input_shapes={"data": (2, 15, 30)})


def test_state_of_wrong_size(tmp_path: Path) -> None:
    symbol, params = model_files("module_lstm")
    with pytest.raises(OnnxRnnError, match=r"RNN node 'lstm': state has shape \(2, \?, 8\); expected \(2, batch, 16\)"):
        convert_checkpoint(symbol, params, input_shapes={"state": (2, None, 8)})


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"weights": [1, 2]}', "is not an MXNet symbol file"),
        ("not json at all", "invalid JSON"),
        ("[]", "the top level is a list"),
    ],
)
def test_json_that_is_not_a_symbol(tmp_path: Path, capsys, text: str, message: str) -> None:
    symbol = tmp_path / "x-symbol.json"
    symbol.write_text(text)
    assert message in cli_fails(tmp_path, capsys, symbol, model_files("char_lstm")[1])


def test_unsupported_op_is_named_with_the_supported_list(tmp_path: Path, capsys) -> None:
    b = SymbolBuilder()
    out = b.op(
        "Correlation",  # Convolution and Deconvolution convert since issue 9; FlowNet's correlation does not
        b.var("data"),
        b.var("conv_weight", np.ones((2, 1, 3), np.float32)),
        name="conv0",
        kernel=(3,),
        num_filter=2,
        no_bias=True,
    )
    symbol, params = b.write(tmp_path, [out])
    err = cli_fails(tmp_path, capsys, symbol, params)
    assert "Correlation node 'conv0' uses op 'Correlation', which onnx-rnn does not translate" in err
    assert "supported ops: " in err and "RNN" in err and "SequenceMask" in err


def test_unknown_attribute_value(tmp_path: Path) -> None:
    b = SymbolBuilder()
    out = b.op("Activation", b.var("data"), name="act", act_type="swish")
    symbol, params = b.write(tmp_path, [out])
    with pytest.raises(OnnxRnnError, match="Activation node 'act': attribute act_type='swish'; expected one of"):
        convert_checkpoint(symbol, params, input_shapes={"data": (2,)})


def test_head_pointing_past_a_nodes_outputs(tmp_path: Path) -> None:
    b = SymbolBuilder()
    out = b.op("relu", b.var("data"))
    symbol, params = b.write(tmp_path, [out.out(3)])
    with pytest.raises(OnnxRnnError, match="head 0 refers to output 3 of relu node 'relu1', which has 1 output"):
        convert_checkpoint(symbol, params, input_shapes={"data": (2,)})


def test_empty_parameter_array(tmp_path: Path) -> None:
    symbol, params = model_files("module_lstm")
    arrays = load_params(params)
    arrays["arg:fc_bias"] = None
    save_params(tmp_path / "m-0000.params", arrays)
    with pytest.raises(OnnxRnnError, match="parameter 'fc_bias' is stored as an empty"):
        convert_checkpoint(symbol, tmp_path / "m-0000.params")


@pytest.mark.parametrize(
    "flag, message",
    [
        ("nobody=1,2", "input shape given for ['nobody']"),
        ("data=1,2,3", "input 'data' is given 3 dimensions, but the graph uses it with 2"),
        ("data=0,2", "'0' is not a positive size"),
        ("data", "--input-shape takes NAME=D0,D1,..."),
    ],
)
def test_bad_input_shape_flag(tmp_path: Path, capsys, flag: str, message: str) -> None:
    symbol, params = model_files("char_lstm")
    assert message in cli_fails(tmp_path, capsys, symbol, params, "--input-shape", flag)


def test_cli_file_problems(tmp_path: Path, capsys) -> None:
    symbol, params = model_files("char_lstm")
    assert "cannot read parameter file" in cli_fails(tmp_path, capsys, symbol, tmp_path / "gone-0000.params")
    assert "expected PREFIX-symbol.json and PREFIX-NNNN.params" in cli_fails(tmp_path, capsys, symbol, symbol)
    out = tmp_path / "no" / "such" / "folder" / "m.onnx"
    assert cli_main(["convert", str(symbol), str(params), "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "no").exists()


def test_rank_that_cannot_be_inferred_asks_for_input_shape(tmp_path: Path) -> None:
    b = SymbolBuilder()
    out = b.op("SwapAxis", b.op("relu", b.var("data")), dim1=0, dim2=1)
    symbol, params = b.write(tmp_path, [out])
    with pytest.raises(OnnxRnnError, match="SwapAxis node .*needs the number of dimensions.*--input-shape"):
        convert_checkpoint(symbol, params)
    model = convert_checkpoint(symbol, params, input_shapes={"data": (None, None, 3)})
    assert len(model.graph.input[0].type.tensor_type.shape.dim) == 3


def test_symbol_with_zeros_whose_size_nothing_determines(tmp_path: Path) -> None:
    b = SymbolBuilder()
    symbol, params = b.write(tmp_path, [b.op("relu", b.op("_zeros", shape=(0, 3)))])
    with pytest.raises(OnnxRnnError, match="dimension MXNet leaves at 0"):
        convert_checkpoint(symbol, params)


def test_dropout_always_is_refused(tmp_path: Path) -> None:
    b = SymbolBuilder()
    symbol, params = b.write(tmp_path, [b.op("Dropout", b.var("data"), p=0.5, mode="always")])
    with pytest.raises(OnnxRnnError, match="mode='always' drops values at random"):
        convert_checkpoint(symbol, params, input_shapes={"data": (2,)})


def test_json_with_wrong_node_reference(tmp_path: Path) -> None:
    symbol, params = model_files("relu_rnn")
    doc = json.loads(symbol.read_text())
    doc["nodes"][-1]["inputs"][0] = [len(doc["nodes"]) + 5, 0, 0]
    (tmp_path / "x-symbol.json").write_text(json.dumps(doc))
    with pytest.raises(OnnxRnnError, match="refers to node .*nodes must come after their inputs"):
        convert_checkpoint(tmp_path / "x-symbol.json", params)


def test_wrong_number_of_inputs(tmp_path: Path) -> None:
    b = SymbolBuilder()
    out = b.op("elemwise_add", b.var("data"), name="add0")
    symbol, params = b.write(tmp_path, [out])
    with pytest.raises(OnnxRnnError, match="elemwise_add node 'add0': has 1 inputs; expected 2"):
        convert_checkpoint(symbol, params, input_shapes={"data": (2,)})
