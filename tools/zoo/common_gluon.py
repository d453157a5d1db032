"""Shared helpers of the Gluon zoo families (gluonnlp_models, numpy_mode, cells, control_flow).

``export_block`` runs a hybridized block once on fixed inputs, exports it with ``HybridBlock.export`` and
writes the zoo layout ``tests/test_zoo.py`` reads: ``NAME-symbol.json``, ``NAME-0000.params``,
``NAME-io.npz`` (inputs under their MXNet names, MXNet's outputs as ``output0``, ... and ``source``) and
``NAME-convert.json``. ``save_symbol`` does the same for a raw ``mx.sym`` graph (control flow built with
``mx.sym.contrib``), evaluated by MXNet's executor.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mxnet as mx
import numpy as np

SOURCE = f"mxnet {mx.__version__} (CPU): the outputs of the exported block itself, random weights"


def seed(value: int) -> np.random.Generator:
    mx.random.seed(value)
    np.random.seed(value)
    return np.random.default_rng(value)


def flatten(outputs: Any) -> list[Any]:
    """Gluon's nested outputs in the order ``export`` writes the heads."""
    if isinstance(outputs, (list, tuple)):
        return [leaf for item in outputs for leaf in flatten(item)]
    return [outputs]


def input_names(count: int) -> list[str]:
    """The names ``HybridBlock.export`` gives positional inputs."""
    return ["data"] if count == 1 else [f"data{k}" for k in range(count)]


def _folder(out_dir: Path, name: str) -> Path:
    folder = out_dir / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _write_meta(folder: Path, name: str, family: str, what: str, args: list[str]) -> None:
    meta = {"args": args, "family": family, "what": what}
    (folder / f"{name}-convert.json").write_text(json.dumps(meta, indent=1) + "\n")


def _to_numpy(array: Any) -> np.ndarray:
    return array.asnumpy() if hasattr(array, "asnumpy") else np.asarray(array)


def export_block(
    out_dir: Path,
    name: str,
    block: Any,
    inputs: list[np.ndarray],
    *,
    family: str,
    what: str,
    args: list[str] | None = None,
    np_mode: bool = False,
    call: Callable[[Any, list[Any]], Any] | None = None,
) -> str:
    """Hybridize, run once, export and write the zoo files of ``block`` (already initialized).

    ``call(block, arrays)`` runs the block when its inputs are nested (e.g. ELMo's list of state lists);
    ``inputs`` are then the leaves in the order Gluon flattens them (and names them ``data0``, ...)."""
    block.hybridize()
    array = mx.np.array if np_mode else mx.nd.array
    arrays = [array(x, dtype=x.dtype) for x in inputs]
    outputs = flatten(call(block, arrays) if call is not None else block(*arrays))
    folder = _folder(out_dir, name)  # only once MXNet ran the block: a failure leaves no half-written model
    block.export(str(folder / name))
    io: dict[str, Any] = dict(zip(input_names(len(inputs)), inputs))
    for k, out in enumerate(outputs):
        io[f"output{k}"] = _to_numpy(out)
    np.savez(folder / f"{name}-io.npz", source=np.array(SOURCE), **io)
    _write_meta(folder, name, family, what, args or [])
    return name


def save_symbol(
    out_dir: Path,
    name: str,
    symbol: Any,
    params: dict[str, np.ndarray],
    inputs: dict[str, np.ndarray],
    *,
    family: str,
    what: str,
    args: list[str] | None = None,
) -> str:
    """Write a raw symbol with its parameters (``save_checkpoint`` layout) and MXNet executor outputs."""
    folder = _folder(out_dir, name)
    feed = {k: mx.nd.array(v, dtype=v.dtype) for k, v in {**params, **inputs}.items()}
    executor = symbol.bind(mx.cpu(), feed)
    outputs = executor.forward(is_train=False)
    arg = {k: feed[k] for k in params}
    mx.model.save_checkpoint(str(folder / name), 0, symbol, arg, {})
    io: dict[str, Any] = dict(inputs)
    for k, out in enumerate(outputs):
        io[f"output{k}"] = out.asnumpy()
    source = f"mxnet {mx.__version__} (CPU): the symbol run by MXNet's executor, random weights"
    np.savez(folder / f"{name}-io.npz", source=np.array(source), **io)
    _write_meta(folder, name, family, what, args or [])
    return name
