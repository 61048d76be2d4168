"""Clean Pixel Data: burned-in identity blanked, everything else in the pixels untouched, files valid.

Real OCR (Debian's tesseract through pytesseract) reads back what was written, on images
with text drawn in a real font (support/burned_in.py) and on deid-data's real burned-in
ultrasound. The validators are the real dciodvfy."""
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.burned_in_risk import assess_burned_in
from DicomDeidentifyLib.pipeline import deidentify_file
from DicomDeidentifyLib.pixel_io import PYDICOM_3
from DicomDeidentifyLib.pixel_text import find_text_lines, to_grey8
from support.burned_in import PLANTED, burned_in_dataset, frames_of
from support.data import KEY, read, save
from support.validators import new_dciodvfy_errors

CLEAN = DeidentifyOptions(clean_pixel_data=True)
FORBIDDEN = [piece for pieces in PLANTED.values() for piece in pieces]


def read_back(frames: np.ndarray) -> str:
    """Everything OCR reads in the frames, upper case."""
    return " ".join(text for frame in frames for text, _ in find_text_lines(to_grey8(frame))).upper()


def masked_area(regions, shape) -> np.ndarray:
    mask = np.zeros(shape[1:3], bool)
    for r in regions:
        mask[r["y"]:r["y"] + r["height"], r["x"]:r["x"] + r["width"]] = True
    return mask


CASES = {
    "grey 8-bit": dict(),
    "grey 16-bit, burned-in flag on an MR": dict(bits=16, modality="MR", burned_in="YES"),
    "RGB": dict(color=True),
    "RGB, 3 frames": dict(color=True, frames=3),
    "grey, RLE lossless": dict(compress=RLELossless),
}
if PYDICOM_3:   # pydicom 2.4 cannot encode JPEG 2000
    from pydicom.uid import JPEG2000Lossless
    CASES["RGB, JPEG 2000 lossless"] = dict(color=True, compress=JPEG2000Lossless)


@pytest.mark.parametrize("case", CASES)
def test_burned_in_text_is_blanked_and_nothing_else_changes(tmp_path, case):
    settings = dict(CASES[case])
    compress = settings.pop("compress", None)
    ds = burned_in_dataset(**settings)
    if compress:
        ds.compress(compress)
    source = tmp_path / "in.dcm"
    save(ds, source)
    original = frames_of(pydicom.dcmread(source))
    assert all(piece in read_back(original) for piece in ("DOE", "48151623"))   # OCR does read the planted text
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written", result.reason
    out = pydicom.dcmread(result.output)
    cleaned = frames_of(out)
    assert cleaned.shape == original.shape
    read = read_back(cleaned)
    assert not [piece for piece in FORBIDDEN if piece in read], read
    mask = masked_area(result.pixel["regions"], original.shape)
    assert mask.any() and mask.mean() < 0.25
    assert np.array_equal(cleaned[:, ~mask], original[:, ~mask])           # outside the blanked regions: as it was
    assert result.pixel["verified"] and out.BurnedInAnnotation == "NO"
    assert "113101" in [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert out.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"         # lossless: written uncompressed
    assert out.PhotometricInterpretation == ("RGB" if settings.get("color") else "MONOCHROME2")
    assert not new_dciodvfy_errors(source, Path(result.output))


def test_the_real_burned_in_ultrasound_of_deid_data(tmp_path):
    import deid_data
    source = Path(deid_data.__file__).parent / "data" / "ultrasounds" / "RGB_IMAGE.dcm"
    before = read_back(frames_of(pydicom.dcmread(source)))
    planted = ["ZZZDOWNTIME", "MARY", "00047431395", "4/14/2020", "CLEVELAND", "120907058"]
    assert all(piece in before for piece in planted)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path)
    assert result.status == "written"
    after = read_back(frames_of(pydicom.dcmread(result.output)))
    assert not [piece for piece in planted if piece in after], after
    assert "16CM" in after                          # the depth scale is on the vocabulary: it stays
    assert result.pixel["proven"] and pydicom.dcmread(result.output).BurnedInAnnotation == "NO"
    assert not new_dciodvfy_errors(source, Path(result.output))


def test_images_at_risk_are_held_or_refused_when_not_cleaned(tmp_path):
    ds = burned_in_dataset()
    source = tmp_path / "in.dcm"
    save(ds, source)
    held = deidentify_file(Deidentifier(DeidentifyOptions(), KEY), source, tmp_path / "held")
    # not cleaned: only the whole-image picture the report shows of an uncleaned image (review 18d, finding 5)
    assert held.status == "written" and held.pixel.get("not_cleaned") and "proven" not in held.pixel
    assert [i for i in held.review if i.path == "PixelData" and i.kept_in_output]
    assert pydicom.dcmread(held.output).PixelData == ds.PixelData          # not cleaned: not touched
    refused = deidentify_file(Deidentifier(DeidentifyOptions(burned_in="refuse"), KEY), source, tmp_path / "refused")
    assert refused.status == "skipped" and refused.reason.startswith("refused: burned-in text likely")
    assert not (tmp_path / "refused").exists()


def test_every_image_is_looked_at_and_a_ct_without_text_is_left_as_it_is(tmp_path):
    """Not at risk by its header, a CT still goes through detection; finding no text, its pixels
    stay as they were (same bytes, same transfer syntax) and it is proven clean."""
    assert not assess_burned_in(read("CT_small.dcm")).likely
    source = tmp_path / "ct.dcm"
    save(read("CT_small.dcm"), source)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    out = pydicom.dcmread(result.output)
    assert result.pixel["frames_read"] == [0] and result.pixel["proven"] and not result.pixel["changed"]
    assert out.PixelData == read("CT_small.dcm").PixelData
    assert out.file_meta.TransferSyntaxUID == read("CT_small.dcm").file_meta.TransferSyntaxUID
    assert "113101" in [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert out.BurnedInAnnotation == "NO" and not [i for i in result.review if i.path == "PixelData"]
    off = deidentify_file(Deidentifier(DeidentifyOptions(), KEY), source, tmp_path / "off")   # option off: untouched
    assert not off.pixel and "BurnedInAnnotation" not in pydicom.dcmread(off.output)


def test_region_rules_blank_their_rectangles_on_every_frame(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"name": "test device", "when": {"Modality": {"equals": "US"},
                                                                             "Rows": {"equals": "320"}},
                                            "regions": [[200, 100, 50, 40]]}]}))
    ds = burned_in_dataset(frames=2)
    source = tmp_path / "in.dcm"
    save(ds, source)
    result = deidentify_file(Deidentifier(DeidentifyOptions(clean_pixel_data=True, pixel_rules_file=str(rules)), KEY),
                             source, tmp_path / "out")
    assert {"x": 200, "y": 100, "width": 50, "height": 40, "why": "rule: test device"} in [
        {k: r[k] for k in ("x", "y", "width", "height", "why")} for r in result.pixel["regions"]]
    cleaned = frames_of(pydicom.dcmread(result.output))
    assert (cleaned[:, 100:140, 200:250] == cleaned.min()).all()


def test_without_the_detector_images_are_held_or_refused_not_passed(tmp_path, monkeypatch):
    """The text detector missing (not installed in Slicer yet): nothing is cleaned, the file is held
    for review, a NO from its header is not kept; under refuse nothing is written."""
    from DicomDeidentifyLib import pixel_detector
    monkeypatch.setattr(pixel_detector, "_engine", None)
    monkeypatch.setattr(pixel_detector, "detector_available", lambda: False)
    source = tmp_path / "in.dcm"
    save(burned_in_dataset(burned_in="NO"), source)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written" and not result.pixel
    [item] = [i for i in result.review if i.path == "PixelData"]
    assert item.kept_in_output and "text detector is not installed" in item.reason
    out = pydicom.dcmread(result.output)
    assert out.BurnedInAnnotation == "YES" and "113101" not in [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    refused = deidentify_file(Deidentifier(DeidentifyOptions(clean_pixel_data=True, burned_in="refuse"), KEY), source,
                              tmp_path / "refused")
    assert refused.status == "skipped" and "could not be cleaned" in refused.reason
    assert not (tmp_path / "refused").exists()


def test_without_tesseract_the_second_reading_is_the_detector_on_another_image(tmp_path, monkeypatch):
    """Tesseract missing (as inside Slicer): the check after blanking still has a second reading."""
    monkeypatch.setenv("PATH", "/nonexistent")
    source = tmp_path / "in.dcm"
    save(burned_in_dataset(), source)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written" and result.pixel["second_reader"] == "detector, enlarged and inverted"
    assert result.pixel["proven"] and pydicom.dcmread(result.output).BurnedInAnnotation == "NO"
    monkeypatch.undo()
    assert not [p for p in FORBIDDEN if p in read_back(frames_of(pydicom.dcmread(result.output)))]


def test_the_run_report_shows_each_cleaned_image_before_and_after(tmp_path):
    from DicomDeidentifyLib.runs import deidentify_folder
    (tmp_path / "in").mkdir()
    save(burned_in_dataset(), tmp_path / "in" / "us.dcm")
    save(read("CT_small.dcm"), tmp_path / "in" / "ct.dcm")
    run = deidentify_folder([tmp_path / "in"], tmp_path / "out", CLEAN, key_file=tmp_path / "k" / "key",
                            create_key=True)
    page = run.report_html.read_text()
    assert "Pixels cleaned (1)" in page
    assert 'src="images/1-before.png"' in page and 'src="images/1-after.png"' in page
    document = json.loads(run.report_json.read_text())
    [cleaned] = document["pixels"]
    assert cleaned["verified"] and cleaned["regions"] and "before_png" not in cleaned
    from PIL import Image
    for when in ("before", "after"):
        picture = run.report_html.parent / cleaned[f"{when}_image"]
        assert (picture.stat().st_mode & 0o777) == 0o600
        assert Image.open(picture).size == (480, 320)   # the whole frame at full resolution (rows 320)
    from DicomDeidentifyLib.report import cleaned_images
    [shown] = cleaned_images(run.report_json)
    assert shown["source"].endswith("us.dcm") and Path(shown["before"]).exists() and Path(shown["after"]).exists()
    assert Image.open(shown["before"]).size[0] == 192 and Path(shown["before_full"]).exists()   # small: Slicer's panel
    assert all(not key.endswith("_png") for r in run.summary.results for key in r.pixel)   # thumbnails: report only


COMPRESSED = ["SC_rgb_dcmtk_+eb+cy+s2.dcm",      # JPEG baseline, YBR_FULL_422
              "SC_rgb_jpeg_gdcm.dcm",            # JPEG lossless
              "SC_rgb_rle.dcm",                  # RLE
              "SC_rgb_gdcm_KY.dcm",              # JPEG 2000
              "emri_small_jpeg_2k_lossless.dcm"]  # JPEG 2000 lossless, 10 frames, 16-bit grey
if PYDICOM_3:   # pydicom-data's JPEG-LS files are found by pydicom 3 only
    COMPRESSED.append("SC_rgb_jls_lossy_sample.dcm")


@pytest.mark.parametrize("name", COMPRESSED)
def test_compressed_images_are_decoded_checked_and_kept_as_they_are_when_nothing_is_found(tmp_path, name):
    ds = read(name)
    ds.BurnedInAnnotation = "YES"
    source = tmp_path / "in.dcm"
    save(ds, source)
    original = frames_of(pydicom.dcmread(source))
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written", result.reason
    out = pydicom.dcmread(result.output)
    assert int(out.get("NumberOfFrames", 1) or 1) == original.shape[0]
    assert np.array_equal(frames_of(out), original)      # nothing to blank here: the pixels as decoded
    assert not result.pixel["changed"] and result.pixel["proven"]
    assert out.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID   # untouched: not re-encoded
    assert out.PixelData == ds.PixelData
    assert not new_dciodvfy_errors(source, Path(result.output))


def test_clean_graphics_blanks_identifying_text_drawn_into_an_overlay(tmp_path):
    from PIL import Image, ImageDraw, ImageFont
    from DicomDeidentifyLib.overlay_cleaner import pack_bits, unpack_bits
    from support.burned_in import FONT
    ds = read("MR-SIEMENS-DICOM-WithOverlays.dcm")
    ds.PatientName, ds.PatientID = "Doe^Jane", "48151623"
    rows, columns = ds[0x60000010].value, ds[0x60000011].value
    picture = Image.new("L", (columns, rows), 0)
    draw = ImageDraw.Draw(picture)
    draw.text((10, 10), "DOE JANE 48151623", fill=255, font=ImageFont.truetype(FONT, 20))
    draw.rectangle((150, 150, 250, 250), outline=255, width=3)   # a graphic, not text
    original_bits = (np.asarray(picture) > 127).astype(np.uint8)
    ds[0x60003000].value = pack_bits(original_bits.ravel())
    source = tmp_path / "in.dcm"
    save(ds, source)
    read_before = read_back(original_bits[np.newaxis] * 255)
    assert "DOE" in read_before and "48151623" in read_before
    result = deidentify_file(Deidentifier(DeidentifyOptions(clean_graphics=True), KEY), source, tmp_path / "out")
    assert result.status == "written"
    out = pydicom.dcmread(result.output)
    bits = np.array(unpack_bits(out[0x60003000].value)[:rows * columns], np.uint8).reshape(rows, columns)
    after = read_back(bits[np.newaxis] * 255)
    assert "DOE" not in after and "48151623" not in after and "JANE" not in after
    assert (bits[150:251, 150:251] == original_bits[150:251, 150:251]).all()   # the graphic stays
    assert result.pixel["overlay_regions"] and not [i for i in result.review if i.path.startswith("OverlayData")]
    assert not new_dciodvfy_errors(source, Path(result.output))


def test_pixels_that_cannot_be_cleaned_are_held_with_the_reason(tmp_path):
    ds = burned_in_dataset()
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 1, 0   # bit-packed: not cleaned here
    ds.PixelData = b"\x00" * (ds.Rows * ds.Columns // 8)
    source = tmp_path / "in.dcm"
    save(ds, source)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written" and not result.pixel
    [item] = [i for i in result.review if i.path == "PixelData"]
    assert item.kept_in_output and "1 bits allocated" in item.reason
    assert pydicom.dcmread(result.output).PixelData == ds.PixelData


def test_a_long_series_is_cleaned_and_still_held_for_review(tmp_path):
    """Only 8 frames of a long series are read: what the others show is for a person to check."""
    source = tmp_path / "in.dcm"
    save(burned_in_dataset(rows=160, columns=320, frames=10), source)
    result = deidentify_file(Deidentifier(CLEAN, KEY), source, tmp_path / "out")
    assert result.status == "written" and len(result.pixel["frames_read"]) == 8
    assert [i for i in result.review if i.kept_in_output and "of 10 frames" in i.reason]
    not_read = frames_of(pydicom.dcmread(result.output))[[2, 7]]   # frames OCR did not read: blanked too
    assert not [p for p in FORBIDDEN if p in read_back(not_read)]


def test_a_derived_secondary_reconstruction_is_not_flagged_without_another_sign():
    """A scanner's own MPR or subtraction says DERIVED\\SECONDARY: not a sign of burned-in text in a CT or
    MR; a screen-capture conversion type, the SC class or Burned In Annotation YES still are."""
    for name in ("CT_small.dcm", "MR_small.dcm"):
        ds = read(name)
        ds.ImageType = ["DERIVED", "SECONDARY", "MPR"]
        assert not assess_burned_in(ds).likely, assess_burned_in(ds).reasons
        ds.ConversionType = "WSD"
        assert assess_burned_in(ds).likely
        del ds.ConversionType
        ds.BurnedInAnnotation = "YES"
        assert assess_burned_in(ds).likely
        del ds.BurnedInAnnotation
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        assert assess_burned_in(ds).likely
    ds = read("CT_small.dcm")
    ds.ImageType = ["DERIVED", "SECONDARY", "SCREEN SHOT"]
    assert assess_burned_in(ds).likely
    us = read("US1_UNCR.dcm")
    us.ImageType = ["DERIVED", "SECONDARY"]
    assert assess_burned_in(us).likely                     # an ultrasound is at risk anyway


@pytest.mark.parametrize("name", ["693_UNCI.dcm", "US1_UNCR.dcm"])
def test_the_detectors_float32_input_is_rapidocrs_own(name):
    """The detector's input prepared in float32 (pixel_detector, for speed) holds the values RapidOCR's
    own float64 preparation gives, on a real grey CT (as the detector sees it) and a real RGB ultrasound."""
    from pydicom.data import get_testdata_file
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    from DicomDeidentifyLib.pixel_detector import _DetPreProcess, _rapidocr, detector_image
    from DicomDeidentifyLib.pixel_io import decode_frames
    _rapidocr()
    image = detector_image(decode_frames(pydicom.dcmread(get_testdata_file(name)))[0])
    rgb = np.ascontiguousarray(image if image.ndim == 3 else np.repeat(image[..., np.newaxis], 3, axis=2))
    for side in (512, 736):
        theirs = DetPreProcess(side, "min", [0.5] * 3, [0.5] * 3)(rgb)
        ours = _DetPreProcess(side, "min")(rgb)
        assert ours.dtype == np.float32 and ours.shape == theirs.shape
        assert np.abs(ours - theirs).max() < 1e-6
