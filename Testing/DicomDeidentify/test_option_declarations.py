"""Each profile option is declared once (options.OptionInfo, the field's metadata) and everything that
names it follows (issue 17, item 3): the command line's flags, the Slicer panel's widgets in its .ui
file, the CID 7050 codes, the Table E.1-1 columns and the report's profile table. A flag or widget
missing, of the wrong kind, or named a second time in the glue fails here."""
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import fields
from pathlib import Path

import pytest
from pydicom.sr.codedict import codes

from DicomDeidentifyLib import cli
from DicomDeidentifyLib.options import (BASIC_PROFILE_CODE, NOT_IMPLEMENTED, OPTION_CODES, OPTIONS, PANEL_PROPERTIES,
                                        DateMode, DeidentifyOptions, IdentityMode, OptionInfo, panel_settings,
                                        panel_values, panel_widgets)
from DicomDeidentifyLib.runs import deidentify_folder
from DicomDeidentifyLib.tables import profile_table
from support.data import read, save

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "DicomDeidentify" / "Resources" / "UI" / "DicomDeidentify.ui"
GLUE = ROOT / "DicomDeidentify" / "DicomDeidentify.py"
INVENTORY = ROOT / "Resources" / "SlicerAPI" / "slicer_api_inventory.json"

# a value other than the default for each kind of setting, as a flag gives it and as the setting holds it
NOT_DEFAULT = {"dates": (["modified"], DateMode.MODIFIED), "identity": (["fixed"], IdentityMode.FIXED),
               "burned_in": (["refuse"], "refuse"), "pixel_rules_file": (["rules.json"], "rules.json"),
               "fixed_patient_name": (["NAME^X"], "NAME^X"), "fixed_patient_id": (["ID-7"], "ID-7"),
               "extra_safe_private": (["0019,ACME 1,0C"], ((0x0019, "ACME 1", 0x0C),))}


def test_every_setting_is_declared_with_its_option_metadata():
    names = [f.name for f in fields(DeidentifyOptions)]
    assert names and all(isinstance(f.metadata.get("option"), OptionInfo) for f in fields(DeidentifyOptions))
    assert list(OPTIONS) == names
    for attribute in ("label", "flag", "widget"):
        given = [getattr(info, attribute) for info in OPTIONS.values() if getattr(info, attribute)]
        assert len(given) == len(set(given)), f"two settings share a {attribute}"
    assert all(info.flag.startswith("--") for info in OPTIONS.values() if info.flag)
    assert all(info.widget_class in PANEL_PROPERTIES for info in OPTIONS.values() if info.widget)
    assert all(info.group in ("profile", "identity") for info in OPTIONS.values())


def test_every_table_e11_column_is_one_options_and_each_has_its_cid_7050_code():
    declared = [column for info in OPTIONS.values() for column in info.columns.values()]
    assert sorted(declared) == sorted(c for c in profile_table().columns if c != "basic")
    for info in OPTIONS.values():
        assert set(info.columns) <= set(info.codes), info.label   # a column switched on is claimed
        assert set(info.columns) <= set(info.choices or (True,))
    # pydicom's CID 7050 (PS3.16 "De-identification Method"): every code we write, value and meaning
    standard = {getattr(codes.cid7050, name).value: getattr(codes.cid7050, name) for name in codes.cid7050.dir()}
    ours = [BASIC_PROFILE_CODE] + [code for info in OPTIONS.values() for code in info.codes.values()]
    assert len(ours) == len(standard) == len({code.value for code in ours})
    for code in ours:
        assert code.value in standard and standard[code.value].meaning == code.meaning
        assert standard[code.value].scheme_designator == "DCM"
    assert OPTION_CODES["retain_long_modified_dates"].value == "113107"
    assert OPTION_CODES["clean_pixel_data"].value == "113101" and NOT_IMPLEMENTED == ("clean_recognizable_visual_features",)


def test_method_codes_follow_the_declaration_in_the_order_outputs_have_them():
    options = DeidentifyOptions(dates="full", clean_graphics=True, retain_uids=True, retain_safe_private=True,
                                clean_pixel_data=True, clean_recognizable_visual_features=True)
    assert [c.value for c in options.method_codes()] == ["113100", "113111", "113110", "113103", "113106"]
    assert options.enabled_columns() == ["retain_safe_private", "retain_uids", "clean_graphics",
                                         "retain_long_full_dates"]
    assert DeidentifyOptions().method_codes() == [BASIC_PROFILE_CODE]


def _anonymize_parser():
    return cli.build_parser().commands["anonymize"]


def test_every_flag_is_in_the_command_line_and_sets_its_setting():
    actions = {flag: action for action in _anonymize_parser()._actions for flag in action.option_strings}
    flagged = [(name, info) for name, info in OPTIONS.items() if info.flag]
    assert len(flagged) >= 20
    for name, info in flagged:
        assert info.flag in actions, f"{name}: {info.flag} is not an option of anonymize"
        action = actions[info.flag]
        assert action.dest == info.dest and action.help == info.help
        default = getattr(DeidentifyOptions(), name)
        if default is False:
            argv, expected = [], True
            assert action.nargs == 0   # store_true
        else:
            argv, expected = NOT_DEFAULT[name]
            if info.choices:
                assert list(action.choices) == list(info.flag_choices or info.choices)
        args = _anonymize_parser().parse_args(["x", "--output", "y", info.flag, *argv])
        options = cli.options_from_args(args)
        assert getattr(options, name) == expected, info.flag
        # nothing else moved
        others = {k: v for k, v in options.to_dict().items() if k != name}
        assert others == {k: v for k, v in DeidentifyOptions().to_dict().items() if k != name}
    # only settings without a flag: review decisions (a --profile carries them)
    assert [name for name, info in OPTIONS.items() if not info.flag] == ["review_decisions"]


def test_a_flag_naming_a_bad_value_is_refused_by_its_name():
    args = _anonymize_parser().parse_args(["x", "--output", "y", "--extra-safe-private", "not a tag"])
    with pytest.raises(cli.UserError, match=r"^--extra-safe-private: extra safe private attribute"):
        cli.options_from_args(args)


def _ui_widgets() -> dict:
    root = ET.parse(UI).getroot()
    return {w.get("name"): w for w in root.iter("widget")}


def _members(inventory: dict, cls: str) -> dict:
    """{member: kinds} of a Qt class with its bases (the Slicer API inventory of every supported version)."""
    info = inventory["classes"].get(cls, {})
    found = {}
    for base in info.get("bases", []):
        found.update(_members(inventory, base))
    for name, entry in info.get("members", {}).items():
        found[name] = entry if isinstance(entry, str) else " ".join(entry.get("kinds", []))
    return found


def test_every_panel_widget_is_in_the_ui_file_with_its_class_and_property():
    widgets = _ui_widgets()
    inventory = json.loads(INVENTORY.read_text())
    shown = panel_widgets()
    assert len(shown) >= 15
    for widget, (name, prop) in shown.items():
        info = OPTIONS[name]
        assert widget in widgets, f"{name}: {widget} is not in {UI.name}"
        assert widgets[widget].get("class") == info.widget_class, widget
        assert "property" in _members(inventory, info.widget_class).get(prop, ""), (info.widget_class, prop)
        if info.widget_class == "QComboBox":   # the items follow the setting's choices, one each
            assert len(widgets[widget].findall("item")) == len(info.choices) > 1, widget
        if info.widget_class == "QCheckBox":
            assert isinstance(getattr(DeidentifyOptions(), name), bool)


def test_the_glue_reads_the_mapping_from_the_library_and_names_no_option_widget_itself():
    glue = GLUE.read_text()
    assert "panel_values(options)" in glue and "panel_settings(self.options, shown)" in glue
    named = set(re.findall(r"\b([a-z][A-Za-z]*(?:CheckBox|ComboBox|LineEdit))\b", glue))
    assert not named & set(panel_widgets()), sorted(named & set(panel_widgets()))


def test_the_panel_shows_a_profile_and_reads_the_same_one_back():
    options = DeidentifyOptions(retain_uids=True, dates="modified", identity="fixed", fixed_patient_name="N^X",
                                burned_in="refuse", extra_safe_private=("0019,ACME 1,0C", "0021,B,01"),
                                allow_creator_on_higher_level=True, skip_deidentified=True,
                                review_decisions=({"attribute": "StationName", "decision": "keep"},))
    values = panel_values(options)
    assert ("datesComboBox", "currentIndex", 2) in values and ("identityComboBox", "currentIndex", 2) in values
    assert ("extraSafePrivateLineEdit", "text", "0019,ACME 1,0C; 0021,B,01") in values
    assert ("retainUIDsCheckBox", "checked", True) in values and ("cleanGraphicsCheckBox", "checked", False) in values
    read_back = DeidentifyOptions.from_dict(panel_settings(options, {w: v for w, _, v in values}))
    assert read_back == options   # skip_deidentified and the decisions, not on the panel, kept
    edited = {w: v for w, _, v in values}
    edited.update(datesComboBox=0, retainUIDsCheckBox=False, extraSafePrivateLineEdit=" ; 0029,C,10 ;")
    changed = DeidentifyOptions.from_dict(panel_settings(options, edited))
    assert changed.dates is DateMode.REMOVE and not changed.retain_uids
    assert changed.extra_safe_private == ((0x0029, "C", 0x10),)
    with pytest.raises(IndexError):
        panel_settings(options, dict(edited, burnedInComboBox=5))


def test_the_reports_profile_table_lists_every_setting_by_its_label(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    save(read("CT_small.dcm"), source / "ct.dcm")
    run = deidentify_folder([source], tmp_path / "out", DeidentifyOptions(retain_uids=True),
                            key_file=tmp_path / "secrets" / "key", create_key=True)
    page = Path(run.report_html).read_text(encoding="utf-8")
    table = page.split("<h2>Profile</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><th title="([a-z_]+)">([^<]+)</th><td class="path">([^<]*)</td></tr>', table)
    assert [name for name, _, _ in rows] == list(OPTIONS)
    assert {name: label.replace("&#39;", "'") for name, label, _ in rows} == {n: i.label for n, i in OPTIONS.items()}
    assert dict((name, value) for name, _, value in rows)["retain_uids"] == "True"
    assert json.loads(Path(run.report_json).read_text())["profile"]["retain_uids"] is True


def test_the_engines_retain_columns_are_declared_columns():
    """engine.RETAIN_COLUMNS (the columns whose kept values are reviewed as "kept by option") is the
    engine's decision, not a list of options: but it names only columns the declaration has."""
    from DicomDeidentifyLib.engine import RETAIN_COLUMNS
    declared = {column for info in OPTIONS.values() for column in info.columns.values()}
    assert RETAIN_COLUMNS < declared and "retain_long_modified_dates" not in RETAIN_COLUMNS
