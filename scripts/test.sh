#!/usr/bin/env bash
# LSTM Lab's tests with everything they need: the Python requirements (Ray's and TensorBoard's too, for their tests;
# pip runs only when one is missing or at another version),
# a browser the browser tests can drive (Debian's chromium through apt where apt is there, otherwise
# Playwright's own), then the linter (ruff, its rules in ruff.toml), then pytest in two processes (pytest-xdist;
# the browser tests share one process and one app server, the slow tests go first: see tests/conftest.py).
# Arguments go to pytest:  bash scripts/test.sh -m "not slow"   (one process: bash scripts/test.sh -n 0)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=(requirements-test.txt requirements-ray.txt requirements-tensorboard.txt)
python scripts/requirements_met.py "${requirements[@]}" >/dev/null \
  || python -m pip install -q "${requirements[@]/#/-r}"
if ! python scripts/browser.py >/dev/null; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    ($sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: apt could not install chromium"
  fi
  python scripts/browser.py >/dev/null || python -m playwright install chromium \
    || echo "warning: no browser could be installed; the browser tests will fail"
fi
python -m ruff check .
# Python keeps compiled modules (some machines set PYTHONDONTWRITEBYTECODE, and then each of the suite's ~40
# Python processes compiles the project again, and each test process rewrites every test module's asserts again)
unset PYTHONDONTWRITEBYTECODE
python -m compileall -q -j 0 lstm_core lab_ui pages scripts app.py home.py >/dev/null
exec python -m pytest -n 2 --dist loadgroup "$@"
