"""The CLI's names of ONNX Runtime execution providers, shared by every subcommand that runs a model.

A module of its own (and free of heavy imports) so that ``cli_commands`` and ``check`` both use it without importing
each other.
"""

from __future__ import annotations

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def provider_names(choices: list[str] | None) -> list[str] | None:
    """ONNX Runtime's provider names for the CLI's ``--provider`` choices; None (ORT's default) when none given."""
    return None if not choices else [PROVIDERS[c] for c in choices]
