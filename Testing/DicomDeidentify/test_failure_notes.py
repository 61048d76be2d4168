"""Review N4: what a popup (which Slicer logs) may say of an error, and the key holders' note that
keeps the details."""
import stat

import pydicom
import pytest
from pydicom.data import get_testdata_file

from DicomDeidentifyLib.errors import SafeError, SideDatabaseRefused, failure_message, shown_text, write_failure_note
from DicomDeidentifyLib.runs import reports_folder


def test_an_errors_text_never_reaches_the_popup_but_the_key_holders_note(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    original = tmp_path / f"{ds.PatientName}_{ds.PatientID}" / "IM0001"   # a CD export named after the patient
    try:
        open(original)
    except OSError as error:
        caught = error
    assert str(ds.PatientID) in str(caught)                  # the text does name the patient
    reports = reports_folder(tmp_path / "secrets" / "pseudonym.key")
    assert reports == tmp_path / "secrets" / "reports"
    note = write_failure_note(reports, caught, "Nothing was imported.")
    text = failure_message("Nothing was imported.", caught, note)
    for value in (str(ds.PatientName), str(ds.PatientID), str(original)):
        assert value not in text and value not in shown_text(caught)
    assert "FileNotFoundError" in text and str(note) in text and "key holders" in text
    assert note.parent == reports and stat.S_IMODE(note.stat().st_mode) == 0o600
    assert stat.S_IMODE(reports.stat().st_mode) == 0o700
    kept = note.read_text()
    assert str(original) in kept and "Traceback" in kept and kept.startswith("Nothing was imported.")
    assert write_failure_note(reports, caught, "again") != note   # one note per failure


def test_a_safe_errors_own_text_is_shown():
    refused = SideDatabaseRefused("The folder chosen as the side database already holds files.")
    assert isinstance(refused, SafeError) and isinstance(refused, ValueError)
    assert shown_text(refused) == str(refused)
    assert failure_message("The side database cannot be shown.", refused, None).endswith(str(refused))
    with pytest.raises(ValueError):   # callers that catch ValueError still do
        raise refused
