"""Values written from the user (--identity fixed) in a character set that holds them (issue 13, item 7).

Inputs are pydicom's CT_small.dcm with the character set and kept non-ASCII text set per case; the
right value is the fixed name read back by pydicom as typed, every kept value read back as in the
input, and no dciodvfy error the input did not have."""
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.pipeline import deidentify_file
from support.data import KEY, read, save
from support.validators import new_dciodvfy_errors

CLI = Path(sys.executable).parent / "dicom-deidentify"
LATIN_2_NAME = "Dvořák^Zoë"      # ř is in no Latin-1 or Japanese set
LATIN_1_NAME = "Müller^Jürgen"


def source(folder: Path, charset, manufacturer: str, region: str) -> Path:
    ds = read("CT_small.dcm")
    if charset is None:
        del ds.SpecificCharacterSet
    else:
        ds.SpecificCharacterSet = charset
    ds.PatientName = "Yamada^Taro"
    ds.Manufacturer = manufacturer                       # kept by the basic profile, never decoded
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "T-D1100", "SRT", region
    ds.AnatomicRegionSequence = Sequence([item])         # kept and walked: a nested text value
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "input.dcm"
    save(ds, path)
    return path


def deidentified(path: Path, name: str, sampled: bool, patient_id: str = "Zoë1"):
    options = DeidentifyOptions(identity="fixed", fixed_patient_name=name, fixed_patient_id=patient_id)
    engine = Deidentifier(options, KEY)
    engine.record_changes = sampled   # sampled files are parsed whole; the others copy kept bytes
    result = deidentify_file(engine, path, path.parent / "out")
    assert result.status == "written", result.reason
    return Path(result.output), pydicom.dcmread(result.output)


CASES = [   # input character set, kept manufacturer, kept code meaning, name, output character set
    (None, "GE MEDICAL SYSTEMS", "Skull", LATIN_1_NAME, "ISO_IR 192"),
    ("ISO_IR 100", "Röntgengeräte", "Schädel", LATIN_2_NAME, "ISO_IR 192"),
    (["", "ISO 2022 IR 87"], "山田製作所", "頭蓋", LATIN_2_NAME, ["", "ISO 2022 IR 87", "ISO 2022 IR 101"]),
    (["ISO 2022 IR 13", "ISO 2022 IR 87"], "ﾔﾏﾀﾞ", "頭蓋", LATIN_1_NAME,
     ["ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 100"]),
    ("ISO_IR 100", "Röntgengeräte", "Schädel", LATIN_1_NAME, "ISO_IR 100"),   # holds it already: unchanged
    ("ISO_IR 192", "Röntgengeräte", "頭蓋", LATIN_2_NAME, "ISO_IR 192"),
]


@pytest.mark.parametrize("sampled", [False, True], ids=["copied", "sampled"])
@pytest.mark.parametrize("charset, manufacturer, region, name, expected", CASES)
def test_the_output_character_set_holds_the_fixed_name(tmp_path, charset, manufacturer, region, name, expected,
                                                       sampled):
    path = source(tmp_path, charset, manufacturer, region)
    output, out = deidentified(path, name, sampled)
    found = out.SpecificCharacterSet
    assert (list(found) if not isinstance(found, str) else found) == expected
    assert str(out.PatientName) == name and out.PatientID == "Zoë1"
    assert out.Manufacturer == manufacturer and out.AnatomicRegionSequence[0].CodeMeaning == region
    assert not new_dciodvfy_errors(path, output)


def test_text_that_does_not_decode_in_its_character_set_fails_the_file(tmp_path):
    ds = read("CT_small.dcm")
    ds.SpecificCharacterSet = "ISO_IR 192"
    path = tmp_path / "input.dcm"
    save(ds, path)
    raw = path.read_bytes()
    manufacturer = b"GE MEDICAL SYSTEMS"
    assert manufacturer in raw
    # declared JIS X 0201 (ISO_IR 13) but holding bytes that are none of its characters
    path.write_bytes(raw.replace(b"ISO_IR 192", b"ISO_IR 13 ").replace(manufacturer, b"GE MEDICAL SYST\xfd\xfdS"))
    engine = Deidentifier(DeidentifyOptions(identity="fixed", fixed_patient_name=LATIN_2_NAME), KEY)
    result = deidentify_file(engine, path, tmp_path / "out")
    assert result.status == "failed" and "ISO_IR 192" in result.reason and "Manufacturer" in result.reason
    assert "MEDICAL" not in result.reason and not (tmp_path / "out").exists()


def test_an_ascii_fixed_name_leaves_the_character_set_as_it_was(tmp_path):
    path = source(tmp_path, ["", "ISO 2022 IR 87"], "山田製作所", "頭蓋")
    _output, out = deidentified(path, "ANONYMOUS", False, patient_id="ANONYMOUS")
    assert list(out.SpecificCharacterSet) == ["", "ISO 2022 IR 87"] and out.Manufacturer == "山田製作所"


def run(*args):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_the_command_line_writes_the_fixed_name_as_typed(tmp_path):
    path = source(tmp_path / "in", None, "GE MEDICAL SYSTEMS", "Skull")
    result = run("anonymize", path.parent, "--output", tmp_path / "out", "--key-file", tmp_path / "s" / "k",
                 "--create-key", "--identity", "fixed", "--patient-name", LATIN_2_NAME, "--quiet")
    assert result.returncode == 0, result.stderr
    [output] = (tmp_path / "out").rglob("*.dcm")
    out = pydicom.dcmread(output)
    assert out.SpecificCharacterSet == "ISO_IR 192" and str(out.PatientName) == LATIN_2_NAME
    assert LATIN_2_NAME.encode("utf-8") in output.read_bytes()


@pytest.mark.parametrize("flag, value, said", [("--patient-name", "Doe\\John", "backslash"),
                                               ("--patient-id", "A" * 65, "64 characters"),
                                               ("--patient-name", "Doe\x1b$B", "control character")])
def test_a_fixed_value_no_file_can_hold_is_refused_before_anything_is_written(tmp_path, flag, value, said):
    path = source(tmp_path / "in", None, "GE MEDICAL SYSTEMS", "Skull")
    result = run("anonymize", path.parent, "--output", tmp_path / "out", "--key-file", tmp_path / "s" / "k",
                 "--create-key", "--identity", "fixed", flag, value)
    assert result.returncode == 2 and said in result.stderr and flag in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "s").exists()


@pytest.mark.parametrize("charset, expected", [(None, "ISO_IR 192"),
                                               (["", "ISO 2022 IR 87"], ["", "ISO 2022 IR 87", "ISO 2022 IR 101"])])
def test_a_value_a_reviewer_typed_is_written_in_a_character_set_that_holds_it(tmp_path, charset, expected):
    from DicomDeidentifyLib.dicom_io import read_dataset, write_dataset
    from DicomDeidentifyLib.results import ReviewItem
    from DicomDeidentifyLib.review import ReviewDecision, apply_decisions
    path = source(tmp_path, charset, "山田製作所" if charset else "GE MEDICAL SYSTEMS", "Skull")
    dataset = read_dataset(path)
    item = ReviewItem("InstitutionName", "InstitutionName", "LO", "kept by option", str(dataset.InstitutionName),
                      kept_in_output=True)
    decision = ReviewDecision("InstitutionName", "edit", new_value="Nemocnice Dvořák")
    assert apply_decisions(dataset, [item], [decision]) == [("InstitutionName", "edit")]
    write_dataset(dataset, tmp_path / "edited.dcm")
    out = pydicom.dcmread(tmp_path / "edited.dcm")
    found = out.SpecificCharacterSet
    assert (list(found) if not isinstance(found, str) else found) == expected
    assert out.InstitutionName == "Nemocnice Dvořák" and out.PatientName == "Yamada^Taro"
    assert out.Manufacturer == ("山田製作所" if charset else "GE MEDICAL SYSTEMS")


@pytest.mark.parametrize("sampled", [False, True], ids=["copied", "sampled"])
def test_a_fixed_name_inside_an_item_with_its_own_character_set_is_written_in_a_set_that_holds_it(tmp_path,
                                                                                                   sampled):
    """pydicom's chrSQEncoding.dcm: top level ISO_IR 192, a Requested Procedure Code Sequence item
    declaring ISO 2022 IR 13\\ISO 2022 IR 87 with a Patient's Name in it (review of issue 13, F5).
    The item's set gets the code extension for the fixed name's letters (its Japanese values stay
    valid); the name reads back as typed at both levels. Given pixel data and a Study Instance UID
    (the charset file is a header only, which dicom_io refuses as cut off)."""
    from pydicom.data import get_charset_files
    ds = pydicom.dcmread(get_charset_files("chrSQEncoding.dcm")[0])
    ds.SOPClassUID, ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.PatientName = "Yamada^Taro"
    path = tmp_path / "input.dcm"
    save(ds, path)
    code_value = ds.RequestedProcedureCodeSequence[0].CodeValue
    for name in (LATIN_1_NAME, LATIN_2_NAME):
        output, out = deidentified(path, name, sampled)
        item = out.RequestedProcedureCodeSequence[0]
        assert str(item.PatientName) == name and str(out.PatientName) == name
        assert list(item.SpecificCharacterSet)[:2] == ["ISO 2022 IR 13", "ISO 2022 IR 87"]
        assert len(item.SpecificCharacterSet) == 3 and out.SpecificCharacterSet == "ISO_IR 192"
        assert item.CodeValue == code_value
        assert b"?" not in output.read_bytes().split(b"\x10\x00\x10\x00PN", 2)[-1][:40]


def test_a_fixed_name_in_an_item_without_code_extensions_re_encodes_that_item(tmp_path):
    """An item declaring ISO_IR 100 that receives a Czech name: that item is re-encoded as
    ISO_IR 192 (its Latin-1 text decoded first), the top level (ISO_IR 101 already holds it) stays."""
    ds = read("CT_small.dcm")
    ds.SpecificCharacterSet = "ISO_IR 101"
    item = Dataset()
    item.SpecificCharacterSet = "ISO_IR 100"
    item.PatientName, item.CodeMeaning = "Yamada^Taro", "Schädel"
    ds.RequestedProcedureCodeSequence = Sequence([item])
    path = tmp_path / "input.dcm"
    save(ds, path)
    _output, out = deidentified(path, LATIN_2_NAME, True)
    inner = out.RequestedProcedureCodeSequence[0]
    assert out.SpecificCharacterSet == "ISO_IR 101" and str(out.PatientName) == LATIN_2_NAME
    assert inner.SpecificCharacterSet == "ISO_IR 192" and str(inner.PatientName) == LATIN_2_NAME
    assert inner.CodeMeaning == "Schädel"


def test_a_value_a_reviewer_typed_inside_an_item_with_its_own_character_set_is_written_in_it(tmp_path):
    """chrSQEncoding.dcm's Japanese item: a reviewer's "Dvořák" for its Code Value extends that item's set."""
    from pydicom.data import get_charset_files
    from DicomDeidentifyLib.dicom_io import write_dataset
    from DicomDeidentifyLib.results import ReviewItem
    from DicomDeidentifyLib.review import ReviewDecision, apply_decisions
    dataset = pydicom.dcmread(get_charset_files("chrSQEncoding.dcm")[0])
    path = "RequestedProcedureCodeSequence[0].CodeValue"
    item = ReviewItem(path, "CodeValue", "SH", "kept", "CodeValue", kept_in_output=True)
    decision = ReviewDecision("RequestedProcedureCodeSequence[*].CodeValue", "edit", new_value="Dvořák")
    assert apply_decisions(dataset, [item], [decision]) == [(path, "edit")]
    write_dataset(dataset, tmp_path / "edited.dcm")
    inner = pydicom.dcmread(tmp_path / "edited.dcm").RequestedProcedureCodeSequence[0]
    assert list(inner.SpecificCharacterSet) == ["ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 101"]
    assert inner.CodeValue == "Dvořák" and str(inner.PatientName) == "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"


@pytest.mark.parametrize("sampled", [False, True], ids=["copied", "sampled"])
def test_the_original_name_of_an_item_with_its_own_character_set_is_searched_in_that_set(tmp_path, sampled):
    """chrSQEncoding's item name 'やまだ' (a component of its Patient's Name, in ISO 2022 IR 87) planted
    in the item's kept Code Value: the output check finds it in the item's encoding and fails the file."""
    from pydicom.data import get_charset_files
    ds = pydicom.dcmread(get_charset_files("chrSQEncoding.dcm")[0])
    ds.SOPClassUID, ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.RequestedProcedureCodeSequence[0].CodeValue = "やまだ"
    path = tmp_path / "input.dcm"
    save(ds, path)
    engine = Deidentifier(DeidentifyOptions(identity="fixed", fixed_patient_name=LATIN_1_NAME), KEY)
    engine.record_changes = sampled
    result = deidentify_file(engine, path, tmp_path / "out")
    assert result.status == "failed", result.reason
    assert "RequestedProcedureCodeSequence[0].PatientName" in result.reason and "やまだ" not in result.reason
    assert not (tmp_path / "out").exists() or not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
