"""Start-up (issue 19): the help, the version and a usage error load nothing heavy.

Each command runs in a new interpreter under `python -X importtime`, which names on stderr every module
the process imports; none of pydicom, numpy, Jinja2, Dask or the pixel stack may be among them (importing
pydicom 3 alone costs ~0.2 s of CPU and loads numpy). A test on the modules loaded, not on time: the time
is a benchmark figure (docs/benchmark.md).
"""
import json
import re
import subprocess
import sys

import pydicom
import pytest

HEAVY = {"pydicom", "numpy", "jinja2", "dask", "distributed", "PIL", "onnxruntime", "tesserocr", "cv2", "sqlite3"}
IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| +([\w.]+)$")


def imported_by(*arguments):
    """(the process, the top-level packages it imported) of `python -X importtime ARGUMENTS`."""
    run = subprocess.run([sys.executable, "-X", "importtime", *arguments], capture_output=True, text=True,
                         timeout=120)
    names = [m.group(1) for m in map(IMPORTED.match, run.stderr.splitlines()) if m]
    assert names, run.stderr   # importtime worked: the assertions below could fail
    return run, {name.split(".")[0] for name in names}


@pytest.mark.parametrize("arguments", [
    ["--help"], ["anonymize", "--help"], ["compare", "--help"],
    ["anonymize"],                                              # a missing argument: usage error, exit 2
    ["anonymize", "in", "--output", "out", "--jobs", "0"],      # a bad value
    ["anonymize", "/no/such/input", "--output", "out"],         # told before any file is read
    ["--frobnicate"],
])
def test_help_and_usage_errors_import_no_dicom_library(arguments, tmp_path):
    run, packages = imported_by("-m", "DicomDeidentifyLib", *arguments)
    assert run.returncode == (0 if "--help" in arguments else 2), run.stdout + run.stderr[-2000:]
    assert "DicomDeidentifyLib" in packages
    assert not packages & HEAVY, sorted(packages & HEAVY)


def test_the_version_names_pydicoms_without_importing_it():
    run, packages = imported_by("-m", "DicomDeidentifyLib", "--version")
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"pydicom {pydicom.__version__}" in run.stdout.splitlines()
    assert "PS3.15 Table E.1-1" in run.stdout
    assert not packages & HEAVY, sorted(packages & HEAVY)


def test_building_the_parser_loads_no_engine():
    code = ("import json, sys\n"
            "from DicomDeidentifyLib import cli\n"
            "cli.build_parser().parse_args(['anonymize', 'in', '--output', 'out'])\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    modules = set(json.loads(run.stdout))
    assert "DicomDeidentifyLib.cli" in modules
    assert not {m.split(".")[0] for m in modules} & HEAVY
    assert not modules & {"DicomDeidentifyLib.engine", "DicomDeidentifyLib.runs", "DicomDeidentifyLib.report"}


def test_a_run_still_loads_the_engine_when_it_starts(tmp_path):
    """The other side: the lazy imports are there, a run de-identifies (pydicom imported then)."""
    from pydicom.data import get_testdata_file
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ct.dcm").write_bytes(open(get_testdata_file("CT_small.dcm"), "rb").read())
    run, packages = imported_by("-m", "DicomDeidentifyLib", "anonymize", str(tmp_path / "in"), "--output",
                                str(tmp_path / "out"), "--key-file", str(tmp_path / "k" / "key"), "--create-key",
                                "--quiet", "--jobs", "1")
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert "pydicom" in packages and "1 written" in run.stdout
    [output] = (tmp_path / "out").rglob("*.dcm")
    assert str(pydicom.dcmread(output).PatientName) != "CompressedSamples^CT1"


@pytest.mark.parametrize("arguments", [["--help"], ["scrub", "--help"], ["check"], ["--version"]])
def test_scene_scrubber_help_imports_no_dicom_library(arguments):
    run, packages = imported_by("-m", "SceneScrubberLib", *arguments)
    assert run.returncode == (2 if arguments == ["check"] else 0), run.stdout + run.stderr[-2000:]
    assert "SceneScrubberLib" in packages
    assert not packages & HEAVY, sorted(packages & HEAVY)


_POOL_RUN = """
import json, sys
from pathlib import Path
from DicomDeidentifyLib.batch import deidentify_paths
from DicomDeidentifyLib.options import DeidentifyOptions
jobs, inputs, output = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
calls, recorded = [], []
summary = deidentify_paths([inputs], output, DeidentifyOptions(), b"k" * 32, jobs=jobs,
                           progress=lambda done, total, result: recorded.append(done),
                           while_waiting=lambda: calls.append(len(recorded)))
print(json.dumps([calls, summary.totals()["written"]]))
"""


def test_a_pool_run_prepares_the_report_page_once_while_the_workers_work(tmp_path):
    """batch.deidentify_paths calls while_waiting once in a pool run, when the workers have their first units
    (the report's templates are compiled then, instead of after the last file); never with one job. In a new
    interpreter: a process that has loaded the text detector (earlier tests) runs with one job."""
    from pydicom.data import get_testdata_file
    (tmp_path / "in").mkdir()
    for number in range(6):
        dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        dataset.SOPInstanceUID = f"{dataset.SOPInstanceUID}.{number}"
        dataset.SeriesInstanceUID = f"{dataset.SeriesInstanceUID}.{number % 3}"   # three series: three units
        dataset.save_as(tmp_path / "in" / f"{number}.dcm")
    for jobs, expected in ((2, 1), (1, 0)):
        run = subprocess.run([sys.executable, "-c", _POOL_RUN, str(jobs), str(tmp_path / "in"),
                              str(tmp_path / f"out{jobs}")], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        calls, written = json.loads(run.stdout.splitlines()[-1])
        assert calls == [0] * expected and written == 6   # before any result came back


def test_preparing_the_report_page_without_jinja2_leaves_it_to_the_report():
    """RunReport.prepare_page never raises: without Jinja2 the run goes on and write() says what is missing."""
    code = ("import sys, tempfile, pathlib; sys.modules['jinja2'] = None\n"
            "from DicomDeidentifyLib.report import RunReport\n"
            "from DicomDeidentifyLib.options import DeidentifyOptions\n"
            "from DicomDeidentifyLib.results import RunSummary\n"
            "folder = pathlib.Path(tempfile.mkdtemp()) / 'r' / 'run'\n"
            "report = RunReport(folder, DeidentifyOptions(), [], None)\n"
            "report.prepare_page()\n"
            "print(*report.write(RunSummary()))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    json_path, html_path = run.stdout.split()
    assert json_path == html_path and json_path.endswith("report.json")
    assert "the HTML report needs Jinja2" in run.stderr


def test_the_version_is_the_pydicom_an_import_would_load(tmp_path):
    """Another pydicom first on the path (a source tree, Slicer's): its version, not the installed metadata's."""
    (tmp_path / "pydicom").mkdir()
    (tmp_path / "pydicom" / "__init__.py").write_text('__version__ = "9.9.9-shadow"\n')
    import os
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + [p for p in sys.path if p]))
    run = subprocess.run([sys.executable, "-m", "DicomDeidentifyLib", "--version"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "pydicom 9.9.9-shadow" in run.stdout.splitlines()
