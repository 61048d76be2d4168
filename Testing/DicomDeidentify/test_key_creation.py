"""One rule decides whether a missing key is created (issue 17, item 4): keys.may_create_key. Asked for
(--create-key, create_key=True), or on first use of the key's location (its folder does not exist, or
holds saved review decisions and nothing else); otherwise a missing key is an error, since a new key would give other
pseudonyms than the earlier runs'. The command line, the Python API, the import controller and the
Slicer panel all go through it; compare never creates a key."""
import ast
import stat
from pathlib import Path

import pytest

from DicomDeidentifyLib import cli, review_store
from DicomDeidentifyLib.import_controller import ImportController
from DicomDeidentifyLib.keys import KeyFileError, key_location_unused, load_or_create_key, may_create_key
from DicomDeidentifyLib.runs import deidentify_folder
from support.data import read, save

ROOT = Path(__file__).resolve().parents[2]


def used_location(tmp_path: Path) -> Path:
    """A key folder an earlier run used (its linkage store is there) whose key is gone."""
    folder = tmp_path / "used"
    folder.mkdir(mode=0o700)
    (folder / "linkage.sqlite").write_bytes(b"")
    return folder / "pseudonym.key"


def one_ct(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    save(read("CT_small.dcm"), folder / "ct.dcm")
    return folder


def test_the_rule_asked_or_first_use_of_the_location(tmp_path):
    fresh = tmp_path / "new" / "pseudonym.key"
    assert may_create_key(fresh) and key_location_unused(fresh)
    review_store.save_decisions(review_store.review_store_path(fresh), [{"attribute": "StationName",
                                                                          "decision": "keep"}])
    assert may_create_key(fresh)              # decisions saved before the first run: still first use
    used = used_location(tmp_path)
    assert not may_create_key(used) and may_create_key(used, create=True)
    empty = tmp_path / "empty" / "pseudonym.key"
    empty.parent.mkdir(mode=0o700)
    assert not may_create_key(empty)          # someone made (or emptied) the folder: not a first use
    used.write_text("00" * 32)
    assert not key_location_unused(used)
    assert review_store.key_location_unused is key_location_unused   # one function, where the panel found it


def test_load_or_create_key_creates_only_where_the_rule_allows(tmp_path):
    key, created = load_or_create_key(tmp_path / "new" / "k")
    assert created and len(key) == 32
    assert stat.S_IMODE((tmp_path / "new" / "k").stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path / "new" / "k") == (key, False)
    used = used_location(tmp_path)
    with pytest.raises(KeyFileError, match="does not exist; pass --create-key"):
        load_or_create_key(used)
    assert not used.exists()
    assert load_or_create_key(used, create=True)[1]


def test_the_command_line_follows_the_rule(tmp_path, capsys):
    inputs = one_ct(tmp_path)
    used = used_location(tmp_path)
    assert cli.main(["anonymize", str(inputs), "--output", str(tmp_path / "out"), "--key-file", str(used),
                     "--quiet"]) == 2
    assert "does not exist; pass --create-key" in capsys.readouterr().err and not used.exists()
    assert cli.main(["anonymize", str(inputs), "--output", str(tmp_path / "out"), "--key-file", str(used),
                     "--quiet", "--create-key"]) == 0
    assert used.exists() and "Created a new pseudonym key" in capsys.readouterr().err
    fresh = tmp_path / "first" / "pseudonym.key"   # first use of a location: created and announced
    assert cli.main(["anonymize", str(inputs), "--output", str(tmp_path / "out2"), "--key-file", str(fresh),
                     "--quiet"]) == 0
    assert fresh.exists() and "Created a new pseudonym key" in capsys.readouterr().err


def test_compare_never_creates_a_key(tmp_path, capsys):
    inputs = one_ct(tmp_path)
    fresh = tmp_path / "nowhere" / "pseudonym.key"
    assert cli.main(["compare", str(inputs / "ct.dcm"), str(inputs / "ct.dcm"), "--key-file", str(fresh)]) == 2
    err = capsys.readouterr().err
    assert "no key at" in err and "--key-file" in err and "Traceback" not in err
    assert not fresh.parent.exists()


def test_the_python_api_and_the_import_follow_the_rule(tmp_path):
    inputs = one_ct(tmp_path)
    used = used_location(tmp_path)
    with pytest.raises(KeyFileError):
        deidentify_folder([inputs], tmp_path / "out", key_file=used)
    with pytest.raises(KeyFileError):
        ImportController(tmp_path / "side", key_file=used).import_paths([inputs])
    assert not used.exists() and not (tmp_path / "side").exists()
    run = ImportController(tmp_path / "side", key_file=used, create_key=True).import_paths([inputs]).run
    assert run.key_created and used.exists()
    fresh = tmp_path / "first" / "pseudonym.key"
    assert deidentify_folder([inputs], tmp_path / "out", key_file=fresh).key_created


def test_the_slicer_glue_has_no_rule_of_its_own():
    source = (ROOT / "DicomDeidentify" / "DicomDeidentify.py").read_text()
    tree = ast.parse(source)
    keywords = {k.arg for node in ast.walk(tree) if isinstance(node, ast.Call) for k in node.keywords}
    assert "create_key" not in keywords and "key_location_unused" not in source
