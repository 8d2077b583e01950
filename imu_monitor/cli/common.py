"""Options and helpers several subcommands share: argparse value types that say what they want
in the option's words, ``--force`` / ``--allow-partial``, the user's view of numbers (reps from 1,
extension negative) and JSON output.

Length: a toolbox of small independent helpers every command uses; each is short, and splitting
the box would only lengthen every command's imports."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any

import numpy as np
import rich.box
import rich.console
import rich.progress
import rich.table

from imu_monitor.devices.profiles import load_profile
from imu_monitor.errors import ImuMonitorError, RecordingError, UsageError
from imu_monitor.exercises import EXERCISES, Exercise, Limits, get_exercise
from imu_monitor.settings import LimitOverrides, Settings
from imu_monitor.storage.recording import load_recording


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived (``main`` turns both into this, so every command closes its
    session as after Ctrl-C); ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code_after(interrupt: KeyboardInterrupt | None) -> int:
    """A streaming command's exit code once it has closed cleanly: 0, or 130 / 143 when it was
    stopped by Ctrl-C / SIGTERM."""
    if interrupt is None:
        return 0
    return interrupt.exit_code if isinstance(interrupt, Interrupted) else 128 + signal.SIGINT


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}")
    return value


def finite_number(what: str = "a number"):
    """argparse type: a finite number (``what`` says what it is, e.g. "seconds")."""

    def parse(text: str) -> float:
        return _number(text, what)

    return parse


def positive_number(what: str = "a positive number"):
    """argparse type: a finite number > 0 (``what`` says what it is, e.g. "seconds")."""

    def parse(text: str) -> float:
        value = _number(text, what)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected {what} above 0, not {text!r}")
        return value

    return parse


def non_negative_number(what: str = "a number"):
    """argparse type: a finite number >= 0."""

    def parse(text: str) -> float:
        value = _number(text, what)
        if value < 0:
            raise argparse.ArgumentTypeError(f"expected {what}, 0 or more, not {text!r}")
        return value

    return parse


def count(minimum: int = 0):
    """argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {minimum} or more, not {text!r}")
        return value

    return parse


def limit_degrees(text: str) -> float:
    """argparse type: a limit in degrees from neutral, above 0 (a leading minus, as extension
    is written, is accepted: the limit is its size)."""
    value = abs(_number(text, "degrees from neutral"))
    if value == 0 or value >= 180:
        raise argparse.ArgumentTypeError(f"expected degrees between 0 and 180, not {text!r}")
    return value


def positive_factor(text: str) -> float:
    """argparse type: a positive time factor such as ``2``, ``4x`` or ``0.5``."""
    try:
        value = float(text.rstrip("xX"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a factor like 1, 2, 4x or 0.5, not {text!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value


def replay_speed(text: str) -> float | None:
    """argparse type: a positive factor, or ``max`` (as fast as possible: None)."""
    if text.lower() in ("max", "inf", "fastest"):
        return None
    return positive_factor(text)


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Re-analysis settings: exercise, limits, dwell, filter mode."""
    p.add_argument(
        "--exercise",
        choices=list(EXERCISES),
        help="analyse as this exercise instead of the recorded one",
    )
    p.add_argument(
        "--flexion-limit", type=limit_degrees, metavar="DEG", help="flexion limit in degrees"
    )
    p.add_argument(
        "--extension-limit",
        type=limit_degrees,
        metavar="DEG",
        help="extension limit in degrees (6 and -6 both mean 6 degrees of extension)",
    )
    p.add_argument(
        "--dwell",
        type=non_negative_number("seconds"),
        metavar="S",
        help="alarm dwell time in seconds",
    )
    p.add_argument(
        "--online",
        action="store_true",
        help="use the online (causal) orientation filter, as live mode does, instead of the "
        "offline forward-backward one",
    )
    add_set_options(p)


def tempo_target(text: str) -> tuple[float, float, float]:
    """argparse type: ``UP:HOLD:DOWN`` seconds, e.g. ``1:2:2``."""
    parts = text.replace("-", ":").split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected UP:HOLD:DOWN seconds like 1:2:2, not {text!r}")
    values = tuple(_number(x, "seconds") for x in parts)
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"every phase must be above 0 s, not {text!r}")
    return values  # type: ignore[return-value]


def fraction(text: str) -> float:
    """argparse type: a number above 0 and at most 1."""
    value = _number(text, "a fraction")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction above 0 and at most 1, not {text!r}")
    return value


def add_set_options(p: argparse.ArgumentParser) -> None:
    """Sets and good reps: the target tempo, its tolerance, the set pause, the drift warning."""
    p.add_argument(
        "--tempo",
        type=tempo_target,
        metavar="UP:HOLD:DOWN",
        help="target tempo in seconds (default: the exercise's, e.g. 1:2:2 for a hip thrust)",
    )
    p.add_argument(
        "--tempo-tolerance",
        type=positive_number("seconds"),
        metavar="S",
        help="a good rep's up and down phases are within this of the target (default 0.5); "
        "its hold is never shorter than the target",
    )
    p.add_argument(
        "--set-pause",
        type=positive_number("seconds"),
        metavar="S",
        help="a rest longer than this ends a set (default 20)",
    )
    p.add_argument(
        "--drift-warning",
        type=fraction,
        metavar="F",
        help="form drift is flagged at the first rep of a set past this fraction of the limit "
        "(default 0.8)",
    )


def set_overrides(args: argparse.Namespace, exercise: Exercise) -> Exercise:
    """``exercise`` with the command line's tempo and set rules (``add_set_options``)."""
    tempo = getattr(args, "tempo", None)
    if tempo is not None:
        exercise = exercise.with_tempo(*tempo)
    rules = {
        name: value
        for name, value in (
            ("pause_s", getattr(args, "set_pause", None)),
            ("tempo_tolerance_s", getattr(args, "tempo_tolerance", None)),
            ("drift_warning_fraction", getattr(args, "drift_warning", None)),
        )
        if value is not None
    }
    return exercise.with_set_rules(**rules) if rules else exercise


def set_overrides_onto(args: argparse.Namespace, settings: Settings, exercise: str) -> Settings:
    """``settings`` with the command line's tempo and set rules for ``exercise`` (the dashboard
    takes its exercise from the settings)."""
    o = settings.overrides(exercise)
    tempo = getattr(args, "tempo", None)
    if tempo is not None:
        o.up_s, o.hold_s, o.down_s = tempo
    for field_name, option in (
        ("set_pause_s", "set_pause"),
        ("tempo_tolerance_s", "tempo_tolerance"),
        ("drift_warning_fraction", "drift_warning"),
    ):
        if getattr(args, option, None) is not None:
            setattr(o, field_name, getattr(args, option))
    return settings


def limit_overrides(args: argparse.Namespace) -> LimitOverrides:
    """The limits given on the command line (``add_analysis_options``)."""
    return LimitOverrides(
        flexion_deg=getattr(args, "flexion_limit", None),
        extension_deg=getattr(args, "extension_limit", None),
        dwell_s=getattr(args, "dwell", None),
    )


def exercise_and_limits(args: argparse.Namespace, recorded: str) -> tuple[Exercise, Limits]:
    """The exercise to judge as (``--exercise``, else the recorded one) with the command
    line's limits."""
    ex = limit_overrides(args).apply(get_exercise(args.exercise or recorded))
    ex = set_overrides(args, ex)
    return ex, ex.limits


def add_read_options(p: argparse.ArgumentParser) -> None:
    """``--allow-partial``, on every command that reads a recording."""
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="use the readable part of a damaged recording (the damage is reported) instead of "
        "stopping at it",
    )


def add_force_option(p: argparse.ArgumentParser) -> None:
    """``--force``, on every command that writes a file."""
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")


def check_output(path: str | Path, *, force: bool, option: str) -> Path:
    """The file a command is about to write, checked first so that nothing is computed for
    nothing: refuses a directory, a missing folder, an existing file without ``--force`` (one
    line each, naming ``option``)."""
    p = Path(path)
    if p.is_dir():
        raise ImuMonitorError(f"{option} {p}: is a folder; give a file name inside it")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ImuMonitorError(f"{option} {p}: the folder {parent} does not exist; create it first")
    if p.exists() and not p.is_file():
        raise ImuMonitorError(f"{option} {p}: not a regular file; give a file name")
    if p.exists() and not force:
        raise ImuMonitorError(f"{option} {p}: the file exists; pass --force to overwrite it")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ImuMonitorError(f"{option} {p}: not allowed to write there; choose another place")
    return p


def load_for_command(path: str, args: argparse.Namespace, *, needs_sacrum: bool = False) -> Any:
    """``load_recording`` with the command's ``--allow-partial``; what was skipped is said on
    stderr. ``needs_sacrum``: a recording without sacrum samples (every one lost to damage) is
    refused naming the file (the analysis' own message could not name it)."""
    allow = getattr(args, "allow_partial", False)
    try:
        rec = load_recording(path, allow_partial=allow)
    except RecordingError as e:
        # the storage layer's advice is for Python callers; a shell user has an option for it
        text = str(e)
        cut = text.find("load it with")
        if cut < 0 or allow:
            raise
        raise ImuMonitorError(
            f"{text[:cut].rstrip('; ,')}; add --allow-partial to use the readable part"
        ) from None
    warning = rec.meta.get("load_warning")
    if warning:
        where = "" if str(path) in str(warning) else f"{path}: "
        print(f"note: {where}{warning}", file=sys.stderr)
    if needs_sacrum and rec.meta.get("procedure"):
        raise ImuMonitorError(
            f"{path}: a recording of the device calibration's procedure, not a session; "
            f"compute the calibration from it with: imu-monitor device-cal measure {path} -o DIR"
        )
    sacrum = rec.series.get("sacrum")
    if needs_sacrum and (sacrum is None or len(sacrum) == 0):
        part = "its readable part holds" if allow else "it holds"
        raise ImuMonitorError(f"{path}: {part} no sacrum samples, so there is nothing to analyse")
    return rec


EXTENSION_KEYS = ("peak_extension_deg", "max_extension_deg")
"""Sizes of extension inside the program; shown to users as negative angles."""


NUMBER_KEYS = ("index", "rep", "first_rep", "last_rep", "drift_first_rep", "set")
"""Keys holding a rep, alarm or set number: counted from 0 inside, from 1 for users."""


def for_user(obj: Any) -> Any:
    """A record as users see it in every output (text and JSON): reps and alarms numbered from 1
    (``NUMBER_KEYS``, ``faulty_reps``; sets too) and every angle signed, flexion + and extension -
    (``peak_extension_deg``, ``max_extension_deg``). Inside the program and in recordings reps
    count from 0 and extension peaks are sizes. Recurses into lists and dicts."""
    if isinstance(obj, list | tuple):
        return [for_user(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if k in NUMBER_KEYS and isinstance(v, int | np.integer) and not isinstance(v, bool):
            out[k] = int(v) + 1
        elif k == "faulty_reps" and isinstance(v, list):
            out[k] = [int(i) + 1 for i in v]
        elif k in EXTENSION_KEYS and isinstance(v, int | float | np.number):
            out[k] = -abs(float(v)) if v else 0.0
        else:
            out[k] = for_user(v)
    return out


def jsonable(o: Any) -> Any:
    """``json.dumps(default=...)``: numpy scalars and arrays as plain numbers and lists, paths
    and enums as text."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _finite(obj: Any) -> Any:
    """NaN and infinities (not JSON) as null."""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.ndarray):
        return _finite(obj.tolist())
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def json_line(obj: Any) -> str:
    """One JSON object on one line (the streaming commands' ``--json``)."""
    return json.dumps(_finite(obj), default=jsonable, allow_nan=False)


def print_json(obj: Any) -> None:
    """The one JSON document of a one-shot command (``analyze``, ``simulate``)."""
    text = json.dumps(_finite(obj), indent=2, default=jsonable, allow_nan=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def add_window_options(p: argparse.ArgumentParser, *, with_user: bool = True) -> None:
    """``--exit-after``, ``--screenshot``, ``--user`` (unless the command has its own) and
    ``--config-dir`` (for the dashboard)."""
    p.add_argument(
        "--exit-after",
        type=non_negative_number("seconds"),
        metavar="S",
        help="close the window after S s",
    )
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window on exit")
    add_config_options(p, with_user=with_user)


def add_config_options(p: argparse.ArgumentParser, *, with_user: bool = True) -> None:
    if with_user:
        p.add_argument(
            "--user", help="whose settings and calibrations to use (default: the last one)"
        )
    p.add_argument(
        "--config-dir",
        type=Path,
        help="settings/calibration directory (default: the platform's user config directory)",
    )


def dashboard() -> Any:
    """The dashboard module (``imu_monitor.ui.app``), imported only when a window is to be shown
    (headless commands never load Qt); when Qt cannot load, one line saying what to do."""
    try:
        import imu_monitor.ui.app as ui_app
    except ImportError as e:
        raise ImuMonitorError(
            f"the dashboard cannot start ({e}): install the system libraries Qt needs (bash "
            "scripts/setup.sh as root does), or use --headless"
        ) from None
    return ui_app


def window_options(args: argparse.Namespace) -> Any:
    """The dashboard's ``WindowOptions`` from ``--exit-after`` / ``--screenshot`` (imports the
    UI: call only when a window is to be shown)."""
    shot = getattr(args, "screenshot", None)
    return dashboard().WindowOptions(
        getattr(args, "exit_after", None), None if shot is None else Path(shot)
    )


PROGRESS_AFTER_S = 2.0
"""Work expected to take longer than this shows a progress bar (on a terminal)."""


def on_terminal() -> bool:
    """stdout and stderr are both a terminal (progress bars and tables); else output is plain."""
    return _isatty(sys.stdout) and _isatty(sys.stderr)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class NoProgress:
    """Stands in for a progress bar when output is plain."""

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, completed: float) -> None:
        return None


class Progress(NoProgress):
    """A rich progress bar on stderr (transient: it disappears when done); lines printed to
    stdout meanwhile appear above it."""

    def __init__(self, description: str, total: float) -> None:
        self._bar = rich.progress.Progress(
            rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(),
            rich.progress.TaskProgressColumn(),
            rich.progress.TimeRemainingColumn(),
            console=rich.console.Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task(description, total=total)

    def __enter__(self) -> Progress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def update(self, completed: float) -> None:
        self._bar.update(self._task, completed=completed)


def progress(description: str, total: float, expected_s: float | None) -> NoProgress:
    """A progress bar for work expected to take ``expected_s`` (None: unknown) out of
    ``total`` units, when that is over ``PROGRESS_AFTER_S`` and output is on a terminal."""
    if expected_s is not None and expected_s > PROGRESS_AFTER_S and on_terminal():
        return Progress(description, total)
    return NoProgress()


def table(title: str | None, columns: list[str], rows: list[list[str]]) -> list[str]:
    """A table as lines: drawn by rich on a terminal, plain aligned text otherwise (same cells,
    numbers right-aligned)."""
    if on_terminal():
        t = rich.table.Table(title=title, box=rich.box.SIMPLE_HEAD, title_justify="left")
        for c in columns:
            t.add_column(c, justify="left" if c in _LEFT else "right")
        for r in rows:
            t.add_row(*r)
        console = rich.console.Console(file=sys.stdout)
        with console.capture() as cap:
            console.print(t)
        return cap.get().rstrip("\n").splitlines()
    widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if name in _LEFT else c.rjust(w)
            for c, w, name in zip(cells, widths, columns, strict=True)
        ).rstrip()

    return ([title] if title else []) + [line(columns)] + [line(r) for r in rows]


_LEFT = {"NAME", "ADDRESS", "PROFILE", "verdict", "direction", "kind", "note", "phase"}


def check_profile_option(name: str | None) -> None:
    """``--profile NAME``: an unknown name is a usage error (exit 2), found before anything
    connects; a profile file given by its path is read, and judged, where it is used."""
    if name is None:
        return
    base = name.partition(":")[0]
    if Path(base).is_file():
        return
    try:
        load_profile(base)
    except ImuMonitorError as e:
        raise UsageError(str(e), option="--profile") from None
