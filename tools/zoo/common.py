"""Helpers the zoo's family modules share: random parameters, MXNet forward passes, the files of one model.

A model folder ``out_dir/NAME/`` holds NAME-symbol.json and NAME-0000.params (written by the MXNet API the
model's project used: save_checkpoint, save_rnn_checkpoint, HybridBlock.export, keras-mxnet's saver), and
what ``write_entry`` adds: NAME-io.npz (the converted model's inputs under their MXNet names, MXNet's
outputs as output0, output1, ..., and ``source``) and NAME-convert.json (extra convert flags, family, what).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import mxnet as mx
import numpy as np

SOURCE = f"mxnet {mx.__version__} CPU forward pass (random weights)"


def model_dir(out_dir: Path, name: str) -> Path:
    """A fresh, empty ``out_dir/name``."""
    folder = out_dir / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def random_params(
    sym: mx.sym.Symbol, shapes: Mapping[str, tuple[int, ...]], rng: np.random.Generator, scale: float = 0.3
) -> tuple[dict[str, mx.nd.NDArray], dict[str, mx.nd.NDArray]]:
    """Uniform(-scale, scale) for every argument not in ``shapes`` (the data and label inputs); BatchNorm's
    moving variances in [0.5, 1.5] so that they stay positive."""
    arg_shapes, _, aux_shapes = sym.infer_shape(**shapes)
    args = {
        name: mx.nd.array(rng.uniform(-scale, scale, shape).astype(np.float32))
        for name, shape in zip(sym.list_arguments(), arg_shapes)
        if name not in shapes
    }
    aux = {}
    for name, shape in zip(sym.list_auxiliary_states(), aux_shapes):
        low, high = (0.5, 1.5) if name.endswith("_var") else (-scale, scale)
        aux[name] = mx.nd.array(rng.uniform(low, high, shape).astype(np.float32))
    return args, aux


def forward(
    sym: mx.sym.Symbol,
    args: Mapping[str, mx.nd.NDArray],
    aux: Mapping[str, mx.nd.NDArray],
    inputs: Mapping[str, np.ndarray],
) -> list[np.ndarray]:
    """MXNet's inference forward pass (is_train=False) of every head."""
    bound = {**args, **{k: mx.nd.array(v, dtype=v.dtype) for k, v in inputs.items()}}
    exe = sym.bind(mx.cpu(), args=bound, aux_states=dict(aux), grad_req="null")
    return [o.asnumpy() for o in exe.forward(is_train=False)]


def write_entry(
    folder: Path,
    name: str,
    inputs: Mapping[str, np.ndarray],
    outputs: Sequence[np.ndarray],
    family: str,
    what: str,
    args: Sequence[str] = (),
    source: str = SOURCE,
    needs_ops: Sequence[str] = (),
) -> None:
    """NAME-io.npz and NAME-convert.json beside the checkpoint the model's own saver wrote."""
    for suffix in ("-symbol.json", "-0000.params"):
        if not (folder / f"{name}{suffix}").is_file():
            raise FileNotFoundError(folder / f"{name}{suffix}")
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    arrays.update({f"output{i}": np.asarray(o) for i, o in enumerate(outputs)})
    np.savez_compressed(folder / f"{name}-io.npz", **arrays, source=np.array(source))
    meta: dict[str, object] = {"args": list(args), "family": family, "what": what}
    if needs_ops:  # ops this model needs that not every checkout of the branches translates yet
        meta["needs_ops"] = list(needs_ops)
    (folder / f"{name}-convert.json").write_text(json.dumps(meta, indent=1) + "\n")


def tokens(rng: np.random.Generator, shape: tuple[int, ...], vocab: int) -> np.ndarray:
    """Token ids as MXNet's iterators feed them: float32."""
    return rng.integers(0, vocab, shape).astype(np.float32)
