"""The decisions of "Anonymize on import", without Slicer: which folders one routed import runs, one
import at a time, what the controls show, which main database "Show main database" returns to (M5),
that every control learns of a change of the setting (M6), and what counts as a foreign insert (M1)."""
import os
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from DicomDeidentifyLib.import_routing import (DEIDENTIFY, ORIGINAL, ORIGINALS_INTO_SIDE_REFUSED, REFUSE,
                                               import_route, shows_folder, GateBusy, sop_instance_uids, DatabaseSnapshot, ImportGate, ObservedSetting, PendingImports,
                                               coalesce_directories, controls_state, foreign_instance_count,
                                               foreign_insert_incident, main_database_directory, parse_bool,
                                               split_routable)
from DicomDeidentifyLib.runs import mark_side_database

SLICER_KEY = "DatabaseDirectory_0.8"        # what slicer.dicomDatabaseDirectorySettingsKey looks like
LEGACY_KEY = "DicomDeidentify/MainDatabaseDirectory"


def real_uids(*names):
    return [pydicom.dcmread(get_testdata_file(n), stop_before_pixels=True).SOPInstanceUID for n in names]


# -- M7: Add Data with N files is one run; one import at a time ---------------------------------------
def test_add_data_with_n_files_of_one_folder_is_one_folder(tmp_path):
    folder = tmp_path / "cd" / "DICOM"
    folder.mkdir(parents=True)
    # DICOMFileReader.load imports os.path.dirname(os.path.abspath(file)) once per file
    calls = [os.path.dirname(os.path.abspath(folder / f"IM{i}")) for i in range(40)]
    pending = PendingImports()
    assert pending.add([calls[0]]) is True           # the first call schedules the flush
    assert all(pending.add([c]) is False for c in calls[1:])
    assert pending.take() == [str(folder)]
    assert len(pending) == 0 and pending.take() == []
    assert pending.add([calls[0]]) is True           # after a take, the next call schedules again


def test_nested_and_repeated_folders_are_run_once_in_first_seen_order(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    paths = [b / "x", a, str(a) + os.sep, a / "sub" / "deeper", b / "x" / ".." / "x", tmp_path / "ab"]
    assert coalesce_directories(paths) == [str(b / "x"), str(a), str(tmp_path / "ab")]   # "ab" is not inside "a"


def test_folders_inside_the_side_database_are_refused_and_a_parent_is_routed(tmp_path):
    side = tmp_path / "side"
    mark_side_database(side)
    routable, refused = split_routable([side / "DICOMweb", tmp_path / "cd", side, tmp_path], side)
    assert refused == [str(side)]
    assert routable == [str(tmp_path)]         # "cd" lies inside it; the run leaves its destination out


def test_one_import_at_a_time():
    gate = ImportGate()
    assert gate.refusal("import") is None and gate.refusal("switch") is None
    assert gate.enter() is True
    assert gate.enter() is False                 # re-entrant import (processEvents inside a run)
    assert gate.busy and "not started" in gate.refusal("import") and "cannot change" in gate.refusal("switch")
    gate.leave()
    assert gate.enter() is True


def test_release_and_de_identify_folder_are_refused_inside_a_running_import():   # review N6
    gate = ImportGate()
    ran = []
    with gate.hold("import"):
        for what in ("release", "run", "import"):
            with pytest.raises(GateBusy) as busy:
                with gate.hold(what):
                    ran.append(what)
            assert str(busy.value) == gate.refusal(what) and "in progress" in str(busy.value)
        assert gate.busy
    assert ran == [] and not gate.busy
    with pytest.raises(ZeroDivisionError):
        with gate.hold("run"):
            1 / 0
    assert not gate.busy                      # a failed run lets the next one start


# -- what the controls say ------------------------------------------------------------------------------
@pytest.mark.parametrize("side_shown, anonymize, busy, expected_button", [
    (True, True, False, "Show main database"),
    (False, True, False, "Show side database"),
    (False, False, False, "Show side database"),
    (True, True, True, "Wait"),
    (True, False, False, "Show main database"),
])
def test_controls_for_each_state(side_shown, anonymize, busy, expected_button):
    state = controls_state(side_shown=side_shown, anonymize_on_import=anonymize, busy=busy)
    assert state.button_text == expected_button and len(state.button_text) <= 20   # C1: a short button
    assert state.button_enabled is not busy
    assert state.action_checked is anonymize
    assert state.copy_on_import_enabled is (not anonymize and not side_shown)        # C9, N1
    assert state.highlight is (side_shown and not busy)
    if not busy:
        assert ("DE-IDENTIFIED" in state.indicator_text) is side_shown
    if not side_shown and not busy:
        assert ("ON" in state.indicator_text) is anonymize


# -- N1: no original file enters the side database, whatever the option says ------------------------------
def test_with_the_side_database_shown_slicers_own_import_never_runs():
    assert import_route(anonymize_on_import=True, side_shown=True) == DEIDENTIFY
    assert import_route(anonymize_on_import=True, side_shown=False) == DEIDENTIFY
    assert import_route(anonymize_on_import=False, side_shown=False) == ORIGINAL   # the user's main database
    assert import_route(anonymize_on_import=False, side_shown=True) == REFUSE      # originals into the side one
    assert "Show main database" in ORIGINALS_INTO_SIDE_REFUSED and "Anonymize on import" in ORIGINALS_INTO_SIDE_REFUSED
    # "Copy imported files" is off wherever Slicer's own import cannot run
    assert not controls_state(side_shown=True, anonymize_on_import=False).copy_on_import_enabled
    assert controls_state(side_shown=False, anonymize_on_import=False).copy_on_import_enabled


def test_no_database_open():
    state = controls_state(side_shown=False, anonymize_on_import=False, database_open=False)
    assert "No DICOM database" in state.indicator_text


@pytest.mark.parametrize("value, expected", [("true", True), ("false", False), (True, True), (None, False),
                                             ("", False), ("1", True), ("False", False)])
def test_boolean_settings_as_qsettings_returns_them(value, expected):
    assert parse_bool(value) is expected


# -- M5: "Show main database" returns to the database Slicer records --------------------------------
class FakeBrowser:
    """ctkDICOMBrowser.setDatabaseDirectory stores the folder it opens under Slicer's key."""

    def __init__(self, settings):
        self.settings, self.shown = settings, None

    def setDatabaseDirectory(self, directory):
        self.shown = directory
        self.settings[SLICER_KEY] = directory


def show_side(settings, browser, side):
    """What ImportHook.showSideDatabase does with the settings."""
    remembered = settings.get(SLICER_KEY)
    browser.setDatabaseDirectory(str(side))
    settings[SLICER_KEY] = remembered


def test_show_main_database_follows_a_main_database_changed_since(tmp_path):
    first, second, side = tmp_path / "first", tmp_path / "second", tmp_path / "side"
    mark_side_database(side)
    settings = {SLICER_KEY: str(first), LEGACY_KEY: str(first)}   # the old hook's stale copy
    browser = FakeBrowser(settings)
    show_side(settings, browser, side)
    assert main_database_directory(settings.get(SLICER_KEY)) == str(first)
    browser.setDatabaseDirectory(main_database_directory(settings.get(SLICER_KEY)))
    browser.setDatabaseDirectory(str(second))      # the user picks another main database in the DICOM module
    show_side(settings, browser, side)
    assert main_database_directory(settings.get(SLICER_KEY)) == str(second)   # not the stale first one
    assert settings[LEGACY_KEY] == str(first)


def test_the_side_database_is_never_returned_as_the_main_one(tmp_path):
    side = tmp_path / "side"
    mark_side_database(side)
    assert main_database_directory(str(side)) is None
    assert main_database_directory(None) is None and main_database_directory("") is None


def test_a_recorded_path_relative_to_slicer_home_is_made_absolute(tmp_path):
    # ctkDICOMBrowser stores ctk::internalPathFromAbsolute(dir, base): relative below Slicer's home
    assert main_database_directory("SlicerDICOMDatabase", str(tmp_path)) == str(tmp_path / "SlicerDICOMDatabase")
    assert main_database_directory(str(tmp_path / "db"), "/elsewhere") == str(tmp_path / "db")


# -- M6: every control mirrors the setting --------------------------------------------------------------
def test_every_observer_learns_of_every_change_whoever_made_it():
    stored = {"value": "false"}
    setting = ObservedSetting(lambda: parse_bool(stored["value"]),
                              lambda enabled: stored.update(value="true" if enabled else "false"))
    panel, menu = [], []
    setting.add_observer(panel.append)            # the DICOM De-identify panel's checkbox
    setting.add_observer(menu.append)             # the DICOM module's menu action
    setting.add_observer(menu.append)             # registered twice, called once
    assert setting.set(True) is True              # toggled in the DICOM module's Import options menu
    assert panel == [True] and menu == [True] and stored["value"] == "true"
    assert setting.set(True) is False             # no change, no calls (no signal loops)
    assert panel == [True]
    setting.set(False)                            # unticked in the panel
    assert panel == [True, False] and menu == [True, False]
    setting.remove_observer(menu.append)
    setting.set(True)
    assert panel[-1] is True and menu == [True, False]


def test_an_observer_that_fails_is_dropped_and_the_others_still_called():
    stored = {"value": False}
    setting = ObservedSetting(lambda: stored["value"], lambda enabled: stored.update(value=enabled))
    seen = []

    def deleted_panel(enabled):
        raise ValueError("Trying to set property 'checked' on a destroyed QCheckBox")

    setting.add_observer(deleted_panel)
    setting.add_observer(seen.append)
    setting.set(True)
    setting.set(False)
    assert seen == [True, False]


# -- M1: foreign inserts into the shown database --------------------------------------------------------
def test_an_insert_by_another_route_is_counted_against_the_baseline(tmp_path):
    own, foreign = real_uids("CT_small.dcm", "MR_small.dcm"), real_uids("rtplan.dcm")
    side = str(tmp_path / "side")
    baseline = DatabaseSnapshot(side, 2, frozenset(own))              # taken after the hook's own import
    assert foreign_instance_count(baseline, DatabaseSnapshot(side, 2, frozenset(own))) == 0
    after = DatabaseSnapshot(side, 3, frozenset(own + foreign))       # the DICOM listener stored one
    assert foreign_instance_count(baseline, after) == 1
    # one removed and one foreign added: the count alone would not show it, the UIDs do
    swapped = DatabaseSnapshot(side, 2, frozenset(own[:1] + foreign))
    assert foreign_instance_count(baseline, swapped) == 1
    # without UIDs (a large main database): the growth of the count
    assert foreign_instance_count(DatabaseSnapshot(side, 10), DatabaseSnapshot(side, 13)) == 3
    assert foreign_instance_count(DatabaseSnapshot(side, 10), DatabaseSnapshot(side, 8)) == 0


def test_the_hooks_own_import_is_not_foreign(tmp_path):
    side = str(tmp_path / "side")
    uids = real_uids("CT_small.dcm", "MR_small.dcm", "rtplan.dcm")
    before = DatabaseSnapshot(side, 0, frozenset())
    after_own = DatabaseSnapshot(side, 2, frozenset(uids[:2]))
    assert foreign_instance_count(before, after_own, own=2) == 0
    after_own_and_foreign = DatabaseSnapshot(side, 3, frozenset(uids))
    assert foreign_instance_count(before, after_own_and_foreign, own=2) == 1


def test_no_baseline_or_a_switched_database_is_no_incident(tmp_path):
    current = DatabaseSnapshot(str(tmp_path / "main"), 100)
    assert foreign_instance_count(None, current) == 0
    assert foreign_instance_count(DatabaseSnapshot(str(tmp_path / "side"), 0, frozenset()), current) == 0


def test_incident_names_the_count_and_no_value():
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    side = foreign_insert_incident(3, side_shown=True, anonymize_on_import=False)
    assert side and "3 DICOM instance(s)" in side and "side database" in side
    main = foreign_insert_incident(1, side_shown=False, anonymize_on_import=True)
    assert main and "main DICOM database" in main
    for text in (side, main):
        for value in (str(ds.PatientName), ds.PatientID, ds.SOPInstanceUID, ds.StudyInstanceUID):
            assert value not in text
    assert foreign_insert_incident(0, side_shown=True, anonymize_on_import=True) is None
    assert foreign_insert_incident(5, side_shown=False, anonymize_on_import=False) is None   # the user's own choice


# -- N5: "Show side database" switches to the configured side database ------------------------------------
def test_another_side_database_shown_is_not_the_configured_one(tmp_path):
    a, b = tmp_path / "side-a", tmp_path / "side-b"
    mark_side_database(a)
    mark_side_database(b)
    assert shows_folder(str(a), str(a)) and shows_folder(str(a) + os.sep, str(tmp_path / "x" / ".." / "side-a"))
    assert not shows_folder(str(a), str(b))          # A is shown, B configured: switch
    assert not shows_folder(None, str(a)) and not shows_folder("", str(a))   # nothing open
    os.symlink(a, tmp_path / "link")
    assert shows_folder(str(tmp_path / "link"), str(a))   # the same folder on disk
    assert not shows_folder(str(tmp_path / "new"), str(tmp_path / "new2"))   # neither exists yet
    assert shows_folder(str(tmp_path / "new"), str(tmp_path / "new"))


# -- N7: own inserts are taken out by their UIDs, not by their count ----------------------------------------
def test_a_re_import_does_not_hide_a_listener_push(tmp_path):
    side = str(tmp_path / "side")
    files = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm")]
    own = sop_instance_uids(files + [__file__])            # a file that is not DICOM adds nothing
    assert own == frozenset(real_uids("CT_small.dcm", "MR_small.dcm"))
    foreign = real_uids("rtplan.dcm")
    baseline = DatabaseSnapshot(side, 2, own)               # the first import
    # re-import of the same two (their pseudonymous UIDs are already there) while the listener pushes one
    current = DatabaseSnapshot(side, 3, own | frozenset(foreign))
    assert foreign_instance_count(baseline, current, own=2, own_uids=own) == 1
    assert foreign_instance_count(baseline, current, own=2) == 0     # the count would have hidden it
    # a first import with a push: the own ones are not foreign, the push is
    assert foreign_instance_count(DatabaseSnapshot(side, 0, frozenset()), current, own=2, own_uids=own) == 1
    # without listed UIDs (a large main database) the count is all there is
    assert foreign_instance_count(DatabaseSnapshot(side, 10), DatabaseSnapshot(side, 13), own=2, own_uids=own) == 1


# -- NC1: what the hook loads at Slicer's start ----------------------------------------------------------
def test_the_routing_rules_load_without_the_engine_pydicom_or_numpy():
    import subprocess
    import sys
    code = ("import sys, DicomDeidentifyLib.import_routing, DicomDeidentifyLib.side_database, DicomDeidentifyLib.errors; "
            "print(sorted(m for m in ('pydicom', 'numpy', 'DicomDeidentifyLib.engine') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ})
    assert result.stdout.strip() == "[]"
    import DicomDeidentifyLib
    assert DicomDeidentifyLib.DeidentifyOptions().to_dict() and "Deidentifier" in dir(DicomDeidentifyLib)
