"""The [pixels] extra gives a working Clean Pixel Data, and a run without its text detector is refused
at the start (review 18c findings 3 and 8): never a run that exits 0 having cleaned nothing."""
import importlib.util
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from DicomDeidentifyLib import cli
from DicomDeidentifyLib.requirements import load_requirements
from support.data import data_file

REPO = Path(__file__).resolve().parents[2]


def test_the_pixels_extra_holds_what_slicer_installs_for_clean_pixel_data():
    """Every requirement Slicer installs for Clean Pixel Data (Resources' file), the text detector
    rapidocr-onnxruntime included, is in pyproject's [pixels] extra, at the same version."""
    extra = {canonicalize_name(r.name): r for r in map(Requirement, tomllib.loads(
        (REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["pixels"])}
    slicer = load_requirements(REPO / "DicomDeidentify" / "Resources" / "DicomDeidentifyRequirements.txt")
    assert "rapidocr-onnxruntime" in extra and str(extra["rapidocr-onnxruntime"].specifier) == "==1.4.4"
    for requirement in slicer:
        name = canonicalize_name(requirement.name)
        if name == "tqdm":   # a core dependency already
            continue
        assert name in extra, name
        assert extra[name].specifier == requirement.specifier, name


@pytest.fixture
def without_detector(monkeypatch):
    """This interpreter as one where the [pixels] extra's text detector is not installed."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "rapidocr_onnxruntime" else real(name, *a))


def test_clean_pixel_data_without_the_detector_is_refused_before_anything(tmp_path, capsys, without_detector):
    source = tmp_path / "US1_UNCR.dcm"
    source.write_bytes(data_file("US1_UNCR.dcm").read_bytes())
    status = cli.main(["anonymize", str(source), "--output", str(tmp_path / "out"), "--key-file",
                       str(tmp_path / "k" / "k.key"), "--create-key", "--clean-pixel-data", "--jobs", "1"])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --clean-pixel-data (its text detector) needs the "
                                                   "[pixels] extra (rapidocr_onnxruntime not installed)")
    assert not (tmp_path / "out").exists() and not (tmp_path / "k").exists()


def test_demo_checks_the_extra_before_downloading_or_writing(tmp_path, capsys, without_detector):
    assert cli.main(["demo", "--workdir", str(tmp_path / "demo"), "--clean-pixel-data"]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()] and "[pixels] extra" in captured.err
    assert "Downloading" not in captured.err and not (tmp_path / "demo").exists()


def test_demo_says_when_the_pixel_sample_could_not_be_had(monkeypatch, capsys):
    """Offline, pydicom 3's get_testdata_file returns None instead of raising: the note is printed all the same."""
    import pydicom.data
    monkeypatch.setattr(pydicom.data, "get_testdata_file", lambda name, download=True: None)
    assert cli._pixel_demo_files() == []
    err = capsys.readouterr().err
    assert "note: US1_UNCR.dcm could not be downloaded (not found): the demo goes on without it" in err
