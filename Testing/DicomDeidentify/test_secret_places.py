"""Where secrets may be written (review 18c findings 1 and 2): the key (export, import, create), the
linkage store, the reports, the pixel cache and the mapping never go into a destination, whether
this key recorded it, its marker says so, or only its outputs do (a copy, another key's). One check
(page_places.destination_around) for all of them; no message advises changing a folder's mode."""
import os
import shutil

import pytest

from DicomDeidentifyLib import cli
from DicomDeidentifyLib.destinations import OUTPUT_MARKER
from DicomDeidentifyLib.page_places import destination_around, holds_outputs
from support.data import data_file


def refused(capsys, *argv) -> str:
    """The one error line of a refused command (exit 2)."""
    status = cli.main(list(map(str, argv)))
    err = capsys.readouterr().err
    assert status == 2, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert "chmod" not in err   # a destination is shared whatever its mode: never advise changing it
    return lines[0]


@pytest.fixture
def made(tmp_path, capsys):
    """An input folder, a run into out1 (recorded, marked) and one into the side database sdb1."""
    source = tmp_path / "in1"
    source.mkdir()
    (source / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    key = tmp_path / "secrets" / "k.key"
    assert cli.main(["anonymize", str(source), "--output", str(tmp_path / "out1"), "--key-file", str(key),
                     "--create-key", "--jobs", "1", "--quiet"]) == 0
    assert cli.main(["anonymize", str(source), "--into", str(tmp_path / "sdb1"), "--key-file", str(key),
                     "--jobs", "1", "--quiet"]) == 0
    capsys.readouterr()
    return source, key


def files_under(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*"))


def test_the_key_is_never_exported_or_imported_into_a_destination(tmp_path, capsys, made):
    source, key = made
    before = {name: files_under(tmp_path / name) for name in ("out1", "sdb1")}
    for target in (tmp_path / "out1" / "shared-key.txt", tmp_path / "sdb1" / "exported.key"):
        line = refused(capsys, "key", "export", target, "--key-file", key)
        assert "would be inside the destination folder" in line and "key's secrets" in line
    for target in (tmp_path / "sdb1" / "imported.key", tmp_path / "out1" / "keys" / "imported.key"):
        refused(capsys, "key", "import", key, "--key-file", target)
    assert {name: files_under(tmp_path / name) for name in ("out1", "sdb1")} == before


def test_a_new_key_is_never_made_in_a_destination_nor_in_a_copy_of_one(tmp_path, capsys, made):
    source, key = made
    line = refused(capsys, "anonymize", source, "--output", tmp_path / "out9", "--key-file",
                   tmp_path / "out1" / "new.key", "--create-key", "--jobs", "1")
    assert "the key file" in line and str(tmp_path / "out1") in line
    # a copy, made owner-only: still a destination (its marker and its outputs), never a key's folder
    copy = tmp_path / "copy-of-out1"
    shutil.copytree(tmp_path / "out1", copy)
    os.chmod(copy, 0o700)
    before = files_under(copy)
    refused(capsys, "anonymize", source, "--output", tmp_path / "out9", "--key-file", copy / "new.key",
            "--create-key", "--jobs", "1")
    # without its marker, by its outputs alone
    (copy / OUTPUT_MARKER).unlink()
    before.remove(before[[str(p) for p in before].index(OUTPUT_MARKER)])
    refused(capsys, "anonymize", source, "--output", tmp_path / "out9", "--key-file", copy / "new.key",
            "--create-key", "--jobs", "1")
    refused(capsys, "key", "export", copy / "k.txt", "--key-file", key)
    assert files_under(copy) == before and not (tmp_path / "out9").exists()
    # the report folder and the key's own folder inside a destination found by its outputs alone
    refused(capsys, "anonymize", source, "--output", tmp_path / "out9", "--key-file", key,
            "--report-dir", copy / "reports", "--jobs", "1")
    assert files_under(copy) == before


def test_the_mapping_never_goes_into_another_destination(tmp_path, capsys, made):
    source, key = made
    assert cli.main(["anonymize", str(source), "--output", str(tmp_path / "out2"), "--key-file", str(key),
                     "--jobs", "1", "--quiet"]) == 0
    capsys.readouterr()
    before = files_under(tmp_path / "out2")
    line = refused(capsys, "export-mapping", "--into", tmp_path / "out1", "--output", tmp_path / "out2" / "mapping",
                   "--key-file", key)
    assert "the mapping folder" in line and "original UIDs" in line
    refused(capsys, "export-mapping", "--into", tmp_path / "out1", "--output", tmp_path / "sdb1" / "mapping",
            "--key-file", key)
    assert files_under(tmp_path / "out2") == before
    # beside the key it is written
    assert cli.main(["export-mapping", "--into", str(tmp_path / "out1"), "--output", str(tmp_path / "secrets" / "m"),
                     "--key-file", str(key)]) == 0
    assert (tmp_path / "secrets" / "m" / "uid_mapping.csv").is_file()


def test_outputs_make_a_destination_only_at_their_own_depth(tmp_path, made):
    (tmp_path / "out1" / OUTPUT_MARKER).unlink()
    assert holds_outputs(tmp_path / "out1")
    assert not holds_outputs(tmp_path) and not holds_outputs(tmp_path / "secrets")
    assert destination_around(tmp_path / "out1" / "a" / "b.key") == tmp_path / "out1"
    assert destination_around(tmp_path / "secrets" / "k.key") is None
