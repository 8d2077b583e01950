"""The ``imu-monitor`` command. Each subcommand lives in ``imu_monitor/cli/<name>.py`` with a
``register(subparsers)`` function that adds its parser and sets ``func`` (taking the parsed args,
returning an exit code).

The conventions every command follows (README, "Command-line conventions"):

- exit codes: 0 done, 1 runtime error (bad file, no adapter, cannot write), 2 usage error
  (argparse's own, and ``UsageError``), 130 after Ctrl-C and 143 after SIGTERM once the session
  is closed cleanly (recording ended, summary printed), 141 when the reader of stdout went away
  (``... | head -1``), quietly;
- errors are one line on stderr, ``imu-monitor COMMAND: error: ...``; never a traceback (an
  unexpected exception is one line too, its traceback only with ``-v``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from imu_monitor import __version__
from imu_monitor.app.platform import has_display
from imu_monitor.cli.common import Interrupted
from imu_monitor.errors import ImuMonitorError, UsageError

COMMANDS: tuple[str, ...] = (
    "demo",
    "live",
    "scan",
    "replay",
    "analyze",
    "report",
    "history",
    "export",
    "mark",
    "calibrate",
    "device_cal",
    "import_",
    "simulate",
    "decode",
    "check_device",
)
"""Subcommand modules under imu_monitor.cli, in the order --help lists them."""

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imu-monitor",
        description="Lumbar stability monitor: IMU wearables, calibrated lumbar "
        "flexion/extension, alarms, reps and tempo.",
        epilog="Exit codes: 0 ok, 1 error, 2 usage error, 130 after Ctrl-C (143 after SIGTERM).",
    )
    parser.add_argument("--version", action="version", version=f"imu-monitor {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"imu_monitor.cli.{name}").register(sub)
    return parser


HEADLESS_DEMO_S = 45.0
"""How long ``imu-monitor`` with no arguments runs the simulated session on a machine with no
display."""


def default_command() -> list[str]:
    """What ``imu-monitor`` alone does: the dashboard on the simulated wearable, or, with no
    display to show it on, the same session headless for a while."""
    if has_display():
        return ["demo"]
    print(
        f"imu-monitor: no display found: running the simulated back-kick session headless for "
        f"{HEADLESS_DEMO_S:g} s (alarms and reps are printed as they happen). For the dashboard "
        "run it on a desktop, or save a picture of it with: imu-monitor demo --exit-after 20 "
        "--screenshot demo.png",
        file=sys.stderr,
    )
    return ["live", "--device", "sim", "--headless", "--duration", f"{HEADLESS_DEMO_S:g}"]


class _OneLineFormatter(logging.Formatter):
    """Log records in one line: an exception's traceback is shown only with ``-v``."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not self.verbose:
            exc = record.exc_info[1]
            record = logging.makeLogRecord(record.__dict__)
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {exc}"
            record.args = None
            record.exc_info = record.exc_text = None
        return super().format(record)


def _setup_logging(verbose: bool) -> None:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    for h in root.handlers:
        if getattr(h, "imu_monitor", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter(verbose))
    handler.imu_monitor = True  # type: ignore[attr-defined]
    root.addHandler(handler)


def _thread_error(args: threading.ExceptHookArgs) -> None:
    """An exception that ends a worker thread: one log line (its traceback only with -v)."""
    if args.exc_type is SystemExit:
        return
    logging.getLogger("imu_monitor").error(
        "thread %s stopped",
        getattr(args.thread, "name", "?"),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


@contextmanager
def _signals_close_cleanly() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` (a KeyboardInterrupt) in the main thread, so a
    command closes its session as after Ctrl-C; the previous handlers are restored after."""
    if sys.platform == "win32" or not _in_main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _quiet_stdout() -> None:
    """The reader of stdout went away: send the rest (and the interpreter's final flush) to
    /dev/null so nothing complains."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests)
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        argv = sys.argv[1:]
    if not argv:
        argv = default_command()
    args = parser.parse_args(argv)  # --help, --version: SystemExit(0); usage errors: (2)
    _setup_logging(args.verbose)
    threading.excepthook = _thread_error
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_OK
    prefix = f"imu-monitor {args.command}: error:"
    try:
        with _signals_close_cleanly():
            return int(args.func(args) or 0)
    except UsageError as e:
        print(f"{prefix} {e}", file=sys.stderr)
        return EXIT_USAGE
    except ImuMonitorError as e:
        print(f"{prefix} {e}", file=sys.stderr)
        return EXIT_ERROR
    except Interrupted as e:
        return e.exit_code
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as e:  # a file the command was pointed at (or told to write) is unusable
        where = f"{e.filename}: " if e.filename else ""
        print(f"{prefix} {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as e:  # a bug: one line, the traceback only when asked for
        logging.getLogger("imu_monitor").debug("unexpected error", exc_info=True)
        print(
            f"{prefix} unexpected {type(e).__name__}: {e} (a bug: please report it with the "
            "output of the same command with -v)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
