"""``scripts/setup.sh`` installs the system libraries the Qt wheels link against (Debian/Ubuntu).

Every shared library that the parts of PySide6 the dashboard loads (Core, Gui, Widgets, Network,
Multimedia and their platform and media plugins) need from the system must come from a package
setup.sh lists, from one of their dependencies, or from python3's own dependencies (there before
setup.sh runs). Checked with ``ldd`` and ``dpkg -S`` on this machine's installed libraries.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PySide6 = pytest.importorskip("PySide6")

pytestmark = pytest.mark.skipif(
    not (shutil.which("ldd") and shutil.which("dpkg") and shutil.which("apt-cache")),
    reason="not a Debian-like system",
)

LOADED = [
    "Qt/lib/libQt6Core.so.6",
    "Qt/lib/libQt6Gui.so.6",
    "Qt/lib/libQt6Widgets.so.6",
    "Qt/lib/libQt6Network.so.6",
    "Qt/lib/libQt6Multimedia.so.6",
    "Qt/lib/libQt6DBus.so.6",
    "Qt/plugins/platforms/libqxcb.so",
    "Qt/plugins/platforms/libqoffscreen.so",
    "Qt/plugins/multimedia/*.so",
    "Qt/plugins/xcbglintegrations/*.so",
]


def _listed_packages() -> list[str]:
    text = (ROOT / "scripts" / "setup.sh").read_text()
    block = re.search(r"debs=\(([^)]*)\)", text)
    assert block, "setup.sh has no debs=(...) list"
    return block.group(1).split()


def _closure(packages: list[str]) -> set[str]:
    out = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
         "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *packages],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    names = {ln.strip().split(":")[-1].strip().strip("<>") for ln in out.splitlines()}
    return {n.split(":")[0] for n in names if n} | set(packages)


def _system_libraries() -> set[str]:
    base = Path(PySide6.__file__).parent
    libs: set[str] = set()
    for pattern in LOADED:
        for f in base.glob(pattern):
            out = subprocess.run(["ldd", str(f)], capture_output=True, text=True).stdout
            for line in out.splitlines():
                m = re.match(r"\s*(\S+) => (\S+)", line)
                if m and not m.group(2).startswith(str(base)):
                    libs.add(m.group(2) if m.group(2) != "not" else f"missing:{m.group(1)}")
    return libs


def _packages_of(paths: set[str]) -> dict[str, str | None]:
    """{library path: its Debian package} in one ``dpkg -S`` call (merged /usr: both spellings)."""
    spellings = {p: {p, str(Path(p).resolve()), p.replace("/lib/", "/usr/lib/", 1)} for p in paths}
    everything = sorted(set().union(*spellings.values()))
    out = subprocess.run(["dpkg", "-S", *everything], capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkg, _, path = line.partition(": ")
        owner[path.strip()] = pkg.split(":")[0].strip()
    return {p: next((owner[s] for s in spellings[p] if s in owner), None) for p in paths}


def test_setup_installs_every_system_library_the_dashboard_links_against():
    listed = _listed_packages()
    allowed = _closure(listed) | _closure(["python3"])
    libs = _system_libraries()
    missing = sorted(x for x in libs if x.startswith("missing:"))
    assert not missing, f"not installed here, so not checkable: {missing}"
    unlisted = {
        lib: pkg
        for lib, pkg in _packages_of(libs).items()
        if pkg is not None and pkg not in allowed
    }
    assert not unlisted, f"add to setup.sh's debs: {sorted(set(unlisted.values()))} ({unlisted})"


def _apt_installs(tmp_path: Path, *args: str) -> list[str]:
    """The packages setup.sh (a copy, with every package missing and apt-get, dpkg-query, id
    and python3 stubbed) asks apt-get to install."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "apt.log"
    for name, body in {
        "dpkg-query": "exit 1",  # nothing installed
        "apt-get": f'echo "$@" >> {log}',
        "id": "echo 0",  # root
        "python3": "exit 0",
    }.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(["bash", str(repo / "scripts" / "setup.sh"), *args], env=env,
                   capture_output=True, text=True, timeout=60)  # fmt: skip  # pip fails: no venv
    installs = [ln.split() for ln in log.read_text().splitlines() if " install " in f" {ln} "]
    assert len(installs) == 1, installs
    return [w for w in installs[0] if not w.startswith("-") and w != "install"]


def test_setup_for_tests_installs_chromium_and_plain_setup_does_not(tmp_path):
    """The report's browser test needs Debian's chromium: ``--test`` installs it (CI is a fresh
    machine); the plain setup of a user's machine does not."""
    with_tests = _apt_installs(tmp_path / "t", "--test")
    plain = _apt_installs(tmp_path / "p")
    assert "chromium" in with_tests
    assert "chromium" not in plain
    assert set(with_tests) - set(plain) == {"chromium"}
    assert set(_listed_packages()) <= set(plain)
