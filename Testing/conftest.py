import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# pydicom warns about odd values in its own test files; the tests assert outcomes instead.
warnings.filterwarnings("ignore", module="pydicom")

import pytest  # noqa: E402

# `Testing/run_tests.sh --quick` leaves these out (everyday work; the default run keeps everything):
# OCR and pixel cleaning, the external validators, the runs that kill and resume a process, and the
# modules of many processes and bounded-memory runs (robustness, side database, CLI processes, installs).
QUICK_SKIPS_MODULES = ("test_pixel_", "test_burned_in", "test_validation_tools", "test_robustness",
                       "test_side_database", "test_cli_errors", "test_install_without_extras", "test_held_files",
                       "test_cluster")
QUICK_SKIPS_NAMES = ("killed", "sigkill", "ctrl_c", "concurrent", "every_corpus_file", "reading_only_what_is_needed")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name.startswith(QUICK_SKIPS_MODULES) or any(word in item.name for word in QUICK_SKIPS_NAMES):
            item.add_marker(pytest.mark.slow)
