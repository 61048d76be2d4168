"""Dates in free text as people and scanners write them (issue 13, item 11): the recogniser
(written_dates) on a table of forms, and Clean Descriptors on pydicom's CT_small."""
import pytest

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.written_dates import Reading, redact_dates, written_dates
from support.data import deidentify, read

# (text, what stays, a reading the date must have: (year, two-digit year, month, day))
DATES = [
    ("Sep1999", "*", (1999, None, 9, None)),
    ("MR_brain_Sep1999", "MR_brain_*", (1999, None, 9, None)),
    ("brainSep1999", "brain*", (1999, None, 9, None)),
    ("SEPT 1999", "*", (1999, None, 9, None)),
    ("september, 1999", "*", (1999, None, 9, None)),
    ("Sep '99", "*", (None, 99, 9, None)),
    ("sep-99", "*", (None, 99, 9, None)),
    ("1999 Sep", "*", (1999, None, 9, None)),
    ("23 Sep 1999", "*", (1999, None, 9, 23)),
    ("23Sep1999", "*", (1999, None, 9, 23)),
    ("23-SEP-99", "*", (None, 99, 9, 23)),
    ("23rd of September 1999", "*", (1999, None, 9, 23)),
    ("Sep 23, 1999", "*", (1999, None, 9, 23)),
    ("September 23rd 1999", "*", (1999, None, 9, 23)),
    ("Sep231999", "*", (1999, None, 9, 23)),
    ("1999-Sep-23", "*", (1999, None, 9, 23)),
    ("1999Sep23", "*", (1999, None, 9, 23)),
    ("23 Sep", "*", (None, None, 9, 23)),
    ("sep 23rd", "*", (None, None, 9, 23)),
    ("4 März 1965", "*", (1965, None, 3, 4)),
    ("1 janvier 1970", "*", (1970, None, 1, 1)),
    ("okt. 2019", "*", (2019, None, 10, None)),
    ("1999-09-23", "*", (1999, None, 9, 23)),
    ("1999/9/23", "*", (1999, None, 9, 23)),
    ("1999.09.23", "*", (1999, None, 9, 23)),
    ("1999_09_23", "*", (1999, None, 9, 23)),
    ("19990923", "*", (1999, None, 9, 23)),
    ("23.09.1999", "*", (1999, None, 9, 23)),
    ("23/9/99", "*", (None, 99, 9, 23)),
    ("09/23/1999", "*", (1999, None, 9, 23)),
    ("9-23-99", "*", (None, 99, 9, 23)),
    ("23091999", "*", (1999, None, 9, 23)),
    ("09231999", "*", (1999, None, 9, 23)),
    ("230999", "*", (None, 99, 9, 23)),
    ("04 03 1965", "*", (1965, None, 3, 4)),
    ("1999-09", "*", (1999, None, 9, None)),
    ("09/1999", "*", (1999, None, 9, None)),
    ("9/1999", "*", (1999, None, 9, None)),
    ("09.1999", "*", (1999, None, 9, None)),
    ("199909", "*", (1999, None, 9, None)),
    ("Doe_John_19700101_T1.nrrd", "Doe_John_*_T1.nrrd", (1970, None, 1, 1)),
    ("2024-01-31T12:00", "*T12:00", (2024, None, 1, 31)),
    ("CT head 23 Sep 1999 and Sep1999, T1 3D", "CT head * and *, T1 3D", (1999, None, 9, 23)),
]


@pytest.mark.parametrize("text, kept, reading", DATES, ids=[d[0] for d in DATES])
def test_every_written_date_form_is_recognised(text, kept, reading):
    assert redact_dates(text) == kept
    assert Reading(*reading) in {r for found in written_dates(text) for r in found.readings}


@pytest.mark.parametrize("text", [
    "T1", "3D", "512", "Series 1001", "5 mm", "DWI b1000", "t2_tse_tra_320", "ep2d_diff_3scan", "1.5T", "256x256",
    "1/2", "phase 1/2", "3/4 dose", "12:30", "24 slices", "120 kV", "FOV 240", "3-5 mm", "IR 3000/2", "2019",
    "1.2.840.10008.5.1.4.1.1.2", "version 2.4.5", "0.5.10", "1 2 34", "SE 1_2_3", "0.9x0.9x1", "1.2019", "2019.5",
    "2019-13", "13/2019", "31.02.1999", "Marseille 2019", "septum 2", "decay 12", "Mayo 2020", "may show", "March",
    "MPRAGE 1mm iso", "Head 8CH", "AX T2 FSE 5mm", "3: Axial", "10120", "b=1000 s/mm2",
])
def test_what_is_no_date_stays(text):
    assert written_dates(text) == [] and redact_dates(text) == text


def test_clean_descriptors_removes_compact_and_partial_dates_next_to_kept_words():
    ds = read("CT_small.dcm")
    ds.SeriesDescription = "T1 3D Sep1999 512 ser 3"
    ds.StudyDescription = "follow-up 09/1999, prior 23-SEP-99"
    ds.ImageComments = "compare 1999-09 and sept. 99"
    out, result = deidentify(ds, DeidentifyOptions(clean_descriptors=True))
    assert out.SeriesDescription == "T1 3D * 512 ser 3"
    assert out.StudyDescription == "follow-up *, prior *"
    assert out.ImageComments == "compare * and *"
    assert {"SeriesDescription", "StudyDescription"} <= {item.path for item in result.review if item.kept_in_output}
