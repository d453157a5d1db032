"""The one exception type that onnx_rnn raises for every user-facing error."""


class OnnxRnnError(ValueError):
    """Bad arguments, wrong parameter length, malformed files, shape mismatches, unsupported ops.

    The message names what is wrong and what was expected, so the CLI can print it as one line.
    """
