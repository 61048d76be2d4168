"""`pip install .` without extras, as a new user does it: a fresh venv (no system site-packages) that
holds the project and its core dependencies only (no numpy, no Pillow), and the two commands run from it.

The venv is made with `--without-pip` and filled by this interpreter's pip through `pip --python`
(pip >= 22.3): the same install (the project is built from its sources in pip's isolated build
environment, from the configured indexes), seconds faster than bootstrapping pip into the venv.
The core dependencies (pyproject's `dependencies`, with what they require) are installed with --no-deps
at the versions this interpreter has (pydicom 3 in .venv, 2.4 in .venv-pydicom2), so nothing else can come in with them.
"""
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pydicom
import pytest
from packaging.requirements import Requirement

import DicomDeidentifyLib
from support.data import data_file

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "DicomDeidentify/DicomDeidentifyLib",
           "SceneScrubber/SceneScrubberLib")


def core_dependencies() -> list:
    """pyproject's dependencies (no extras), pinned to the versions installed here."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [Requirement(line).name for line in project["dependencies"]]
    assert "pydicom" in names and not {"numpy", "pillow"} & {n.lower() for n in names}
    if importlib.metadata.version("pydicom").startswith("2."):
        # pydicom 2.4 finds its test files through pkg_resources without declaring setuptools (pip and
        # every Slicer that bundles 2.4 have it): what a user of 2.4 has beside it
        names.append("setuptools")
    return [f"{name}=={importlib.metadata.version(name)}" for name in with_their_requirements(names)]


def with_their_requirements(names: list) -> list:
    """The distributions and, recursively, what they require here (no extras; markers of this platform):
    jinja2 brings MarkupSafe."""
    found, waiting = {}, list(names)
    while waiting:
        name = waiting.pop(0)
        if name.lower() in found:
            continue
        found[name.lower()] = name
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                waiting.append(requirement.name)
    return list(found.values())


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("fresh")
    source = root / "source"   # a copy: the build leaves build/ and *.egg-info beside the sources
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    python = root / "venv" / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--disable-pip-version-check", "-q", str(source), *core_dependencies()],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    home = root / "home"   # the default key location (~/.slicer-deidentify) stays inside the test
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["HOME"] = str(home)
    return root / "venv" / "bin", env, root


def run(venv, *args, cwd=None):
    bin_dir, env, root = venv
    command = [str(bin_dir / args[0]), *map(str, args[1:])]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd or root, timeout=300)


@pytest.mark.slow   # the venv: a build and an install, about 20 s once per module
def test_the_venv_holds_the_project_and_pydicom_only(venv):
    found = run(venv, "python", "-c", "import importlib.util as u, pydicom, DicomDeidentifyLib; "
                "print([m for m in ('numpy', 'PIL', 'pytesseract', 'pytest') if u.find_spec(m)], pydicom.__version__, "
                "DicomDeidentifyLib.__file__)")
    assert found.returncode == 0, found.stderr
    missing, version, where = found.stdout.split()
    assert missing == "[]" and version == pydicom.__version__
    assert str(venv[2] / "venv") in where   # the installed copy, not this checkout


@pytest.mark.slow   # the venv: a build and an install, about 20 s once per module
def test_help_and_version_without_the_pixels_extra(venv):
    helped = run(venv, "dicom-deidentify", "--help")
    assert helped.returncode == 0 and "anonymize" in helped.stdout and "--version" in helped.stdout, helped.stderr
    assert run(venv, "dicom-deidentify", "anonymize", "--help").returncode == 0
    version = run(venv, "dicom-deidentify", "--version")
    assert version.returncode == 0, version.stderr
    editions = json.loads((REPO / "DicomDeidentify/DicomDeidentifyLib/data/ps315_profile.json").read_text())["editions"]
    lines = version.stdout.splitlines()
    assert lines[0] == f"dicom-deidentify {DicomDeidentifyLib.__version__} (slicer-deidentify)"
    assert lines[1].startswith("PS3.15 Table E.1-1") and lines[1].endswith(editions)
    assert lines[2].startswith("PS3.15 Table E.3.10-1") and lines[2].endswith("2023b")
    assert lines[3] == f"pydicom {pydicom.__version__}"
    # the installed distribution carries the version the code reports (pyproject reads __version__)
    installed = run(venv, "python", "-c", "import importlib.metadata as m; print(m.version('slicer-deidentify'))")
    assert installed.stdout.strip() == DicomDeidentifyLib.__version__
    as_module = run(venv, "python", "-m", "DicomDeidentifyLib", "--version")
    assert as_module.returncode == 0 and as_module.stdout == version.stdout
    scene_version = run(venv, "scene-scrubber", "--version")
    assert scene_version.stdout == f"scene-scrubber {DicomDeidentifyLib.__version__} (slicer-deidentify)\n"
    for command in (("scene-scrubber", "--help"), ("python", "-m", "SceneScrubberLib", "--help")):
        scene = run(venv, *command)
        assert scene.returncode == 0 and "scrub" in scene.stdout and "check" in scene.stdout, scene.stderr


@pytest.mark.slow   # the venv: a build and an install, about 20 s once per module
def test_a_basic_profile_run_without_the_pixels_extra(venv, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("CT_small.dcm", "US1_UNCR.dcm"):   # the ultrasound: burned-in text likely, held for review
        shutil.copy(data_file(name), inputs / name)
    key = tmp_path / "secrets" / "pseudonym.key"
    result = run(venv, "dicom-deidentify", "anonymize", inputs, "--output", tmp_path / "out", "--key-file", key,
                 "--create-key", "--jobs", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 written, 0 skipped, 0 failed, 1 review item;" in result.stdout
    assert "Traceback" not in result.stderr and "numpy" not in result.stdout + result.stderr
    outputs = sorted((tmp_path / "out").rglob("*.dcm"))
    assert len(outputs) == 2
    original = pydicom.dcmread(str(data_file("CT_small.dcm")))
    written = [pydicom.dcmread(str(path)) for path in outputs]
    ct = next(ds for ds in written if ds.Modality == "CT")
    assert ct.PatientIdentityRemoved == "YES" and "113100" in [c.CodeValue for c in ct.DeidentificationMethodCodeSequence]
    assert str(ct.PatientName) != str(original.PatientName) and ct.PatientID != original.PatientID
    assert ct.SOPInstanceUID != original.SOPInstanceUID
    assert ct.PixelData == original.PixelData   # pixels untouched, never decoded
    report = json.loads(next((key.parent / "reports").glob("*/report.json")).read_text())
    held = [entry for entry in report["files"] if entry["review"]]
    assert len(held) == 1 and held[0]["source"].endswith("US1_UNCR.dcm")
    # compare, the other command a new user tries first, reads headers only too
    ct_output = next(path for path, ds in zip(outputs, written) if ds.Modality == "CT")
    compared = run(venv, "dicom-deidentify", "compare", inputs / "CT_small.dcm", ct_output)
    assert compared.returncode == 0 and "PatientName" in compared.stdout, compared.stderr
    # and the README's first command, on the sample files the installed pydicom ships
    demo = run(venv, "dicom-deidentify", "demo", "--workdir", tmp_path / "demo", "--jobs", "1")
    assert demo.returncode == 0, demo.stderr
    assert "MR_truncated.dcm: truncated" in demo.stdout and " 0 failed" not in demo.stdout
    assert len(list((tmp_path / "demo" / "deidentified").rglob("*.dcm"))) >= 5


@pytest.mark.slow   # the venv: a build and an install, about 20 s once per module
def test_clean_pixel_data_without_the_extra_is_one_line_naming_it(venv, tmp_path):
    source = tmp_path / "US1_UNCR.dcm"
    shutil.copy(data_file("US1_UNCR.dcm"), source)
    result = run(venv, "dicom-deidentify", "anonymize", source, "--output", tmp_path / "out",
                 "--key-file", tmp_path / "k", "--create-key", "--clean-pixel-data")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: --clean-pixel-data needs the [pixels] extra (numpy, PIL not installed)")
    assert "pip install '.[pixels]'" in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "k").exists()   # refused before anything is made
    # the same from a profile file that switches it on
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"clean_pixel_data": True}))
    from_profile = run(venv, "dicom-deidentify", "anonymize", source, "--output", tmp_path / "out",
                       "--key-file", tmp_path / "k", "--create-key", "--profile", profile)
    assert from_profile.returncode == 2 and len(from_profile.stderr.splitlines()) == 1
    assert "[pixels] extra" in from_profile.stderr


@pytest.mark.slow   # the venv: a build and an install, about 20 s once per module
def test_a_cluster_run_without_the_cluster_extra_is_one_line_naming_it(venv, tmp_path):
    source = tmp_path / "CT_small.dcm"
    shutil.copy(data_file("CT_small.dcm"), source)
    assert run(venv, "python", "-c", "import importlib.util as u; assert not u.find_spec('distributed')").returncode == 0
    result = run(venv, "dicom-deidentify", "anonymize", source, "--output", tmp_path / "out",
                 "--key-file", tmp_path / "k", "--create-key", "--scheduler", "local:2")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: --scheduler needs the [cluster] extra (dask[distributed], not installed)")
    assert "pip install 'slicer-deidentify[cluster]'" in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "k").exists()   # refused before anything is made
    helped = run(venv, "dicom-deidentify", "anonymize", "--help")   # the option is there, and says what it needs
    text = " ".join(helped.stdout.split())
    assert helped.returncode == 0 and "--scheduler" in text and "storage every worker reaches" in text


@pytest.mark.slow   # the venv: a build and an install, about 20 s once per module
def test_scene_scrubber_checks_a_scene_without_the_extra(venv, tmp_path):
    scene = tmp_path / "scene.mrml"
    scene.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<MRML version="Slicer4.4.0" userTags="">\n'
                     ' <Scalar id="vtkMRMLScalarVolumeNode1" name="Doe John CT"></Scalar>\n</MRML>\n')
    result = run(venv, "scene-scrubber", "check", scene, "--term", "Doe John")
    assert result.returncode == 1, result.stderr   # found, and shown masked
    assert "D******n (8 characters)" in result.stdout and "Doe John" not in result.stdout


LIBRARY_WITHOUT_NUMPY = r"""
import importlib.util, json, sys
assert importlib.util.find_spec("numpy") is None and importlib.util.find_spec("PIL") is None
from DicomDeidentifyLib import DeidentifyOptions, deidentify_paths
summary = deidentify_paths(sys.argv[1:3], None, DeidentifyOptions(clean_pixel_data=True, clean_graphics=True),
                           bytes(range(32)))
print(json.dumps([[r.source, r.status, [i.reason for i in r.review if i.kept_in_output]] for r in summary.results]))
print(sorted(name for name in sys.modules if name.split(".")[0] in ("numpy", "PIL")))
"""


def test_the_library_holds_images_it_cannot_clean_without_the_extra(tmp_path):
    """Used as a library (no CLI check) with Clean Pixel Data on and no numpy: the ultrasound is held for
    review with a reason naming the extra, so is the CT (every image is looked at with the option), and
    numpy is never imported. The process
    runs without site-packages (python -S), with a folder that holds pydicom alone and this checkout."""
    site = tmp_path / "site"
    site.mkdir()
    package = Path(pydicom.__file__).parent
    for path in [package, *package.parent.glob(f"pydicom-{pydicom.__version__}.dist-info")]:   # pydicom 3 reads it
        (site / path.name).symlink_to(path, target_is_directory=True)
    libraries = [str(Path(DicomDeidentifyLib.__file__).parents[1])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *libraries])}
    result = subprocess.run([sys.executable, "-S", "-c", LIBRARY_WITHOUT_NUMPY, str(data_file("US1_UNCR.dcm")),
                             str(data_file("CT_small.dcm"))], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    results_line, modules_line = result.stdout.splitlines()
    results = {Path(source).name: (status, reasons) for source, status, reasons in json.loads(results_line)}
    # With Clean Pixel Data every image is looked at (issue 12), whatever its header says: without the
    # extra none can be, so the CT is held as well as the ultrasound, each saying why.
    for name, why in (("US1_UNCR.dcm", "burned-in text likely"), ("CT_small.dcm", "an image")):
        status, reasons = results[name]
        assert status == "dry-run" and len(reasons) == 1, (name, reasons)
        assert reasons[0].startswith(why) and "needs the [pixels] extra (numpy, PIL not installed)" in reasons[0]
        assert reasons[0].endswith("needs review before it is shared")
    assert modules_line == "[]"
