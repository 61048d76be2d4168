"""Dates and date-times of reduced precision under Retain Longitudinal Modified Dates (issue 13, item 6).

PS3.5 6.2 lets a DT leave out components from the right ('2017', '201708', '2017080112') and a TM
too ('12', '1230'); SR content items use them. They are shifted keeping their precision, never
emptied (an empty DATETIME content item makes the SR invalid).
"""
import datetime
from pathlib import Path

import pydicom
import pytest

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.dates import shift_value
from DicomDeidentifyLib.pipeline import deidentify_file
from support.data import KEY, read, save
from support.validators import dsrdump_ok, new_dciodvfy_errors


@pytest.mark.parametrize("vr, value, days, expected", [
    # full values: the date moves back by the days, the rest is kept as written
    ("DA", "20240301", 1, "20240229"),
    ("DT", "20170801120000.123456+0100", 31, "20170701120000.123456+0100"),
    ("DT", "20170801", 365, "20160801"),
    # a year: its middle (2 July; 1 July in a leap year) moves, the year is written
    ("DT", "2017", 182, "2017"),
    ("DT", "2017", 184, "2016"),
    ("DT", "2024", 182, "2024"),
    ("DT", "2024", 183, "2023"),
    ("DT", "2017+0100", 300, "2016+0100"),
    ("DA", "2017", 200, "2016"),
    # a month: its middle (16 August) moves
    ("DT", "201708", 15, "201708"),
    ("DT", "201708", 16, "201707"),
    ("DT", "201703", 365, "201603"),
    ("DT", "201708-0500", 40, "201707-0500"),
    ("DA", "201701", 20, "201612"),
    # a day with hours, minutes, seconds: the day moves, the time stays
    ("DT", "2017080112", 1, "2017073112"),
    ("DT", "201708011230", 1, "201707311230"),
    ("DT", "20170801123000.5", 1, "20170731123000.5"),
    ("DT", "  20170801  ", 1, "20170731"),
    # times are not shifted by a whole-day offset, whatever their precision
    ("TM", "12", 100, "12"), ("TM", "1230", 100, "1230"), ("TM", "123000.123456", 100, "123000.123456"),
])
def test_reduced_precision_values_are_shifted_keeping_their_precision(vr, value, days, expected):
    assert shift_value(vr, value, days) == expected


@pytest.mark.parametrize("vr, value", [
    ("DT", "2017080"), ("DT", "20171301"), ("DT", "20170230"), ("DT", "20170801x"), ("DT", "2017 08"),
    ("DT", "20170801120000.1234567"), ("DT", "2017080112+01"), ("DA", "2017080112"), ("DA", "0000"),
    ("DA", "Doe^John"),
])
def test_what_is_no_date_cannot_be_shifted(vr, value):
    assert shift_value(vr, value, 10) is None   # the engine empties it and lists it for review


def _partial_sr() -> pydicom.Dataset:
    """pydicom's test-SR.dcm with reduced-precision values in its content items."""
    ds = read("test-SR.dcm")
    context = ds.ContentSequence[3].ContentSequence          # DATE, TIME, DATETIME content items
    assert [item.ValueType for item in context] == ["DATE", "TIME", "DATETIME"]
    context[1].Time = "12"
    context[2].DateTime = "201708"
    image = ds.ContentSequence[4]                             # an IMAGE item and a TEXT item below it
    image.ObservationDateTime = "2017080112"
    image.ContentSequence[1].ObservationDateTime = "20170801120000.123+0100"
    ds.ContentSequence[0].ObservationDateTime = "2017"
    return ds


@pytest.mark.parametrize("sampled", [True, False], ids=["sampled", "fast"])
def test_an_sr_with_partial_dates_stays_valid_and_its_dates_move(tmp_path, sampled):
    source = tmp_path / "in.dcm"
    save(_partial_sr(), source)
    engine = Deidentifier(DeidentifyOptions(dates="modified"), KEY)
    engine.record_changes = sampled
    result = deidentify_file(engine, source, tmp_path / "out")
    assert result.status == "written", result.reason
    days = result.patient["date_offset_days"]
    assert 1 <= days <= 365
    out = pydicom.dcmread(result.output)
    moved = lambda *ymd: datetime.date(*ymd) - datetime.timedelta(days=days)
    context = out.ContentSequence[3].ContentSequence
    assert context[2].DateTime == moved(2017, 8, 16).strftime("%Y%m")         # a month stays a month
    assert context[1].Time == "12"                                              # times are not shifted
    assert context[0].Date == moved(2000, 12, 6).strftime("%Y%m%d")
    image = out.ContentSequence[4]
    assert image.ObservationDateTime == moved(2017, 8, 1).strftime("%Y%m%d") + "12"
    assert image.ContentSequence[1].ObservationDateTime == moved(2017, 8, 1).strftime("%Y%m%d") + "120000.123+0100"
    assert out.ContentSequence[0].ObservationDateTime == moved(2017, 7, 2).strftime("%Y")
    assert not [item for item in result.review if "could not be shifted" in item.reason]
    # dcmtk reads it as an SR and dicom3tools finds no error the input did not have
    ok, text = dsrdump_ok(Path(result.output))
    assert ok, text[-2000:]
    assert "DATETIME" in text and "CONTAINER" in text
    assert new_dciodvfy_errors(source, Path(result.output)) == set()
