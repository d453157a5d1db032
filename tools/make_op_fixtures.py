#!/usr/bin/env python
"""MXNet 1.9.1's own outputs for single-op symbols: Convolution, Deconvolution, Pooling, pick.

Run with the MXNet venv (tools/mxnet_env.sh): ``.venv-mxnet/bin/python tools/make_op_fixtures.py``. Each case
CASE is a tiny checkpoint (CASE-symbol.json, CASE-0000.params) and CASE-io.npz with its inputs and MXNet's
output as ``output0``; tests/test_mxnet_conv_ops.py converts each and compares.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import mxnet as mx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "mxnet_ops"
sys.path.insert(0, str(Path(__file__).parent))

from zoo.common import forward, random_params  # noqa: E402  (tools/ is put on sys.path first)

Case = tuple[Callable[[mx.sym.Symbol], mx.sym.Symbol], tuple[int, ...]]

CONV: dict[str, Case] = {
    "conv1d": (lambda d: mx.sym.Convolution(d, num_filter=4, kernel=(3,), stride=(2,), pad=(1,), name="c"), (2, 3, 11)),
    "conv1d_dilate_nobias": (
        lambda d: mx.sym.Convolution(d, num_filter=2, kernel=(3,), dilate=(2,), no_bias=True, name="c"),
        (2, 3, 12),
    ),
    "conv2d": (
        lambda d: mx.sym.Convolution(d, num_filter=4, kernel=(3, 2), stride=(2, 1), pad=(1, 0), name="c"),
        (2, 3, 7, 9),
    ),
    "conv2d_group_dilate": (
        lambda d: mx.sym.Convolution(d, num_filter=6, kernel=(3, 3), num_group=3, dilate=(2, 1), name="c"),
        (1, 3, 9, 8),
    ),
    "deconv1d": (
        lambda d: mx.sym.Deconvolution(d, num_filter=3, kernel=(3,), stride=(2,), pad=(1,), adj=(1,), name="c"),
        (2, 2, 6),
    ),
    "deconv2d_bias_group": (
        lambda d: mx.sym.Deconvolution(
            d, num_filter=4, kernel=(2, 3), stride=(2, 1), dilate=(1, 2), num_group=2, no_bias=False, name="c"
        ),
        (1, 4, 3, 5),
    ),
    "pool1d_max": (lambda d: mx.sym.Pooling(d, kernel=(3,), stride=(2,), pool_type="max"), (2, 3, 12)),
    "pool1d_avg_full_pad": (
        lambda d: mx.sym.Pooling(d, kernel=(3,), stride=(2,), pad=(1,), pool_type="avg", pooling_convention="full"),
        (2, 3, 10),
    ),
    "pool2d_max_full": (
        lambda d: mx.sym.Pooling(d, kernel=(3, 3), stride=(2, 2), pool_type="max", pooling_convention="full"),
        (2, 3, 8, 9),
    ),
    "pool2d_avg_exclude_pad": (
        lambda d: mx.sym.Pooling(d, kernel=(3, 2), stride=(1, 2), pad=(1, 1), pool_type="avg", count_include_pad=False),
        (2, 2, 6, 7),
    ),
    "pool2d_sum": (lambda d: mx.sym.Pooling(d, kernel=(2, 2), stride=(2, 2), pool_type="sum"), (2, 2, 6, 8)),
    "pool2d_global_avg": (lambda d: mx.sym.Pooling(d, kernel=(1, 1), global_pool=True, pool_type="avg"), (2, 3, 5, 4)),
    "pool1d_global_max": (lambda d: mx.sym.Pooling(d, kernel=(1,), global_pool=True, pool_type="max"), (2, 3, 7)),
    "pool2d_global_sum": (lambda d: mx.sym.Pooling(d, kernel=(1, 1), global_pool=True, pool_type="sum"), (2, 3, 5, 4)),
}

#: pick cases: (kwargs, data shape, index values maker)
PICK: dict[str, tuple[dict, tuple[int, ...], Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]]] = {
    "pick_axis1": ({"axis": 1}, (3, 4, 5), lambda r, s: r.integers(0, 4, (3, 5)).astype(np.float32)),
    "pick_last_keepdims": (
        {"axis": -1, "keepdims": True},
        (2, 3, 6),
        lambda r, s: r.integers(0, 6, (2, 3, 1)).astype(np.float32),
    ),
    "pick_clip_out_of_range": (
        {"axis": 0},
        (4, 3),
        lambda r, s: np.array([-3.0, 2.7, 9.0], np.float32),
    ),
    "pick_wrap": ({"axis": 1, "mode": "wrap"}, (3, 4), lambda r, s: np.array([-1.0, 5.0, 10.0], np.float32)),
}


def save_case(name: str, sym: mx.sym.Symbol, args: dict, aux: dict, inputs: dict) -> None:
    outputs = forward(sym, args, aux, inputs)
    mx.model.save_checkpoint(str(OUT / name), 0, sym, args, aux)
    np.savez_compressed(
        OUT / f"{name}-io.npz", **inputs, output0=outputs[0], source=np.array(f"mxnet {mx.__version__} CPU")
    )


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, (make, shape) in CONV.items():
        sym = make(mx.sym.Variable("data"))
        args, aux = random_params(sym, {"data": shape}, rng, scale=1.0)
        save_case(name, sym, args, aux, {"data": rng.normal(0, 1, shape).astype(np.float32)})
    for name, (kwargs, shape, index) in PICK.items():
        inputs = {"data": rng.normal(0, 1, shape).astype(np.float32), "index": index(rng, shape)}
        data, idx = (mx.sym.Variable(n, shape=inputs[n].shape) for n in ("data", "index"))  # writes __shape__
        sym = mx.sym.pick(data, idx, **kwargs)
        save_case(name, sym, {}, {}, inputs)
    # a data input declared with a storage type (sym.var(stype=...)) carries __storage_type__ like a parameter
    sym = mx.sym.FullyConnected(mx.sym.var("data", stype="default"), num_hidden=3, name="fc")
    args, aux = random_params(sym, {"data": (2, 5)}, rng)
    save_case("storage_type_input", sym, args, aux, {"data": rng.normal(0, 1, (2, 5)).astype(np.float32)})
    print(f"wrote {len(CONV) + len(PICK) + 1} cases to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
