"""Clean Pixel Data's cache (pixel_cache): a run repeated on the same inputs reads no pixels again and
writes the same bytes; changed rules or engine versions are read again; the cache lives beside the
key, owner-only, and never in a destination."""
import json
import stat
from pathlib import Path

import pydicom

from DicomDeidentifyLib import DeidentifyOptions, pixel_cache, pixel_detector
from DicomDeidentifyLib.destinations import OUTPUT_MARKER
from DicomDeidentifyLib.pixel_cache import cache_folder
from DicomDeidentifyLib.runs import deidentify_folder
from support.burned_in import planted_dataset
from support.data import read, save

CLEAN = DeidentifyOptions(clean_pixel_data=True)


def inputs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    save(planted_dataset("CT_small.dcm")[0], folder / "with_text.dcm")   # names, IDs, dates drawn in
    save(read("CT_small.dcm"), folder / "plain.dcm")
    return folder


def run(source, out, key, options=CLEAN):
    """(detector runs, second reader runs) of one run, and {relative path: bytes} of what it wrote."""
    before = pixel_detector.calls()
    deidentify_folder([source], out, options, key_file=key, create_key=True)
    after = pixel_detector.calls()
    written = {p.relative_to(out): p.read_bytes() for p in sorted(Path(out).rglob("*.dcm"))}
    return (after["detector"] - before["detector"], after["second_reader"] - before["second_reader"]), written


def test_a_second_run_on_the_same_inputs_reads_nothing_and_writes_the_same_bytes(tmp_path):
    source, key = inputs(tmp_path / "in"), tmp_path / "secrets" / "pseudonym.key"
    (detected, read_again), first = run(source, tmp_path / "out1", key)
    assert detected >= 2 and read_again >= 1 and len(first) == 2        # both images looked at
    cleaned = [pydicom.dcmread(tmp_path / "out1" / p) for p in first]
    assert any(ds.get("BurnedInAnnotation") == "NO" for ds in cleaned)
    (detected, read_again), second = run(source, tmp_path / "out2", key)
    assert (detected, read_again) == (0, 0)                             # no detector, no Tesseract
    assert second == first                                              # byte for byte
    reports = sorted((key.parent / "reports").rglob("report.json"))
    pixels = [json.loads(r.read_text())["pixels"] for r in reports]
    assert [[{k: p[k] for k in ("verified", "regions", "kept", "unexplained")} for p in run] for run in pixels][0] == \
        [[{k: p[k] for k in ("verified", "regions", "kept", "unexplained")} for p in run] for run in pixels][1]


def test_changed_rules_or_engine_versions_are_read_again(tmp_path, monkeypatch):
    source, key = inputs(tmp_path / "in"), tmp_path / "secrets" / "pseudonym.key"
    run(source, tmp_path / "out1", key)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"name": "test CT", "when": {"Modality": {"equals": "CT"}},
                                            "regions": [[0, 100, 20, 20]]}]}))
    (detected, _), written = run(source, tmp_path / "out2", key,
                                 DeidentifyOptions(clean_pixel_data=True, pixel_rules_file=str(rules)))
    assert detected >= 2                                                # a rule changed: both read again
    assert all((pydicom.dcmread(tmp_path / "out2" / p).pixel_array[100:120, 0:20] ==
                pydicom.dcmread(tmp_path / "out2" / p).pixel_array.min()).all() for p in written)
    monkeypatch.setattr(pixel_detector, "detector_version", lambda: "rapidocr-onnxruntime 99, onnxruntime 99")
    pixel_cache._code_and_versions.cache_clear()
    try:
        (detected, _), _ = run(source, tmp_path / "out3", key)
    finally:
        monkeypatch.undo()
        pixel_cache._code_and_versions.cache_clear()
    assert detected >= 2                                                # another engine: read again
    (detected, _), _ = run(source, tmp_path / "out4", key)
    assert detected == 0                                                # the first run's entries still hold


def test_the_cache_is_beside_the_key_owner_only_and_not_in_the_destination(tmp_path):
    source, key = inputs(tmp_path / "in"), tmp_path / "secrets" / "pseudonym.key"
    run(source, tmp_path / "out", key)
    folder = cache_folder(key)
    assert folder.parent == key.parent
    entries = sorted(folder.rglob("*.json"))
    assert len(entries) == 2                                            # one per image
    for path in [folder, *{e.parent for e in entries}]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for entry in entries:
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600
        assert len(entry.stem) == 64 and entry.parent.name == entry.stem[:2]   # a keyed hash names it
    assert not [p for p in (tmp_path / "out").rglob("*") if (p.suffix == ".json" and p.name != OUTPUT_MARKER)
                or "cache" in p.name]   # the marker: constant bytes, nothing of the cache
    # A damaged entry is read again, not trusted.
    entries[0].write_text("{not json")
    (detected, _), _ = run(source, tmp_path / "out2", key)
    assert detected >= 1 and json.loads(entries[0].read_text())["format"] == pixel_cache.FORMAT


def test_without_linkage_no_text_that_was_read_is_kept(tmp_path):
    """--no-linkage (review 18c finding 4): the cache would keep each region's OCR text, an original
    value; so such a run keeps no cache, and its report none of the text either."""
    source, key = inputs(tmp_path / "in"), tmp_path / "secrets" / "pseudonym.key"
    deidentify_folder([source], tmp_path / "out1", CLEAN, key_file=key, create_key=True, linkage=False)
    assert not cache_folder(key).exists()
    written = [p.read_bytes() for p in (key.parent / "reports").rglob("*") if p.is_file()]
    assert written and not any(b"MRN1234567" in data or b"DOE, JANE" in data.upper() for data in written)
    # with linkage, the same images' entries are kept (and hold what was read)
    deidentify_folder([source], tmp_path / "out2", CLEAN, key_file=key)
    entries = list(cache_folder(key).rglob("*.json"))
    assert entries and any(region.get("text") for e in entries for region in json.loads(e.read_text())["regions"])
