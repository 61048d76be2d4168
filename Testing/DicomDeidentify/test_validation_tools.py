"""Outputs checked by real DICOM tools: dciodvfy, dcentvfy (dicom3tools) and dsrdump, dcmdump (dcmtk)."""
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.batch import deidentify_paths
from support.data import KEY, corpus_files, instance_rounds
from support.validators import (DCENTVFY, DCIODVFY, DCMDUMP, DSRDUMP, dcentvfy_errors, dciodvfy_errors,
                                dcmdump_text, dsrdump_ok)

EVERY_OPTION_BUT_UIDS = DeidentifyOptions(
    retain_safe_private=True, retain_device_identity=True, retain_institution_identity=True,
    retain_patient_characteristics=True, dates="modified", clean_descriptors=True,
    clean_structured_content=True, clean_graphics=True)


def test_the_validators_are_installed():
    # setup.sh installs them from Debian's dicom3tools and dcmtk packages
    assert DCIODVFY and DCENTVFY and DSRDUMP and DCMDUMP


@pytest.mark.slow
@pytest.mark.parametrize("options", [DeidentifyOptions(), EVERY_OPTION_BUT_UIDS], ids=["basic", "options"])
def test_dciodvfy_finds_no_new_error_in_any_output(tmp_path, options):
    # Retain UIDs is left out: it copies an input's invalid UID into the new file meta, an error
    # dciodvfy then reports on a new attribute although the input had it already.
    # one destination holds one version of an instance: files that share one go to destinations of their own
    results = [result for n, files in enumerate(instance_rounds(corpus_files()))
               for result in deidentify_paths(files, tmp_path / f"out{n}", options, KEY, jobs=2).results]
    compared, problems = 0, []
    for result in results:
        if result.status != "written":
            continue
        before = dciodvfy_errors(Path(result.source))
        if any("read failed" in line for line in before):
            continue   # dciodvfy cannot read the input (deflated, damaged): nothing to compare with
        new = dciodvfy_errors(Path(result.output)) - before
        if new:
            problems.append(f"{result.source}: {sorted(new)}")
        compared += 1
    assert compared > 150
    assert not problems, "\n".join(problems)


def test_dcentvfy_finds_no_new_inconsistency_across_a_deidentified_series(tmp_path):
    series_dir = Path(get_testdata_file("DICOMDIR")).parent / "TINY_ALPHA" / "PT000000" / "ST000000" / "SE000000"
    inputs = sorted(p for p in series_dir.iterdir() if p.is_file())
    assert len(inputs) > 30
    summary = deidentify_paths([series_dir], tmp_path / "out", DeidentifyOptions(dates="modified"), KEY)
    outputs = [r.output for r in summary.results if r.status == "written"]
    assert len(outputs) == len(inputs)
    assert dcentvfy_errors(outputs) - dcentvfy_errors(inputs) == set()
    # the series still hangs together: one study, one series, one frame of reference
    import pydicom
    heads = [pydicom.dcmread(o, stop_before_pixels=True) for o in outputs]
    assert len({h.StudyInstanceUID for h in heads}) == 1 and len({h.SeriesInstanceUID for h in heads}) == 1
    assert len({h.PatientID for h in heads}) == 1 and len({h.StudyDate for h in heads}) == 1


@pytest.mark.parametrize("name", ["test-SR.dcm", "reportsi.dcm"])
@pytest.mark.parametrize("options", [DeidentifyOptions(), DeidentifyOptions(clean_structured_content=True)],
                         ids=["basic", "clean-structured-content"])
def test_dsrdump_still_parses_a_deidentified_sr(tmp_path, name, options):
    source = Path(get_testdata_file(name))
    # reportsi.dcm references an unknown SOP class: dsrdump reads it only when told to just warn
    lenient = not dsrdump_ok(source)[0]
    assert dsrdump_ok(source, lenient)[0]
    summary = deidentify_paths([source], tmp_path / "out", options, KEY)
    assert summary.count("written") == 1
    ok, text = dsrdump_ok(Path(summary.results[0].output), lenient)
    assert ok, text[:2000]
    assert "CONTAINER" in text


def test_dcmdump_reads_the_output_with_no_original_identity(tmp_path):
    source = get_testdata_file("CT_small.dcm")
    summary = deidentify_paths([source], tmp_path / "out", DeidentifyOptions(), KEY)
    text = dcmdump_text(Path(summary.results[0].output))
    assert "(0012,0062) CS [YES]" in text and "113100" in text
    original = dcmdump_text(Path(source))
    for line in original.splitlines():
        if "PatientName" in line or "SOPInstanceUID" in line:
            value = line.split("[", 1)[1].split("]", 1)[0]
            assert value not in text
