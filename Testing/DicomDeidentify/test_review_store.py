"""Saved review decisions live beside the key, owner-only, and never reach Slicer's settings (review M16).

The Slicer module stores review_store.settings_profile(options) in Slicer.ini and the decisions with
review_store.save_decisions; before, options.to_json() with the decisions went into Slicer.ini.
"""
import json
import stat

import pytest

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib import review_store
from DicomDeidentifyLib.review import ReviewDecision

HOSPITAL = "St. Elsewhere Hospital"
DESCRIPTION = "CT head for J. Doe"


def decisions():
    return [ReviewDecision("InstitutionName", "keep", HOSPITAL),
            ReviewDecision("StudyDescription", "edit", DESCRIPTION, "CT head"),
            ReviewDecision("(0019,100C)", "remove")]


def test_the_settings_profile_holds_no_decision_and_no_value():
    options = DeidentifyOptions(retain_institution_identity=True, review_decisions=decisions())
    assert HOSPITAL in options.to_json()          # what used to go into Slicer.ini
    text = review_store.settings_profile(options)
    assert HOSPITAL not in text and DESCRIPTION not in text and "CT head" not in text
    assert json.loads(text)["review_decisions"] == []
    assert DeidentifyOptions.from_json(text).retain_institution_identity   # the options themselves stay


def test_decisions_are_saved_owner_only_beside_the_key(tmp_path):
    key = tmp_path / "secrets" / "pseudonym.key"
    path = review_store.review_store_path(key)
    assert path.parent == key.parent
    review_store.save_decisions(path, decisions())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert HOSPITAL in path.read_text()
    loaded = review_store.load_decisions(path)
    assert [ReviewDecision(**d) for d in loaded] == decisions()
    assert not list(path.parent.glob(".*partial"))


def test_an_existing_group_readable_store_is_tightened(tmp_path):
    path = tmp_path / "k" / review_store.REVIEW_STORE_FILE_NAME
    path.parent.mkdir()
    path.write_text("[]")
    path.chmod(0o644)
    review_store.save_decisions(path, decisions())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_store_is_created_for_no_decisions(tmp_path):
    path = tmp_path / "never" / review_store.REVIEW_STORE_FILE_NAME
    review_store.save_decisions(path, [])
    assert not path.parent.exists()
    assert review_store.load_decisions(path) == ()


def test_adding_merges_one_per_attribute_and_value_newer_wins(tmp_path):
    path = tmp_path / review_store.REVIEW_STORE_FILE_NAME
    review_store.save_decisions(path, decisions())
    combined = review_store.add_decisions(path, [ReviewDecision("InstitutionName", "remove", HOSPITAL)])
    assert len(combined) == 3
    assert {d["attribute"]: d["decision"] for d in combined}["InstitutionName"] == "remove"
    assert review_store.load_decisions(path) == combined


def test_a_broken_store_is_an_error_not_silently_empty(tmp_path):
    path = tmp_path / review_store.REVIEW_STORE_FILE_NAME
    path.write_text('{"not": "a list"}')
    with pytest.raises(ValueError, match="review decisions"):
        review_store.load_decisions(path)
    path.write_text('[{"attribute": "X", "decision": "maybe"}]')
    with pytest.raises(ValueError):
        review_store.load_decisions(path)


def test_which_decisions_hold_values():
    assert review_store.holds_values(decisions()[0]) and review_store.holds_values(decisions()[1].to_dict())
    assert not review_store.holds_values(decisions()[2])


def test_a_store_saved_before_the_first_run_does_not_block_creating_the_key(tmp_path):
    key = tmp_path / "secrets" / "pseudonym.key"
    assert review_store.key_location_unused(key)
    review_store.save_decisions(review_store.review_store_path(key), decisions())
    assert review_store.key_location_unused(key)            # still first use: the key may be created
    (key.parent / "linkage.sqlite").write_text("")           # anything a run leaves: no longer first use
    assert not review_store.key_location_unused(key)
    key.write_text("00" * 32)
    assert not review_store.key_location_unused(key)
