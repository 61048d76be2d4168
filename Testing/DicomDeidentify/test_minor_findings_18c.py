"""Review 18c's minor findings: compare with a missing key names the key (compare makes none); a
profile's pixel_rules_file is named as the profile's setting; inputs are recorded by absolute path."""
import json
import os

from DicomDeidentifyLib import cli
from DicomDeidentifyLib.linkage import LinkageStore, linkage_path
from support.data import data_file


def test_compare_with_a_missing_key_does_not_advise_create_key(tmp_path, capsys):
    ct = tmp_path / "ct.dcm"
    ct.write_bytes(data_file("CT_small.dcm").read_bytes())
    assert cli.main(["compare", str(ct), str(ct), "--key-file", str(tmp_path / "missing.key")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no key at {tmp_path / 'missing.key'}") and "--create-key" not in err


def test_a_profiles_rules_file_is_named_as_the_profiles_setting(tmp_path, capsys):
    ct = tmp_path / "ct.dcm"
    ct.write_bytes(data_file("CT_small.dcm").read_bytes())
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"clean_pixel_data": True, "pixel_rules_file": str(tmp_path / "none.json")}))
    assert cli.main(["anonymize", str(ct), "--output", str(tmp_path / "out"), "--key-file", str(tmp_path / "k"),
                     "--create-key", "--profile", str(profile)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the profile's pixel_rules_file ({profile}) file") and "--pixel-rules" not in err


def test_inputs_are_recorded_by_absolute_path(tmp_path, capsys, monkeypatch):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    monkeypatch.chdir(tmp_path)
    key = tmp_path / "s" / "k.key"
    assert cli.main(["anonymize", "in", "--output", "out", "--key-file", str(key), "--create-key", "--jobs", "1",
                     "--quiet"]) == 0
    store = LinkageStore(linkage_path(key))
    try:
        assert list(store.recorded_files()) == [str(tmp_path / "in" / "ct.dcm")]
    finally:
        store.close()
    [report] = (key.parent / "reports").rglob("report.json")
    document = json.loads(report.read_text())
    assert document["inputs"] == [str(tmp_path / "in")] and document["files"][0]["source"] == str(
        tmp_path / "in" / "ct.dcm")
    assert os.path.isabs(document["files"][0]["source"])
