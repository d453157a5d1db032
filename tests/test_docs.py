"""Every shell command in README.md, docs/*.md and models/README.md, run literally, so the docs cannot drift.

Each line of a ```sh or ```bash block is one command (a trailing backslash continues it; text after `  #` is a
comment). The commands run in order, block by block, in one temporary folder per file that sees the checkout's
models/ and tools/, with the venv's bin/ first on PATH (`onnx-rnn` is the installed command). A command that
cannot run here is listed in SKIP with the reason; nothing else is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "models" / "README.md"]
GPU = "needs an NVIDIA GPU, onnxruntime-gpu or nvcc with cuBLAS"
SKIP = {  # command prefix -> why it cannot run inside the test suite
    "make demo": "make runs the suite's own setup; `make demo` is CI's job (the README's first command)",
    "make test": "runs this test suite itself",
    'pip install "onnxruntime-gpu': GPU + " (tests/test_packaging.py checks the command's requirement list)",
    "pip install nvidia-cublas": GPU,
    "pip install --no-build-isolation .": GPU,
    "onnx-rnn run model.onnx --input data=x.npy --provider cuda": GPU,
    "onnx-rnn bench --provider cuda": GPU,
    "pip install .": "builds the package (minutes); make test-wheel and CI's setup build it the same way",
    "pip install git+": "builds the package (minutes) from a URL; tests/test_docs.py cannot reach one",
    "make wheel": "builds the release wheel (minutes); CI runs make test-wheel",
}
BLOCK = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def commands(path: Path) -> list[str]:
    found = []
    for block in BLOCK.findall(path.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            command = re.split(r"\s+#", line, maxsplit=1)[0].strip()
            if command:
                found.append(command)
    return found


def _skip_reason(command: str) -> str:
    return next((why for prefix, why in SKIP.items() if command.startswith(prefix) and why), "")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_doc_commands_run(doc: Path, tmp_path: Path):
    for name in ("models", "tools"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for command in commands(doc):
        if _skip_reason(command):
            continue
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, f"{doc.name}: `{command}` exited {done.returncode}: {done.stderr[-500:]}"
    if not commands(doc):
        pytest.skip(f"{doc.name} has no shell commands")


def test_skip_list_names_only_commands_that_exist():
    every = {c for doc in DOCS for c in commands(doc)}
    for prefix in SKIP:
        assert any(c.startswith(prefix) for c in every), f"SKIP entry {prefix!r} matches no documented command"
