"""``onnx-rnn bench``: time converted models on ONNX Runtime against peers, as ratios in one run."""
from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--provider", choices=["cpu", "cuda"], default="cpu")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
