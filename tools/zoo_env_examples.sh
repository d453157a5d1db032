#!/usr/bin/env bash
# Create (or reuse) the extra venvs the MXNet-examples zoo families need (tools/zoo/gluonts_models.py,
# tools/zoo/keras_models.py); tools/zoo/mxnet_examples.py needs only tools/mxnet_env.sh's .venv-mxnet.
#
#   tools/zoo_env_examples.sh gluonts   -> <repo>/.venv-zoo-gluonts  (gluonts 0.13.x on MXNet 1.9.1)
#   tools/zoo_env_examples.sh keras     -> <repo>/.venv-zoo-keras    (keras-mxnet 2.2.4.3 on MXNet 1.9.1)
#
# Then: .venv-zoo-gluonts/bin/python tools/make_zoo.py gluonts_models  (likewise keras_models).
# Pins: MXNet 1.9.1 needs numpy < 1.24 (np.bool); gluonts 0.13 wants pydantic 1 and pandas 1.
# Idempotent: does nothing when the venv already imports what it needs. PYTHON=... picks the interpreter.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="${1:-}"
case "$name" in
gluonts)
    packages=("numpy<1.24" "mxnet==1.9.1" "gluonts[mxnet]==0.13.9" "pandas<2" "pydantic<2")
    default_python=python3.11
    probe='import gluonts, mxnet; assert gluonts.__version__.startswith("0.13"), gluonts.__version__; import gluonts.mx'
    ;;
keras)
    packages=("numpy<1.24" "mxnet==1.9.1" "keras-mxnet==2.2.4.3")
    default_python=python3.9  # keras 2.2.4 imports collections.Iterable, gone since Python 3.10
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9; do
        [ -x "$candidate" ] && default_python="$candidate"
    done
    probe='import os; os.environ["KERAS_BACKEND"] = "mxnet"; import keras; assert keras.backend.backend() == "mxnet"'
    ;;
*)
    echo "usage: $0 gluonts|keras" >&2
    exit 2
    ;;
esac
venv="$repo/.venv-zoo-$name"
python="${PYTHON:-$default_python}"

check() {
    "$venv/bin/python" -W ignore -c "$probe" 2>/dev/null
}

if [ -x "$venv/bin/python" ] && check; then
    echo "zoo_env_examples: $venv is ready"
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "zoo_env_examples: creating $venv with $python"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "${packages[@]}"
if check; then
    echo "zoo_env_examples: $venv ready"
else
    echo "zoo_env_examples: $venv does not import $name" >&2
    "$venv/bin/python" -W ignore -c "$probe" || true
    exit 1
fi
