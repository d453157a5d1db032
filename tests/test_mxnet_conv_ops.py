"""Convolution, Pooling and pick, one tiny checkpoint each, against MXNet 1.9.1's own outputs.

The fixtures in tests/fixtures/mxnet_ops/ were written by tools/make_op_fixtures.py with MXNet 1.9.1 (its
CPU forward pass is the oracle: ``source`` in each npz). Each case is converted and run on ONNX Runtime.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from onnx_rnn.check import check_model
from onnx_rnn.mxnet import convert_checkpoint

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "mxnet_ops"
CASES = sorted(p.name.removesuffix("-symbol.json") for p in FIXTURES.glob("*-symbol.json"))


def test_every_op_family_has_cases() -> None:
    assert {c.split("_")[0] for c in CASES} >= {"conv1d", "conv2d", "pool1d", "pool2d", "pick"}


@pytest.mark.parametrize("case", CASES)
def test_op_matches_mxnet(case: str) -> None:
    model = convert_checkpoint(FIXTURES / f"{case}-symbol.json", FIXTURES / f"{case}-0000.params")
    results = check_model(model, FIXTURES / f"{case}-io.npz", rtol=1e-5, atol=1e-5)
    assert len(results) == 1
    assert results[0].within, results[0]
