"""The wheel works on its own: built from a copy of the source tree, installed into a fresh venv
(no access to this checkout or the development venv), ``imu-monitor demo`` runs there headless.

Marked ``wheel`` (``pytest -m "not wheel"`` skips it; CI runs it). Offline after the first run:
the dependency wheels are kept in a wheelhouse (``$IMU_MONITOR_WHEELHOUSE``, default
``~/.cache/imu-monitor/wheelhouse``) filled once with ``pip download``; installs use
``--no-index --find-links`` on it. pip resolves the wheel's full dependency set there (a dry
run), then installs all of it but PySide6 (~900 MB on disk, which the headless demo never loads;
``IMU_MONITOR_WHEEL_WITH_QT=1`` installs it too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(
    os.environ.get("IMU_MONITOR_WHEELHOUSE", Path.home() / ".cache/imu-monitor/wheelhouse")
)
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
BUILD_REQUIRES: list[str] = PROJECT["build-system"]["requires"]
DEPENDENCIES: list[str] = PROJECT["project"]["dependencies"]


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, argv))}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _fill_wheelhouse(reqs: list[str]) -> None:
    """Download what is not there yet (a no-op, offline, once filled)."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    offline = [*PIP, "download", "-q", "--no-index", "--find-links", str(WHEELHOUSE)]
    have = subprocess.run(
        [*offline, "-d", str(WHEELHOUSE / ".probe"), *reqs], capture_output=True, text=True
    )
    shutil.rmtree(WHEELHOUSE / ".probe", ignore_errors=True)
    if have.returncode != 0:
        _run([*PIP, "download", "-q", "--only-binary", ":all:", "-d", str(WHEELHOUSE), *reqs])


def _source_copy(dest: Path) -> Path:
    """The files a clean checkout has (no venv, caches, build output)."""
    skip = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
        ".ruff_cache", ".hypothesis", "recordings", "docs", "benchmarks", "tests",
    )  # fmt: skip
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


def test_the_wheel_installs_alone_and_runs_the_demo_headless(tmp_path):
    _fill_wheelhouse([*BUILD_REQUIRES, *DEPENDENCIES])
    offline = ["--no-index", "--find-links", str(WHEELHOUSE)]
    src = _source_copy(tmp_path / "src")
    build = _run([*PIP, "wheel", "-q", "--no-deps", *offline, "-w", str(tmp_path / "dist"), src])
    assert build.stdout + build.stderr == ""  # quiet: no deprecation banners from the build
    (wheel,) = (tmp_path / "dist").glob("imu_monitor-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    py = env_dir / "bin" / "python"  # installed into by this pip (--python): no ensurepip
    install = [*PIP, "--python", str(py), "install", "-q", "--no-compile", *offline]
    _run([*install, "--dry-run", str(wheel)])  # every dependency resolves, Qt included
    if os.environ.get("IMU_MONITOR_WHEEL_WITH_QT") == "1":
        _run([*install, str(wheel)])
    else:
        deps = [r for r in DEPENDENCIES if not r.lower().startswith("pyside6")]
        _run([*install, *deps])
        _run([*install, "--no-deps", str(wheel)])

    run_dir = tmp_path / "elsewhere"  # nothing of the checkout on sys.path
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QT_"))}
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV"):
        env.pop(var, None)
    env["HOME"] = str(tmp_path / "home")  # its own config directory
    where = _run([str(py), "-c", "import imu_monitor; print(imu_monitor.__file__)"],
                 cwd=run_dir, env=env)  # fmt: skip
    assert where.stdout.strip().startswith(str(env_dir))
    demo = subprocess.run(
        [str(env_dir / "bin" / "imu-monitor"), "demo", "--exit-after", "3", "--speed", "10"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "no display" in demo.stderr and "Traceback" not in demo.stderr
    assert "sacrum: LumbarIMU-sacrum-1 (diy_imu, 200 Hz)" in demo.stdout
    assert "summary:" in demo.stdout
    scan = _run([str(env_dir / "bin" / "imu-monitor"), "scan", "--device", "sim", "--json"],
                cwd=run_dir, env=env)  # fmt: skip
    assert scan.stdout.count('"profile": "diy_imu"') == 3
    shutil.rmtree(env_dir, ignore_errors=True)
