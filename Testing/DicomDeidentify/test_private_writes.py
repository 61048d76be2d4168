"""Writes beside the key and of a saved profile: owner-only folders, atomic saves (docs17's audit)."""
import os
import stat

import pytest

from DicomDeidentifyLib.linkage import LinkageStore
from DicomDeidentifyLib.options import DeidentifyOptions


def test_linkage_store_creates_its_missing_folders_owner_only(tmp_path):
    path = tmp_path / "keys" / "project" / "linkage.sqlite"
    store = LinkageStore(path)
    store.db.close()
    for folder in (tmp_path / "keys", tmp_path / "keys" / "project"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_profile_save_replaces_the_file_whole_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "profile.json"
    DeidentifyOptions().save(path)
    earlier = path.read_text(encoding="utf-8")
    changed = DeidentifyOptions(retain_uids=True)
    changed.save(path)
    assert DeidentifyOptions.from_file(path) == changed and path.read_text(encoding="utf-8") != earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.json"]


def test_an_interrupted_profile_save_keeps_the_earlier_profile(tmp_path, monkeypatch):
    path = tmp_path / "profile.json"
    DeidentifyOptions().save(path)
    earlier = path.read_bytes()

    def fail(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        DeidentifyOptions(retain_uids=True).save(path)
    assert path.read_bytes() == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.json"]
