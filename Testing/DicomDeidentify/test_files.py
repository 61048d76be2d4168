"""Whole files: every real test file, bad input, file meta, pixel data, character sets, no leaks."""
import gc
import hashlib
import re
import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_charset_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.actions import CLEAN, KEEP, ActionResolver
from DicomDeidentifyLib.batch import deidentify_paths
from DicomDeidentifyLib.dicom_io import IMPLEMENTATION_CLASS_UID
from DicomDeidentifyLib.dummies import dummy_for
from DicomDeidentifyLib.pipeline import deidentify_file
from DicomDeidentifyLib.tables import profile_table
from DicomDeidentifyLib.results import RunSummary
from support.data import KEY, corpus_files, data_file, instance_rounds, read, save

# Files of the corpus that are broken on purpose, and why they must fail.
BROKEN = {
    "MR_truncated.dcm": "truncated",
    "rtplan_truncated.dcm": "truncated",
    "emri_small_jpeg_2k_lossless_too_short.dcm": "truncated",
    "meta_missing_tsyntax.dcm": "fragment",
    "nested_priv_SQ.dcm": "fragment",
    "empty_charset_LEI.dcm": "fragment",
}
COMPRESSED_NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}


def digest_tree(paths):
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    files = list(corpus_files())
    before = digest_tree(files)
    output = tmp_path_factory.mktemp("corpus") / "out"
    # many corpus files share a SOP Instance UID (SC_rgb*, OBXXXX1A*, RG1_*: other transfer syntaxes or
    # pixels); one destination keeps one version of an instance, so each round of unique ones has its own
    summary = RunSummary()
    for number, members in enumerate(instance_rounds(files)):
        summary.results += deidentify_paths(members, output / f"round-{number}", DeidentifyOptions(), KEY,
                                            jobs=2).results
        # the workers are forked with the garbage collector's objects frozen; the caller (Slicer,
        # a long-lived process) must get normal collection back
        assert gc.get_freeze_count() == 0
    return files, before, output, summary


def test_every_test_file_is_deidentified_or_refused_with_a_reason(corpus_run):
    files, _, output, summary = corpus_run
    assert len(summary.results) == len(files)
    by_name = {}
    for result in summary.results:
        by_name.setdefault(Path(result.source).name, []).append(result)
        assert result.status in ("written", "skipped", "failed")
        if result.status != "written":
            assert result.reason, result.source
    for name, why in BROKEN.items():
        assert [r.status for r in by_name[name]] == ["failed"], name
        assert why in by_name[name][0].reason or (why == "fragment" and "fragment" in by_name[name][0].reason)
    readable_instances = 0
    for result in summary.results:
        if Path(result.source).name in BROKEN or result.status == "skipped":
            continue
        assert result.status == "written", f"{result.source}: {result.reason}"
        readable_instances += 1
    assert readable_instances > 200
    # Nothing was written for the refused files: one output per written result, no temp files.
    outputs = [p for p in output.rglob("*") if p.is_file()]
    assert len(outputs) == summary.count("written")
    assert not [p for p in outputs if p.name.startswith(".") or p.suffix != ".dcm"]


def test_skips_name_their_reason(corpus_run):
    _, _, _, summary = corpus_run
    reasons = {Path(r.source).name: r.reason for r in summary.results if r.status == "skipped"}
    assert "not a DICOM file" in reasons["README.txt"]
    assert "DICOMDIR" in reasons["DICOMDIR"]
    assert any("already present" in r for r in reasons.values())   # byte-identical copies in the corpus


def test_inputs_are_never_modified(corpus_run):
    files, before, _, _ = corpus_run
    assert digest_tree(files) == before


def test_outputs_carry_markers_and_a_new_file_meta(corpus_run):
    _, _, _, summary = corpus_run
    for result in summary.results:
        if result.status != "written":
            continue
        raw = Path(result.output).read_bytes()
        assert raw[:128] == b"\x00" * 128 and raw[128:132] == b"DICM"
        ds = pydicom.dcmread(result.output)
        meta = ds.file_meta
        assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
        assert "SourceApplicationEntityTitle" not in meta and "PrivateInformation" not in meta
        assert meta.MediaStorageSOPInstanceUID.startswith("2.25.")
        # a few inputs carry the SOP Instance UID only in their meta; none gets one invented
        assert meta.MediaStorageSOPInstanceUID == ds.get("SOPInstanceUID", meta.MediaStorageSOPInstanceUID)
        assert ds.PatientIdentityRemoved == "YES"


def test_compressed_pixel_data_keeps_its_bytes(corpus_run):
    _, _, _, summary = corpus_run
    compared = 0
    for result in summary.results:
        if result.status != "written":
            continue
        out = pydicom.dcmread(result.output)
        if out.file_meta.TransferSyntaxUID in COMPRESSED_NATIVE or "PixelData" not in out:
            continue
        original = pydicom.dcmread(result.source, force=True)
        assert out.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        assert out.PixelData == original.PixelData, result.source
        compared += 1
    assert compared > 50


def test_burned_in_ultrasounds_from_deid_data_are_held_for_review_without_clean_pixel_data(tmp_path):
    import deid_data
    source = Path(deid_data.__file__).parent / "data" / "ultrasounds" / "RGB_IMAGE.dcm"
    result = deidentify_file(Deidentifier(DeidentifyOptions(), KEY), source, tmp_path)
    assert result.status == "written"
    assert any(r.path == "PixelData" and r.kept_in_output and "modality US" in r.reason for r in result.review)


@pytest.mark.parametrize("name", ["chrH31.dcm", "chrX1.dcm", "chrJapMulti.dcm", "chrKoreanMulti.dcm",
                                  "chrArab.dcm", "chrRuss.dcm", "chrGreek.dcm"])
def test_names_in_other_character_sets_leave_no_trace(tmp_path, name):
    original = pydicom.dcmread(get_charset_files(name)[0])
    if "PixelData" not in original:
        # chrJapMulti and chrKoreanMulti are CR images whose pixel data pydicom left out: without
        # it they are refused as cut off (dicom_io._check_complete), so the image gets its pixels
        original.add_new(0x7FE00010, "OW", bytes(original.Rows * original.Columns * original.SamplesPerPixel
                                                 * original.BitsAllocated // 8))
    name_value = str(original.PatientName)
    output, _ = _write_and_run(original, tmp_path)
    data = output.read_bytes()
    out = pydicom.dcmread(output)
    assert str(out.PatientName) != name_value
    assert out.SpecificCharacterSet == original.SpecificCharacterSet
    encoding = pydicom.charset.convert_encodings(original.SpecificCharacterSet)
    checked = 0
    for component in name_value.replace("=", "^").split("^"):
        if len(component.strip()) >= 2:
            needle = pydicom.charset.encode_string(component.strip(), encoding)
            assert needle not in data, component
            checked += 1
    assert checked


def _write_and_run(dataset, folder, options=None):
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "in.dcm"
    save(dataset, source)
    result = deidentify_file(Deidentifier(options or DeidentifyOptions(), KEY), source, folder / "out")
    assert result.status == "written", result.reason
    return Path(result.output), result


# -- bad input ---------------------------------------------------------------------------------------

def explicit_file(elements: bytes) -> bytes:
    """A minimal Part 10 file: preamble, meta (explicit little endian), then `elements`."""
    def element(group, elem, vr, value):
        return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(value)) + value
    meta_body = (struct.pack("<HH", 2, 1) + b"OB\x00\x00" + struct.pack("<I", 2) + b"\x00\x01"
                 + element(2, 2, b"UI", b"1.2.840.10008.5.1.4.1.1.7\x00")
                 + element(2, 3, b"UI", b"1.2.3.4\x00")
                 + element(2, 0x10, b"UI", b"1.2.840.10008.1.2.1\x00"))
    meta = element(2, 0, b"UL", struct.pack("<I", len(meta_body))) + meta_body
    return b"\x00" * 128 + b"DICM" + meta + elements


def test_a_huge_declared_length_fails_with_the_element_named(tmp_path):
    body = (struct.pack("<HH", 8, 0x16) + b"UI" + struct.pack("<H", 26) + b"1.2.840.10008.5.1.4.1.1.7\x00"
            + struct.pack("<HH", 8, 0x18) + b"UI" + struct.pack("<H", 8) + b"1.2.3.4\x00"
            + struct.pack("<HH", 0x10, 0x10) + b"PN" + struct.pack("<H", 8) + b"Doe^John"
            + struct.pack("<HH", 0x10, 0x4000) + b"LT" + struct.pack("<H", 4) + b"Doe^"
            + struct.pack("<HH", 0x7FE0, 0x10) + b"OB\x00\x00" + struct.pack("<I", 0xFFFFFFF0) + b"\x00" * 16)
    source = tmp_path / "huge.dcm"
    source.write_bytes(explicit_file(body))
    result = deidentify_file(Deidentifier(DeidentifyOptions(), KEY), source, tmp_path / "out")
    assert result.status == "failed"
    assert "(7FE0,0010)" in result.reason and "4294967280" in result.reason
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*"))


@pytest.mark.parametrize("content, expected", [
    (b"", "not a DICOM file"), (b"%PDF-1.4 not an image", "not a DICOM file"),
    (b"\x00" * 128 + b"DICM" + b"\x02\x00", "truncated"),
])
def test_not_dicom_and_cut_files_are_refused_with_a_reason(tmp_path, content, expected):
    source = tmp_path / "input.bin"
    source.write_bytes(content)
    result = deidentify_file(Deidentifier(DeidentifyOptions(), KEY), source, tmp_path / "out")
    assert result.status in ("skipped", "failed")
    assert expected in result.reason or "cannot be parsed" in result.reason or "damaged" in result.reason


def test_a_value_with_the_wrong_vr_is_still_handled(tmp_path):
    ds = read("CT_small.dcm")
    ds.PatientName = "Doe^John"
    ds.add_new(0x00081030, "UT", "Study of Doe^John")           # Study Description sent as UT, not LO
    ds.add_new(0x00100030, "LO", "born 1970-01-01 Doe")          # Patient's Birth Date sent as LO
    output, _ = _write_and_run(ds, tmp_path)
    data = output.read_bytes()
    assert b"Doe" not in data and b"1970" not in data


# -- the property: no value of a non-K attribute survives anywhere in the bytes -------------------

TEXT_VRS = {"LO", "SH", "LT", "ST", "UT", "PN", "UC", "CS", "AE"}


def removable_rows(options):
    resolver = ActionResolver(options)
    rows = []
    for tag in sorted(profile_table()._exact):
        row = profile_table()._exact[tag]
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            continue
        # C keeps what the cleaner judges safe: cleaning has its own tests.
        if vr in TEXT_VRS and resolver.resolve(row)[0] not in (KEEP, CLEAN) and tag >> 16 != 0x0002:
            rows.append((tag, vr))
    return rows


BASIC_ROWS = removable_rows(DeidentifyOptions())
RETAINING = DeidentifyOptions(retain_device_identity=True, retain_institution_identity=True,
                              retain_patient_characteristics=True, retain_safe_private=True, dates="full")
RETAINING_ROWS = removable_rows(RETAINING)
VALUE = st.text(alphabet="BCDFGHJKLMNPQRSTVWXZ0123456789", min_size=9, max_size=12).map(lambda s: "Q" + s)


def _place(ds, tag, vr, value, nested):
    target = ds
    if nested:
        item = Dataset()
        ds.DerivationCodeSequence = ds.get("DerivationCodeSequence", Sequence([]))  # not listed: kept, walked
        ds.DerivationCodeSequence.append(item)
        target = item
    target.add_new(tag, vr, value)


@pytest.mark.parametrize("options, rows", [(DeidentifyOptions(), BASIC_ROWS), (RETAINING, RETAINING_ROWS)],
                         ids=["basic", "retaining-options"])
def test_no_value_of_a_non_keep_attribute_survives(tmp_path_factory, options, rows):
    assert len(rows) > 100

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(rows), VALUE, st.booleans()), min_size=1, max_size=10,
                    unique_by=lambda t: t[0][0]))
    def check(entries):
        folder = tmp_path_factory.mktemp("prop")
        ds = read("CT_small.dcm")
        for (tag, vr), value, nested in entries:
            _place(ds, tag, vr, value, nested)
        output, _ = _write_and_run(ds, folder, options)
        data = output.read_bytes()
        for (tag, _vr), value, _nested in entries:
            assert value.encode() not in data, f"({tag >> 16:04X},{tag & 0xFFFF:04X}) kept {value}"

    check()


def test_only_partial_files_of_dead_or_stale_writers_are_removed(tmp_path):
    import os
    import subprocess
    from DicomDeidentifyLib.dicom_io import remove_partial_files
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = os.getppid()   # pytest's parent: alive for the whole test
    files = {name: tmp_path / f".x.dcm.{pid}.abcd1234.partial"
             for name, pid in (("dead", dead.pid), ("live", live), ("stale", live))}
    files["stale"] = tmp_path / "sub" / f".y.dcm.{live}.abcd1234.partial"
    for path in files.values():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"partial")
    old = os.stat(files["stale"]).st_mtime - 3600
    os.utime(files["stale"], (old, old))
    assert remove_partial_files(tmp_path) == 2
    assert files["live"].exists() and not files["dead"].exists() and not files["stale"].exists()


# -- the same property, whatever the encoding (issue 13) ------------------------------------------

PLACEMENTS = ("top", "un", "un-sequence", "un-sequence-undefined", "sequence-undefined", "private-sequence",
              "private-sequence-undefined", "private-sequence-no-creator")
SAFE_RETAINING = DeidentifyOptions(retain_device_identity=True, retain_institution_identity=True,
                                   retain_patient_characteristics=True, retain_safe_private=True, dates="full")


def _encoded_file(entries, implicit_vr: bool) -> bytes:
    """CT_small with each planted (tag, VR, value) encoded as its placement says: stored as UN,
    inside a sequence stored as UN (defined or undefined length, implicit VR inside), inside an
    undefined-length sequence, inside a safe private sequence (Philips 'Image Curve', a VR no
    pydicom dictionary knows; defined or undefined length, each in a block of its own) with or
    without its creator. Each placement has a sequence of its own."""
    from support import encodings as enc
    ts = enc.IMPLICIT_LE if implicit_vr else enc.EXPLICIT_LE

    def element(tag, vr, value, inside_un=False):
        return enc.implicit(tag, value, vr=vr) if implicit_vr or inside_un else enc.explicit(tag, vr, value)

    containers: dict = {}
    top = {}
    for (tag, vr), value, placement in entries:
        value = value.encode()
        if implicit_vr and placement.startswith("un"):
            placement = "sequence-undefined"   # UN is an explicit VR
        if placement == "top":
            top[tag] = element(tag, vr, value)
        elif placement == "un":
            top[tag] = enc.un(tag, value)
        else:
            containers.setdefault(placement, []).append(element(tag, vr, value, placement.startswith("un")))
    # one sequence per placement (public ones the table does not list: kept and walked); the two
    # safe private ones in two blocks of the same creator
    sequences = {"un-sequence": 0x00089215, "un-sequence-undefined": 0x00081164, "sequence-undefined": 0x00080124,
                 "private-sequence": 0x20011066, "private-sequence-undefined": 0x20011166}
    creators = {"private-sequence": 0x20010010, "private-sequence-undefined": 0x20010011}
    orphan = 0x00291066
    for placement, parts in containers.items():
        body = b"".join(parts)   # tags of one item in any order: pydicom and the engine sort them
        undefined = placement.endswith("undefined")
        value = enc.sequence_value([enc.item(body, undefined)], undefined)
        tag = sequences.get(placement)
        if placement.startswith("un"):
            top[tag] = enc.un(tag, value, undefined)
        elif placement == "sequence-undefined":
            top[tag] = enc.implicit(tag, value, True) if implicit_vr else enc.explicit(tag, "SQ", value, True)
        elif placement in creators:
            top[creators[placement]] = element(creators[placement], "LO", b"Philips Imaging DD 001")
            top[tag] = enc.implicit(tag, value, undefined) if implicit_vr else \
                enc.explicit(tag, "SQ", value, undefined)
        else:   # no creator for its block: never safe
            top[orphan] = enc.implicit(orphan, value) if implicit_vr else enc.explicit(orphan, "SQ", value)
    return enc.file_from(read("CT_small.dcm"), top, ts)


@pytest.mark.parametrize("options, rows", [(DeidentifyOptions(), BASIC_ROWS), (SAFE_RETAINING, RETAINING_ROWS)],
                         ids=["basic", "retaining-options"])
def test_no_planted_value_survives_however_it_is_encoded(tmp_path_factory, options, rows):
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.booleans(), st.booleans(),
           st.lists(st.tuples(st.sampled_from(rows), VALUE, st.sampled_from(PLACEMENTS)), min_size=1, max_size=8,
                    unique_by=lambda t: t[0][0]))
    def check(implicit_vr, sampled, entries):
        folder = tmp_path_factory.mktemp("encoded")
        source = folder / "in.dcm"
        source.write_bytes(_encoded_file(entries, implicit_vr))
        engine = Deidentifier(options, KEY)
        engine.record_changes = sampled
        result = deidentify_file(engine, source, folder / "out")
        assert result.status == "written", result.reason
        data = Path(result.output).read_bytes()
        for (tag, _vr), value, placement in entries:
            assert value.encode() not in data, f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {placement} kept {value}"

    check()


# -- dates and times of every precision, however encoded (issue 13) -------------------------------
#
# The planted years are odd ones from 1909 to 1931, one per entry: none of them is in CT_small
# (its bytes hold '1907', so that one is left out), a shift of up to 365 days moves a year only to
# the even year before, and no time component is ever '19' followed by such a year's last digits
# (hours 09 to 23 that are odd, minutes and seconds 19, day 19, a '9' in a fraction are not
# generated): a value of one entry can never be read inside another's.

PLANTED_YEARS = tuple(range(1909, 1932, 2))
HOURS = tuple(h for h in range(24) if not (h % 2 and h >= 9))
MINUTES = tuple(m for m in range(60) if m != 19)
UTC_OFFSETS = ("+0000", "-0500", "+0100", "+0530", "-1000", "+1400", "-0330")
DA_FORMS = ("YYYYMMDD", "YYYYMM", "YYYY")   # PS3.5 DA is YYYYMMDD; the reduced ones some writers use
DT_FORMS = ("YYYY", "YYYYMM", "YYYYMMDD", "YYYYMMDDHH", "YYYYMMDDHHMM", "YYYYMMDDHHMMSS", "YYYYMMDDHHMMSS.F")
TM_FORMS = ("HH", "HHMM", "HHMMSS", "HHMMSS.F")
# PS3.5 Table 6.2-1, read as strictly as the standard writes it
VALID = {"DA": re.compile(r"\d{4}(\d{2}(\d{2})?)?"),
         "DT": re.compile(r"\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?"),
         "TM": re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?")}
# CT_small's own dates and times are left out: every value found under a planted tag is planted
CT_SMALL_DATES = {0x00080012, 0x00080013, 0x00080020, 0x00080021, 0x00080022, 0x00080023, 0x00080030,
                  0x00080031, 0x00080032, 0x00080033, 0x00100030}


def _date_time_rows() -> list:
    """(tag, VR) of the table's DA, DT and TM attributes, and of some the table does not list
    (handled by their VR, PS3.15 E.1.1)."""
    from pydicom.datadict import DicomDictionary
    listed = profile_table()._exact
    rows = [(tag, DicomDictionary[tag][0]) for tag in sorted(listed)
            if tag in DicomDictionary and DicomDictionary[tag][0] in ("DA", "DT", "TM")]
    unlisted = [(tag, entry[0]) for tag, entry in sorted(DicomDictionary.items())
                if entry[0] in ("DA", "DT", "TM") and tag not in listed and not entry[3] and tag >> 16 != 0x0002]
    assert len(rows) > 150 and len(unlisted) > 10
    return [row for row in rows + unlisted if row[0] not in CT_SMALL_DATES]


DATE_TIME_ROWS = _date_time_rows()


@st.composite
def _date_time(draw, vr: str, year: int) -> str:
    """A value of `vr` in any precision PS3.5 allows (and the reduced DA forms), in `year`."""
    import calendar
    form = draw(st.sampled_from({"DA": DA_FORMS, "DT": DT_FORMS, "TM": TM_FORMS}[vr]))
    month = draw(st.integers(1, 12))
    day = draw(st.sampled_from([d for d in range(1, calendar.monthrange(year, month)[1] + 1) if d != 19]))
    fraction = draw(st.text(alphabet="012345678", min_size=1, max_size=6))
    parts = {"YYYY": f"{year:04d}", "MM": f"{month:02d}", "DD": f"{day:02d}",
             "HH": f"{draw(st.sampled_from(HOURS)):02d}", "MMt": f"{draw(st.sampled_from(MINUTES)):02d}",
             "SS": f"{draw(st.sampled_from(MINUTES)):02d}", ".F": "." + fraction}
    tokens = re.findall(r"YYYY|MM|DD|HH|SS|\.F", form)
    if vr == "TM":
        tokens = ["MMt" if token == "MM" else token for token in tokens]
    else:   # the MM after HH is the minute
        tokens = ["MMt" if token == "MM" and "HH" in tokens[:i] else token for i, token in enumerate(tokens)]
    value = "".join(parts[token] for token in tokens)
    if vr == "DT" and draw(st.booleans()):
        value += draw(st.sampled_from(UTC_OFFSETS))
    return value


def _expected_shift(vr: str, value: str, days: int) -> str:
    """What Modified Dates must write (PS3.15 E.3.6, docs/engine.md, 'Dates'): a full date moved back by
    `days`; a year or a month named by its middle day, moved, written back at its precision;
    times of day and a DT's time, fraction and UTC offset as written."""
    import calendar
    import datetime
    if vr == "TM":
        return value
    date_digits = value if vr == "DA" else re.match(r"\d{1,8}", value).group()[:8]
    rest = value[len(date_digits):]
    year = int(date_digits[:4])
    if len(date_digits) == 4:
        first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    elif len(date_digits) == 6:
        month = int(date_digits[4:6])
        first = datetime.date(year, month, 1)
        last = datetime.date(year, month, calendar.monthrange(year, month)[1])
    else:
        first = last = datetime.date(year, int(date_digits[4:6]), int(date_digits[6:8]))
    moved = first + (last - first) // 2 - datetime.timedelta(days=days)
    return moved.strftime("%Y%m%d")[:len(date_digits)] + rest


def _values_under(data: bytes, tag: int, vr: str) -> list:
    """Every value the file's bytes hold under `tag`, at any depth and however it is encoded
    (explicit VR with its own VR or as UN, implicit VR): read from the bytes, not by pydicom."""
    marker = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    found = []
    at = data.find(marker)
    while at >= 0:
        head = data[at + 4:at + 12]
        if head[:2] == vr.encode():
            length, start = struct.unpack("<H", head[2:4])[0], at + 8
        elif head[:4] == b"UN\x00\x00":
            length, start = struct.unpack("<I", head[4:8])[0], at + 12
        else:
            length, start = struct.unpack("<I", head[:4])[0], at + 8
        value = data[start:start + length]
        if length <= 64 and re.fullmatch(rb"[0-9.+\- \x00]*", value):
            found.append(value.decode().strip(" \x00"))
        at = data.find(marker, at + 1)
    return found


def _leaked(data: bytes, tag: int, vr: str, value: str) -> bool:
    """`value` in the bytes: anywhere when it holds a year (no other byte can spell it), and under
    its own tag whatever its length (a short time such as '12' could be any number elsewhere)."""
    return (vr != "TM" and len(value) >= 8 and value.encode() in data) or value in _values_under(data, tag, vr)


DATE_MODES = {
    "basic": DeidentifyOptions(),
    "modified-dates": DeidentifyOptions(dates="modified", retain_safe_private=True),
    "full-dates": DeidentifyOptions(dates="full", retain_safe_private=True),
}


@pytest.mark.parametrize("mode", list(DATE_MODES))
def test_no_planted_date_or_time_survives_however_precise_or_encoded(tmp_path_factory, mode):
    """DA, DT and TM values of every precision, planted at the top level, stored as UN, in
    sequences (UN, undefined length) and in private sequences with and without their creator:
    the basic profile leaves none (removed, emptied or the table's dummy); Modified Dates leaves
    no original date, only the shifted one at the same precision, valid for the VR; Full Dates
    keeps them only in the attributes the profile keeps."""
    options = DATE_MODES[mode]
    resolver = ActionResolver(options)
    untouched = data_file("CT_small.dcm").read_bytes()
    assert not [year for year in PLANTED_YEARS if str(year).encode() in untouched]

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.booleans(), st.data())
    def check(implicit_vr, data):
        rows = data.draw(st.lists(st.tuples(st.sampled_from(DATE_TIME_ROWS), st.sampled_from(PLACEMENTS)),
                                  min_size=1, max_size=len(PLANTED_YEARS), unique_by=lambda t: t[0][0]))
        entries = [((tag, vr), data.draw(_date_time(vr, year)), placement)
                   for ((tag, vr), placement), year in zip(rows, PLANTED_YEARS)]
        folder = tmp_path_factory.mktemp("dates")
        source = folder / "in.dcm"
        source.write_bytes(_encoded_file(entries, implicit_vr))
        result = deidentify_file(Deidentifier(options, KEY), source, folder / "out")
        assert result.status == "written", result.reason
        days = result.patient["date_offset_days"]
        output = Path(result.output).read_bytes()
        for (tag, vr), value, placement in entries:
            where = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {vr} {placement} {value!r}"
            row = profile_table()._exact.get(tag)
            action = resolver.resolve(row)[0] if row is not None else None   # None: handled by its VR
            kept_container = placement != "private-sequence-no-creator" and (
                options.retain_safe_private or not placement.startswith("private"))
            found = _values_under(output, tag, vr)
            assert all(VALID[vr].fullmatch(v) for v in found if v and v != dummy_for(vr)), where
            if mode == "basic":
                assert not _leaked(output, tag, vr, value), where
                assert set(found) <= {"", dummy_for(vr)}, f"{where}: {found}"
                if kept_container and action == "D":
                    assert found == [dummy_for(vr)], f"{where}: {found}"
            elif action not in (None, KEEP, CLEAN) or not kept_container:
                assert not _leaked(output, tag, vr, value), where
                assert set(found) <= {""}, f"{where}: {found}"
            elif mode == "full-dates":
                assert found == [value], f"{where}: {found}"
            else:
                assert 1 <= days <= 365
                expected = _expected_shift(vr, value, days)
                assert found == [expected], f"{where} shifted by {days} days: {found}, not {expected!r}"
                assert len(expected) == len(value) and VALID[vr].fullmatch(expected), where
                if expected != value:   # a year or month the middle of which stays in it stays
                    assert not _leaked(output, tag, vr, value), where

    check()
