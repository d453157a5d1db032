"""The ``onnx-rnn`` command: convert, run, check, info, bench.

Every failure the user can cause prints one line on stderr and exits non-zero; no traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__
from .errors import OnnxRnnError

EXIT_ERROR = 2
AddArguments = Callable[[argparse.ArgumentParser], None]  # a subcommand's arguments
Handler = Callable[[argparse.Namespace], int]  # a subcommand: its exit status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(format="onnx-rnn: %(message)s", level=logging.INFO if args.verbose else logging.WARNING)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_ERROR
    log = logging.getLogger("onnx_rnn")
    options = {k: v for k, v in vars(args).items() if k not in ("handler", "command", "verbose") and v}
    log.info("onnx-rnn %s %s: %s", __version__, args.command, options)
    started = time.perf_counter()
    try:
        status = args.handler(args) or 0
        log.info("%s finished in %.2f s with status %d", args.command, time.perf_counter() - started, status)
        return status
    except OnnxRnnError as error:
        print(f"onnx-rnn {args.command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit status 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="onnx-rnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"onnx-rnn {__version__}")
    # -v works before or after the command; the subcommand's default must not reset the global one.
    parser.add_argument("-v", "--verbose", action="store_true", help="say what is done, step by step (on stderr)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, help_text, add_arguments, handler in _commands():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="say what is done (on stderr)"
        )
        add_arguments(sub)
        sub.set_defaults(handler=handler)
    return parser


def _commands() -> list[tuple[str, str, AddArguments, Handler]]:
    from . import cli_commands as c  # noqa: PLC0415

    return [
        (
            "convert",
            "convert an MXNet RNN (arguments + flat parameters, or a checkpoint) to ONNX",
            c.add_convert_arguments,
            c.run_convert,
        ),
        ("run", "run an ONNX model on ONNX Runtime with .npy inputs", c.add_run_arguments, c.run_run),
        (
            "check",
            "run a model on inputs from a golden .npz and compare with its expected outputs",
            c.add_check_arguments,
            c.run_check,
        ),
        ("info", "versions, providers and the plugin library", c.add_info_arguments, c.run_info),
        (
            "bench",
            "time any ONNX model (percentiles), or onnx-rnn against PyTorch, ONNX Runtime's LSTM and MXNet",
            c.add_bench_arguments,
            c.run_bench,
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
