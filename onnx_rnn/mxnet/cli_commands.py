"""CLI handlers for checkpoints: ``onnx-rnn convert PREFIX-symbol.json PREFIX-0000.params -o model.onnx``.

cli.py's ``convert`` parses the arguments and dispatches here when given the checkpoint's two files.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from ..errors import OnnxRnnError

_SYMBOLIC = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_input_shapes(items: Sequence[str]) -> dict[str, tuple[int | str | None, ...]]:
    """``["data=1,20", "state=2,?,32"]`` -> {"data": (1, 20), "state": (2, None, 32)}.

    An entry is a size, or ``?``/``-1``/a name for a dimension left symbolic.
    """
    shapes: dict[str, tuple[int | str | None, ...]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip().strip("()[]")
        if not sep or not name or not text:
            raise OnnxRnnError(f"--input-shape takes NAME=D0,D1,... (e.g. data=1,20), got {item!r}")
        dims: list[int | str | None] = []
        for part in (p.strip() for p in text.split(",") if p.strip()):
            if part in ("?", "-1"):
                dims.append(None)
            elif part.isdigit() and int(part) > 0:
                dims.append(int(part))
            elif _SYMBOLIC.match(part):
                dims.append(part)
            else:
                raise OnnxRnnError(f"--input-shape {item!r}: {part!r} is not a positive size, '?' or a name")
        if name in shapes:
            raise OnnxRnnError(f"--input-shape gives {name!r} twice")
        shapes[name] = tuple(dims)
    return shapes


def parse_input_dtypes(items: Sequence[str]) -> dict[str, str]:
    """``["sequence_length=int32"]`` -> {"sequence_length": "int32"} (the converter checks the names)."""
    dtypes: dict[str, str] = {}
    for item in items:
        name, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not name or not text:
            raise OnnxRnnError(f"--input-dtype takes NAME=DTYPE (e.g. sequence_length=int32), got {item!r}")
        if name in dtypes:
            raise OnnxRnnError(f"--input-dtype gives {name!r} twice")
        dtypes[name] = text
    return dtypes


def parse_outputs(items: Sequence[str]) -> list[str] | None:
    """``["a,b", "c"]`` -> ["a", "b", "c"]; None when the flag is absent (keep the symbol's heads)."""
    if not items:
        return None
    names = [name.strip() for item in items for name in item.split(",")]
    if any(not name for name in names):
        raise OnnxRnnError(f"--outputs takes NAME[,NAME...], got {','.join(items)!r}")
    return names


def checkpoint_files(files: Sequence[str]) -> tuple[str, str]:
    """(symbol, params) from the two positional files, in either order."""
    if len(files) != 2:
        raise OnnxRnnError(
            f"a checkpoint is two files, PREFIX-symbol.json and PREFIX-NNNN.params; got {len(files)}: {list(files)}"
        )
    a, b = files
    if a.endswith(".params") and b.endswith(".json"):
        a, b = b, a
    if not a.endswith(".json") or not b.endswith(".params"):
        raise OnnxRnnError(f"expected PREFIX-symbol.json and PREFIX-NNNN.params, got {a!r} and {b!r}")
    return a, b


def run_convert_checkpoint(args: argparse.Namespace) -> int:
    from ..cli_commands import written_summary  # noqa: PLC0415
    from ..files import save_model  # noqa: PLC0415
    from .convert import convert_checkpoint  # noqa: PLC0415

    symbol_path, params_path = checkpoint_files(args.checkpoint)
    model = convert_checkpoint(
        symbol_path,
        params_path,
        input_shapes=parse_input_shapes(args.input_shape),
        input_dtypes=parse_input_dtypes(getattr(args, "input_dtype", [])),
        outputs=parse_outputs(getattr(args, "outputs", [])),
        opset=args.opset,
        portable=args.portable,
        plugin_only=args.plugin_only,
    )
    save_model(model, args.output)
    print(written_summary(args.output, model))
    left_out = model.doc_string.partition("heads left out (not in --outputs): ")[2]
    if left_out:
        print(f"note: left out the heads {left_out} (not named in --outputs)")
    return 0
