"""MXNet checkpoints (``-symbol.json`` + ``.params``) without MXNet: reading, writing and conversion to ONNX."""

from .convert import Checkpoint, convert_checkpoint, load_checkpoint
from .ndarray_file import dump_ndarray_list, load_ndarray_list, load_params, parse_ndarray_list, save_params
from .ops import supported_ops
from .symbol import load_symbol, parse_symbol

__all__ = [
    "Checkpoint",
    "convert_checkpoint",
    "dump_ndarray_list",
    "load_checkpoint",
    "load_ndarray_list",
    "load_params",
    "load_symbol",
    "parse_ndarray_list",
    "parse_symbol",
    "save_params",
    "supported_ops",
]
