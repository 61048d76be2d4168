"""Clean Pixel Data measured on a corpus with known boxes (support/burned_in.planted_dataset): names,
IDs, dates and an institution drawn with real fonts into pydicom's real CT, MR and US images, over
tissue and background, at several sizes and contrasts.

Measured on pixels, not by reading: every planted box is blanked, no pixel outside the blanked
regions changed, and no file says Burned In Annotation NO while a box still holds text pixels.
Then read: neither reader (the detector, Tesseract) finds a planted string after cleaning."""
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.pipeline import deidentify_file
from DicomDeidentifyLib.pixel_detector import detect_text, detector_image
from DicomDeidentifyLib.pixel_text import find_text_lines, to_grey8
from support.burned_in import CORPUS_IMAGES, blanked_mask, box_blanked, frames_of, planted_dataset
from support.data import KEY, save
from support.validators import new_dciodvfy_errors

CLEAN = DeidentifyOptions(clean_pixel_data=True)
CASES = [(name, None) for name in CORPUS_IMAGES] + [("693_UNCI.dcm", RLELossless)]


def pieces(text: str) -> list:
    """The parts of a planted line that must not be readable: its words of three characters or more."""
    return [word.strip(",:").upper() for word in text.split() if len(word.strip(",:")) >= 3]


def everything_read(frame) -> str:
    grey = to_grey8(frame)
    detector = " ".join(region.text for region in detect_text(detector_image(frame)))
    tesseract = " ".join(text for text, _ in find_text_lines(grey))
    return f"{detector} {tesseract}".upper().replace(" ", "")


@pytest.mark.parametrize("name, compression", CASES, ids=[f"{n}{'-rle' if c else ''}" for n, c in CASES])
def test_every_planted_box_is_blanked_and_nothing_else_changes(tmp_path, name, compression):
    ds, planted = planted_dataset(name)
    if compression:
        ds.compress(compression)
    source = tmp_path / "in.dcm"
    save(ds, source)
    before = frames_of(pydicom.dcmread(source))
    assert {p.over for p in planted} == {"tissue", "background"} or name == "US1_UNCR.dcm"
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written", result.reason
    out = pydicom.dcmread(result.output)
    after = frames_of(out)
    fill = before.min()
    missed = [p.text for p in planted if not box_blanked(after[0], p, fill)]
    assert not missed, result.pixel["regions"]                            # recall: every box, on pixels
    blanked = blanked_mask(result.pixel["regions"], after.shape[1:3])
    assert np.array_equal(after[:, ~blanked], before[:, ~blanked])         # nothing else changed
    assert blanked.mean() < (0.5 if name.startswith("US") else 0.35)    # the image is still there (the US
                                                                           # has its own device text too)
    assert result.pixel["proven"] and out.BurnedInAnnotation == "NO"
    assert "113101" in [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    read = everything_read(after[0])
    assert not [piece for p in planted for piece in pieces(p.text) if piece.replace(" ", "") in read], read
    assert not new_dciodvfy_errors(source, Path(result.output))


def test_a_box_left_with_text_is_never_marked_no(tmp_path, monkeypatch):
    """A detector that misses a line (simulated: its regions for one line dropped): the check after
    blanking finds it, and the file is blanked there or held, never NO with text left."""
    from DicomDeidentifyLib import pixel_cleaner
    ds, planted = planted_dataset("693_UNCI.dcm")
    ds.BurnedInAnnotation = "NO"                                           # the header's word is no evidence
    source = tmp_path / "in.dcm"
    save(ds, source)
    real = pixel_cleaner.detect_text
    calls = []

    def missing_the_mrn(grey, scale=1.0, read=True):
        calls.append(1)
        found = real(grey, scale, read)
        return [r for r in found if "1234567" not in r.text] if len(calls) == 1 else found
    monkeypatch.setattr(pixel_cleaner, "detect_text", missing_the_mrn)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    out = pydicom.dcmread(result.output)
    after = frames_of(out)
    mrn = next(p for p in planted if p.text == "MRN1234567")
    assert box_blanked(after[0], mrn, frames_of(pydicom.dcmread(source)).min()) or out.BurnedInAnnotation != "NO"
    assert any(r["why"].endswith("check)") or "second reader" in r["why"] for r in result.pixel["regions"])


def test_a_file_whose_check_keeps_finding_text_is_held_and_never_no(tmp_path, monkeypatch):
    """Text that blanking cannot remove (simulated: the check always reports a region): the file is
    held with the region listed, loses the NO of its header, and under refuse is not written."""
    from DicomDeidentifyLib import pixel_cleaner
    from DicomDeidentifyLib.pixel_detector import TextRegion
    ds, _planted = planted_dataset("CT_small.dcm")
    ds.BurnedInAnnotation = "NO"
    source = tmp_path / "in.dcm"
    save(ds, source)
    monkeypatch.setattr(pixel_cleaner, "second_reading",
                        lambda grey: [TextRegion(60, 60, 30, 8, "JANE DOE", 0.9, "tesseract")])
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    out = pydicom.dcmread(result.output)
    assert not result.pixel["proven"] and result.pixel["unexplained"]
    assert out.BurnedInAnnotation == "YES" and "113101" not in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    [item] = [i for i in result.review if i.path == "PixelData"]
    assert item.kept_in_output and "not proven clean" in item.reason and "(60, 60) 30x8" in item.reason
    assert "JANE" not in item.reason                                       # what was read: report only
    refused = deidentify_file(Deidentifier(DeidentifyOptions(clean_pixel_data=True, burned_in="refuse"), KEY),
                              source, tmp_path / "refused")
    assert refused.status == "skipped" and "not proven clean" in refused.reason
    assert not (tmp_path / "refused").exists()


def test_a_blank_too_small_leaves_a_remnant_that_the_check_finds(tmp_path, monkeypatch):
    """A blank that covers only the left half of a line (simulated: the first pass's region for the
    MRN line over tissue cut to its left half, then blanked by the library's own code): the check's
    detector finds the rest ("4567"), it is blanked, and the line ends fully blanked or the file is
    not NO. (A detector run on a crop around the blank missed this remnant: why the check detects
    the whole frame; measured 2026-12-03.)"""
    from DicomDeidentifyLib import pixel_cleaner
    from DicomDeidentifyLib.pixel_detector import TextRegion
    ds, planted = planted_dataset("693_UNCI.dcm")
    source = tmp_path / "in.dcm"
    save(ds, source)
    real = pixel_cleaner.detect_text
    runs = []

    def cutting_the_mrn(grey, scale=1.0, read=True):
        runs.append(1)
        found = real(grey, scale, read)
        if len(runs) > 1:
            return found
        return [TextRegion(r.x, r.y, r.width // 2, r.height, r.text, r.confidence, r.reader)
                if "1234567" in r.text else r for r in found]
    monkeypatch.setattr(pixel_cleaner, "detect_text", cutting_the_mrn)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    out = pydicom.dcmread(result.output)
    mrn = next(p for p in planted if p.text == "MRN1234567")
    checked = [r for r in result.pixel["regions"] if r["why"] == "text (detector, check)"]
    assert any(r["x"] + r["width"] > mrn.box[0] + mrn.box[2] // 2 and abs(r["y"] - mrn.box[1]) < 2 * mrn.box[3]
               for r in checked), checked
    assert box_blanked(frames_of(out)[0], mrn, frames_of(pydicom.dcmread(source)).min()) or out.BurnedInAnnotation != "NO"
