#!/usr/bin/env bash
# Set up imu-monitor in ./.venv on a fresh machine: the system libraries Qt needs (on Debian/Ubuntu,
# when run as root or with sudo), then the package. `--test` adds the test tools.
# Used by both quick-start commands in README.md and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

# Qt (PySide6 wheels) needs these at run time (the xcb ones for a window on an X display, seen
# failing without libxcb-cursor0); QtMultimedia needs libpulse0 for sound on Linux and links
# QtNetwork (libgssapi-krb5-2) and its media plugin libXrandr/libXrender. tests/test_setup_script.py
# checks this list against what the wheels link against.
debs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
      libpulse0 libgssapi-krb5-2 libxrandr2 libxrender1 libxcb-cursor0 libxcb-icccm4
      libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
      libxcb-xinerama0 libxcb-xkb1)
# the report's browser test renders it with headless Chromium (tests/report/test_browser.py)
[ "${1:-}" = "--test" ] && debs+=(chromium)
# Debian's python3 cannot make a virtual environment without python3-venv
if [ ! -x .venv/bin/python ] && ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  debs+=(python3-venv)
fi
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
    if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
      echo "setup: installing system packages: ${missing[*]}" >&2
      $sudo apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "setup: missing system packages (install them as root: apt-get install ${missing[*]})" >&2
    fi
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
echo "setup: installing imu-monitor and its Python packages into .venv (PySide6 is large: a few" \
  "minutes on a first run)" >&2
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
echo "setup: ready in $(pwd)/.venv" >&2
