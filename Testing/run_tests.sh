#!/usr/bin/env bash
# The whole test suite. The engine tests run first on pydicom 2.4 (what Slicer 5.8/5.10
# bundle), then every test runs on pydicom 3 (Slicer main and the command line).
#   Testing/run_tests.sh           the whole suite (what CI runs)
#   Testing/run_tests.sh --quick   everyday subset (about 1.5 min): pydicom 3 only, no OCR, no validators, no kill-and-resume runs
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--quick" ]]; then
  shift
  exec .venv/bin/python -m pytest -q Testing -m "not slow" "$@"
fi
echo "== engine tests on $(.venv-pydicom2/bin/python -c 'import pydicom; print("pydicom", pydicom.__version__)')"
.venv-pydicom2/bin/python -m pytest -q Testing/DicomDeidentify "$@"
echo "== all tests on $(.venv/bin/python -c 'import pydicom; print("pydicom", pydicom.__version__)')"
.venv/bin/python -m pytest Testing "$@"
