"""Issue 18's review findings (what a new user sees): a re-run's summary, links and widths of the pages,
the demo offline, compare into a new folder and pairing by the linkage store, dry-run and --no-linkage
console text, and every user error as one line, exit 2 (a table of cases)."""
import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pydicom
import pytest

from DicomDeidentifyLib import cli
from DicomDeidentifyLib.cli import main
from support.data import data_file, read, save


def copy(name: str, folder: Path, as_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (as_name or name)
    target.write_bytes(data_file(name).read_bytes())
    return target


def save_in(dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save(dataset, path)


def newest_report(key: Path) -> dict:
    pages = sorted((key.parent / "reports").glob("*/report.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(pages[-1].read_text())


def anonymize(tmp_path, inputs, *args):
    return main(["anonymize", *map(str, inputs), "--output", str(tmp_path / "out"), "--key-file",
                 str(tmp_path / "secrets" / "key"), "--create-key", "--quiet", "--jobs", "1", *map(str, args)])


class _Links(HTMLParser):
    """Every href="#x" and every id="x" of a page."""

    def __init__(self):
        super().__init__()
        self.targets, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if (attrs.get("href") or "").startswith("#"):
            self.targets.append(attrs["href"][1:])


def dangling_links(page: Path) -> list:
    """The in-page links of `page` that name no element (href="#x" without id="x")."""
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return [target for target in parser.targets if target not in parser.ids]


def test_a_rerun_lists_no_already_present_file_and_says_review_items_are_this_runs(tmp_path, capsys):
    ct = read("CT_small.dcm")
    ct.InstitutionName = "St. Elsewhere"
    save_in(ct, tmp_path / "in" / "ct.dcm")
    args = ("--retain-institution-identity",)   # a kept institution: needs review
    assert anonymize(tmp_path, [tmp_path / "in"], *args) == 0
    first = capsys.readouterr().out
    assert "Needs attention (1 file" in first and "already present" not in first
    assert anonymize(tmp_path, [tmp_path / "in"], *args) == 0
    again = capsys.readouterr().out
    assert "Needs attention" not in again            # already present: nothing to do about it
    assert "1 file already present" in again and "their review items are in the earlier run's report" in again
    report = newest_report(tmp_path / "secrets" / "key")
    [entry] = report["files"]
    assert entry["reason"].startswith("already present") and entry["attention"] == ""
    page = sorted((tmp_path / "secrets" / "reports").glob("*/report.html"), key=lambda p: p.stat().st_mtime)[-1]
    text = page.read_text()
    assert "Needs your attention: nothing" in text and "Review items are those of this run only" in text


def test_every_link_of_a_report_with_a_proven_clean_image_names_an_element(tmp_path):
    from support.burned_in import burned_in_dataset
    save_in(burned_in_dataset(color=True), tmp_path / "in" / "us.dcm")
    copy("MR_truncated.dcm", tmp_path / "in")          # a failure: a row of its own, linked
    assert anonymize(tmp_path, [tmp_path / "in"], "--clean-pixel-data") == 1
    report = newest_report(tmp_path / "secrets" / "key")
    [image] = report["pixels"]
    assert image.get("proven", image.get("verified"))  # proven clean: no attention row
    page = sorted((tmp_path / "secrets" / "reports").glob("*/report.html"))[-1]
    assert f'href="#image-{image["number"]}"' not in page.read_text()   # no row links to it either
    assert 'href="#file-' in page.read_text()
    assert dangling_links(page) == []


def test_the_demo_asks_only_for_files_that_ship_with_pydicom():
    # pydicom's own package folder (pydicom/data/test_files), not pydicom-data's download cache
    import pydicom.data
    bundled = Path(pydicom.data.__file__).parent / "test_files"
    assert [name for name in cli.DEMO_FILES if not (bundled / name).is_file()] == []
    from pydicom.data import get_testdata_file
    for name in cli.DEMO_FILES:   # download=False finds them all
        assert Path(get_testdata_file(name, download=False)).parent == bundled


def test_pixel_rules_without_clean_pixel_data_is_refused(tmp_path, capsys):
    rules = tmp_path / "rules.json"
    rules.write_text("[]")
    assert anonymize(tmp_path, [copy("CT_small.dcm", tmp_path / "in")], "--pixel-rules", rules) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --pixel-rules is for --clean-pixel-data: add --clean-pixel-data, or leave --pixel-rules "
                   "out"]
    assert not (tmp_path / "out").exists()


def test_dry_run_shows_kept_values_only_with_verbose(tmp_path, capsys):
    ct = read("CT_small.dcm")
    ct.InstitutionName = "St. Elsewhere Hospital"
    save_in(ct, tmp_path / "in" / "ct.dcm")
    assert anonymize(tmp_path, [tmp_path / "in"], "--retain-institution-identity", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Would need review:" in out and "InstitutionName" in out
    assert "Elsewhere" not in out
    assert anonymize(tmp_path, [tmp_path / "in"], "--retain-institution-identity", "--dry-run", "--verbose") == 0
    assert "St. Elsewhere Hospital" in capsys.readouterr().out


def test_no_linkage_says_what_is_and_is_not_recorded(tmp_path, capsys):
    assert anonymize(tmp_path, [copy("CT_small.dcm", tmp_path / "in")], "--no-linkage") == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("Linkage off"))
    assert "no original value" in line and "keeps only pseudonyms, new UIDs" in line
    assert "numbers the inputs" in line
    assert "Linkage store (key holders only)" not in out


def test_compare_into_a_missing_folder_makes_it_owner_only(tmp_path, capsys):
    ct = copy("rtplan.dcm", tmp_path / "in")   # no pixels: nothing needs numpy
    assert anonymize(tmp_path, [ct]) == 0
    [output] = [f["output"] for f in newest_report(tmp_path / "secrets" / "key")["files"]]
    capsys.readouterr()
    page = tmp_path / "secrets" / "pages" / "new" / "compare.html"
    assert main(["compare", str(ct), output, "--key-file", str(tmp_path / "secrets" / "key"),
                 "--html", str(page)]) == 0
    assert page.is_file() and oct(page.parent.stat().st_mode & 0o777) == "0o700"


def test_folder_compare_pairs_by_the_linkage_store_and_shows_a_failed_input_as_failed(tmp_path, capsys):
    # MR_truncated.dcm is MR_small.dcm cut off: the same SOP Instance UID, so a UID pairs it with MR_small's output
    originals = tmp_path / "in"
    copy("MR_small.dcm", originals)
    copy("MR_truncated.dcm", originals)
    assert pydicom.dcmread(originals / "MR_small.dcm").SOPInstanceUID == pydicom.dcmread(
        originals / "MR_truncated.dcm", force=True).SOPInstanceUID
    assert anonymize(tmp_path, [originals]) == 1
    capsys.readouterr()
    assert main(["compare", str(originals), str(tmp_path / "out"), "--key-file",
                 str(tmp_path / "secrets" / "key")]) == 0
    out = capsys.readouterr().out
    assert f"failed   {originals / 'MR_truncated.dcm'}: truncated" in out
    paired = [line[3:] for line in out.splitlines() if line.startswith("== ")]
    assert paired == [str(originals / "MR_small.dcm")]


ERRORS = [   # (what is wrong, the arguments after `anonymize IN`, the profile file's text or None, in the line)
    ("missing input", ["{missing}", "--output", "{out}"], None, "does not exist: check the path"),
    ("profile: unknown key", ["--output", "{out}"], '{"retian_uids": true}', "did you mean retain_uids?"),
    ("profile: option name", ["--output", "{out}"], '{"retain_dates": "full"}', "did you mean dates?"),
    ("profile: option spelled as on the command line", ["--output", "{out}"], '{"--retain-dates": "full"}',
     "did you mean dates?"),
    ("profile: option with dashes", ["--output", "{out}"], '{"retain-uids": true}', "did you mean retain_uids?"),
    ("profile: flag name", ["--output", "{out}"], '{"keep-sex": true}', "did you mean pseudonym_keeps_sex?"),
    ("patient name without fixed identity", ["--output", "{out}", "--patient-name", "Study^Subject"], None,
     "--patient-name and --patient-id are for --identity fixed"),
    ("patient id with identity clear", ["--output", "{out}", "--identity", "clear", "--patient-id", "S1"], None,
     "--patient-name and --patient-id are for --identity fixed"),
    ("profile: wrong type", ["--output", "{out}"], '{"retain_uids": "yes"}', "must be true or false"),
    ("profile: bad value", ["--output", "{out}"], '{"dates": "some"}', "dates must be one of"),
    ("profile: bad JSON", ["--output", "{out}"], '{"retain_uids": tru}', "is not valid JSON"),
    ("profile: bad TOML", ["--output", "{out}"], "toml:retain_uids = \n", "is not valid TOML"),
    ("profile: not a table", ["--output", "{out}"], "[1]", "a table of settings"),
    ("profile: decisions not a list", ["--output", "{out}"], '{"review_decisions": "keep"}',
     "review_decisions must be a list"),
    ("profile: decision keys", ["--output", "{out}"], '{"review_decisions": [{"path": "X", "decision": "keep"}]}',
     "review_decisions entry 1: unknown keys path; missing attribute"),
    ("profile: decision value", ["--output", "{out}"],
     '{"review_decisions": [{"attribute": "X", "decision": "maybe"}]}', "must be keep, remove or edit"),
    ("profile: private not a list", ["--output", "{out}"], '{"extra_safe_private": "0019,X,0C"}',
     "extra_safe_private must be a list"),
    ("profile missing", ["--output", "{out}", "--profile", "{missing}"], None, "does not exist"),
    ("unknown option value", ["--output", "{out}", "--retain-dates", "some"], None, "invalid choice"),
    ("unreadable key", ["--output", "{out}", "--key-file", "{badkey}"], None, "is not a key"),
    ("pixel rules alone", ["--output", "{out}", "--pixel-rules", "{badkey}"], None, "--pixel-rules is for"),
    ("output in /proc", ["--output", "/proc/deidentified"], None,
     "the destination folder /proc/deidentified cannot be made (in /proc): no such file or directory; name a folder"),
    ("output in /sys", ["--output", "/sys/deidentified"], None, "cannot be made (in /sys)"),
    ("into /proc", ["--into", "/proc/side"], None, "cannot be made (in /proc)"),
    ("output is a file", ["--output", "{badkey}"], None, "is a file, not a folder: name a folder"),
    ("output inside a file", ["--output", "{badkey}/out"], None, "a file, not a folder"),
    ("report folder holds the output", ["--output", "{out}", "--report-dir", "{here}"], None,
     "holds the destination folder"),
    ("report folder is the output", ["--output", "{out}", "--report-dir", "{out}"], None,
     "would be inside the destination folder"),
    ("report folder inside the output", ["--output", "{out}", "--report-dir", "{out}/reports"], None,
     "would be inside the destination folder"),
]


@pytest.mark.parametrize("what, arguments, profile, expected", ERRORS, ids=[e[0] for e in ERRORS])
def test_every_user_error_is_one_line_exit_2(tmp_path, capsys, what, arguments, profile, expected):
    source = copy("CT_small.dcm", tmp_path / "in")
    (tmp_path / "badkey").write_text("not a key\n")
    places = {"out": tmp_path / "out", "missing": tmp_path / "nothing-here.dcm", "badkey": tmp_path / "badkey",
              "here": tmp_path}
    arguments = [a.format(**places) for a in arguments]
    if profile is not None:
        name = "p.toml" if profile.startswith("toml:") else "p.json"
        (tmp_path / name).write_text(profile.removeprefix("toml:"))
        arguments += ["--profile", str(tmp_path / name)]
    if "--key-file" not in arguments:
        arguments += ["--key-file", str(tmp_path / "secrets" / "key"), "--create-key"]
    try:
        status = main(["anonymize", str(source), *arguments, "--quiet"])
    except SystemExit as exit_:   # argparse's errors (unknown option values)
        status = exit_.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert expected in lines[0] and "Traceback" not in captured.err and captured.out == ""
    assert not (tmp_path / "out").exists()


NUMBERS = [   # (the command's arguments before the value, the option, a bad value, in the line): every numeric option
    (["anonymize", "{in}", "--output", "{out}"], "--jobs", "0", "less than 1"),
    (["anonymize", "{in}", "--output", "{out}"], "--jobs", "-2", "less than 1"),
    (["anonymize", "{in}", "--output", "{out}"], "--jobs", "two", "not a whole number"),
    (["anonymize", "{in}", "--output", "{out}"], "--max-file-size", "-5", "give a number of megabytes above 0"),
    (["anonymize", "{in}", "--output", "{out}"], "--max-file-size", "0", "give a number of megabytes above 0"),
    (["anonymize", "{in}", "--output", "{out}"], "--max-file-size", "big", "not a number of megabytes"),
    (["anonymize", "{in}", "--output", "{out}"], "--max-file-size", "inf", "give a number of megabytes above 0"),
    (["anonymize", "{in}", "--output", "{out}"], "--max-inflated-size", "-1", "give a number of megabytes above 0"),
    (["anonymize", "{in}", "--output", "{out}"], "--max-inflated-size", "nan", "give a number of megabytes above 0"),
    (["demo", "--workdir", "{out}"], "--jobs", "0", "less than 1"),
    (["scene:scrub", "{in}", "--output", "{out}"], "--shift-dates", "0", "less than 1"),
    (["scene:check", "{in}"], "--shift-dates", "-3", "less than 1"),
    (["scene:check", "{in}"], "--shift-dates", "1.5", "not a whole number"),
]


def run_command(arguments: list) -> int:
    """dicom-deidentify's main, or scene-scrubber's for arguments that start "scene:"; argparse's exit as a status."""
    from SceneScrubberLib.cli import main as scene_main
    command = main
    if arguments[0].startswith("scene:"):
        command, arguments = scene_main, [arguments[0].removeprefix("scene:"), *arguments[1:]]
    try:
        return command(arguments)
    except SystemExit as exit_:
        return exit_.code


@pytest.mark.parametrize("before, option, value, expected", NUMBERS, ids=[f"{n[1]} {n[2]} ({n[0][0]})" for n in NUMBERS])
def test_every_numeric_option_refuses_a_bad_value_in_one_line_exit_2(tmp_path, capsys, before, option, value,
                                                                     expected):
    source = copy("CT_small.dcm", tmp_path / "in")
    places = {"in": source, "out": tmp_path / "out"}
    status = run_command([a.format(**places) for a in before] + [f"{option}={value}"])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith(f"error: argument {option}: "), captured.err
    assert expected in lines[0] and "usage:" not in captured.err and captured.out == ""
    assert not (tmp_path / "out").exists()


SCENE_USAGE = [   # scene-scrubber's usage errors: one line naming the subcommand's help, as dicom-deidentify's
    (["scrub", "{in}"], "the following arguments are required: --output", "scene-scrubber scrub --help"),
    (["check"], "the following arguments are required: input", "scene-scrubber check --help"),
    (["check", "{in}", "--bogus"], "unrecognized arguments: --bogus", "scene-scrubber check --help"),
    (["check", "{in}", "--term", "ab"], "--term needs 3 or more letters or digits", "scene-scrubber check --help"),
    (["tidy"], "invalid choice: 'tidy'", "scene-scrubber --help"),
]


@pytest.mark.parametrize("arguments, problem, help_", SCENE_USAGE, ids=[" ".join(s[0]) for s in SCENE_USAGE])
def test_scene_scrubber_usage_errors_are_one_line_without_the_usage_block(tmp_path, capsys, arguments, problem,
                                                                         help_):
    from SceneScrubberLib.cli import main as scene_main
    places = {"in": copy("CT_small.dcm", tmp_path / "in")}
    with pytest.raises(SystemExit) as exit_:
        scene_main([a.format(**places) for a in arguments])
    captured = capsys.readouterr()
    assert exit_.value.code == 2 and captured.out == ""
    assert captured.err == f"error: {captured.err.removeprefix('error: ').splitlines()[0]}\n"   # one line
    assert problem in captured.err and captured.err.rstrip().endswith(f"see {help_}") and "usage:" not in captured.err


def test_a_page_inside_a_destination_of_another_key_is_refused(tmp_path, capsys):
    # finding 2 of review 18b: the destination is known by its marker, looking up from the page's folder
    ct = copy("rtplan.dcm", tmp_path / "in")   # no pixels: nothing needs numpy
    assert anonymize(tmp_path, [ct]) == 0                      # key one, into out/
    marker = tmp_path / "out" / ".slicer-deidentify-destination.json"
    from DicomDeidentifyLib.marker_files import key_fingerprint   # nothing identifying; the key's fingerprint (18d)
    key_bytes = bytes.fromhex((tmp_path / "secrets" / "key").read_text().strip())
    assert json.loads(marker.read_text()) == {"created_by": "SlicerDeidentify", "layout": "patient/study/series/instance",
                                              "contents": "de-identified DICOM files only",
                                              "key_fingerprint": key_fingerprint(key_bytes)}
    other_key = tmp_path / "other" / "key"                     # key two never recorded out/
    assert main(["anonymize", str(ct), "--output", str(tmp_path / "out2"), "--key-file", str(other_key),
                 "--create-key", "--quiet", "--jobs", "1"]) == 0
    [output] = [f["output"] for f in newest_report(other_key)["files"]]
    capsys.readouterr()
    deep = tmp_path / "out" / "pages" / "deeper"
    status = main(["anonymize", str(ct), "--output", str(tmp_path / "out3"), "--key-file", str(other_key),
                   "--report-dir", str(deep), "--quiet", "--jobs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and f"inside the destination folder {tmp_path / 'out'}" in err and err.count("\n") == 1
    assert not (tmp_path / "out" / "pages").exists() and not (tmp_path / "out3").exists()
    page = deep / "compare.html"                               # compare's page too, with either key
    for key in (other_key, tmp_path / "secrets" / "key"):
        status = main(["compare", str(ct), output, "--key-file", str(key), "--html", str(page)])
        err = capsys.readouterr().err
        assert status == 2 and f"inside the destination folder {tmp_path / 'out'}" in err, err
        assert not (tmp_path / "out" / "pages").exists()
    # beside it is fine
    assert main(["compare", str(ct), output, "--key-file", str(other_key), "--html",
                 str(tmp_path / "pages" / "compare.html")]) == 0


def test_a_rerun_with_everything_already_present_marks_an_unmarked_destination(tmp_path, capsys):
    ct = copy("rtplan.dcm", tmp_path / "in")
    assert anonymize(tmp_path, [ct]) == 0
    marker = tmp_path / "out" / ".slicer-deidentify-destination.json"
    marker.unlink()                                            # a destination written before the marker existed
    assert anonymize(tmp_path, [ct]) == 0
    assert "1 file already present" in capsys.readouterr().out and marker.is_file()


def test_a_dry_run_or_a_run_that_writes_nothing_leaves_no_marker(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("not DICOM\n")
    assert anonymize(tmp_path, [tmp_path / "in"]) == 0        # skipped: nothing written
    assert not (tmp_path / "out" / ".slicer-deidentify-destination.json").exists()
    ct = copy("rtplan.dcm", tmp_path / "in2")
    assert anonymize(tmp_path, [ct], "--dry-run") == 0
    assert not (tmp_path / "out" / ".slicer-deidentify-destination.json").exists()


def test_lookup_usage_errors_are_exit_2_and_not_found_is_exit_1(tmp_path, capsys):
    ct = copy("rtplan.dcm", tmp_path / "in")
    assert anonymize(tmp_path, [ct]) == 0
    key = tmp_path / "secrets" / "key"
    pseudonym = pydicom.dcmread(newest_report(key)["files"][0]["output"]).PatientID
    (tmp_path / "lonely").mkdir()
    lonely = tmp_path / "lonely" / "key"
    lonely.write_text("00" * 32 + "\n")   # a key no run used: no linkage store beside it
    (tmp_path / "elsewhere").mkdir()
    capsys.readouterr()
    cases = [   # (arguments, exit status, in stderr's one line)
        ([pseudonym, "--key-file", tmp_path / "missing" / "key"], 2, "no key at"),
        ([pseudonym, "--key-file", lonely], 2, "no linkage store beside the key"),
        ([pseudonym, "--key-file", key, "--into", tmp_path / "nowhere"], 2, "does not exist or is not a folder"),
        ([pseudonym, "--key-file", key, "--into", tmp_path / "elsewhere"], 2, "is not a destination of the runs"),
        (["ANONNOSUCHONE", "--key-file", key], 1, "not found"),
        (["ANONNOSUCHONE", "--key-file", key, "--into", tmp_path / "out"], 1, "not found"),
    ]
    for arguments, expected, words in cases:
        status = main(["lookup", *map(str, arguments)])
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert (status, len(lines)) == (expected, 1) and words in lines[0], (arguments, captured.err)
        assert lines[0].startswith("error: ") == (expected == 2) and captured.out == ""
    assert main(["lookup", pseudonym, "--key-file", str(key), "--into", str(tmp_path / "out")]) == 0
    assert "PHI" in capsys.readouterr().out


def test_folder_compare_pairs_with_an_earlier_destination_of_the_same_inputs(tmp_path, capsys):
    # finding 5 of review 18b: pairing followed each input's latest run only, into another folder
    originals = tmp_path / "in"
    copy("rtplan.dcm", originals)
    copy("rtdose.dcm", originals)
    key = tmp_path / "secrets" / "key"
    for folder in ("first", "second"):
        assert main(["anonymize", str(originals), "--output", str(tmp_path / folder), "--key-file", str(key),
                     "--create-key", "--quiet", "--jobs", "1"]) == 0
    for folder in ("first", "second"):
        capsys.readouterr()
        assert main(["compare", str(originals), str(tmp_path / folder), "--key-file", str(key)]) == 0
        out = capsys.readouterr().out
        assert "failed" not in out
        pairs = [(line[3:], following.strip()) for line, following in zip(out.splitlines(), out.splitlines()[1:])
                 if line.startswith("== ")]
        assert sorted(original for original, _ in pairs) == [str(originals / "rtdose.dcm"),
                                                              str(originals / "rtplan.dcm")]
        assert all(Path(output).is_relative_to(tmp_path / folder) for _, output in pairs)


def test_compare_says_not_dicom_in_one_line_and_no_library_warning(tmp_path, capsys):
    # finding 9 of review 18b: pydicom's raw warning, and no "not DICOM" line
    dicom = copy("rtplan.dcm", tmp_path / "in")
    text = tmp_path / "in" / "notes.txt"
    text.write_text("Doe John, MRN 12345\n")
    for pair in ((text, dicom), (dicom, text)):
        with _no_warnings():
            status = main(["compare", *map(str, pair)])
        captured = capsys.readouterr()
        assert status == 2 and captured.out == "" and captured.err == (
            f"error: {text}: not a DICOM file (no 'DICM' prefix and no data set at the start): compare two DICOM "
            "files\n")
    # in folders: the file is listed as failed with its reason, the rest compared
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "notes.txt").write_bytes(text.read_bytes())
    (tmp_path / "copy" / "plan.dcm").write_bytes(dicom.read_bytes())
    with _no_warnings():
        status = main(["compare", str(tmp_path / "in"), str(tmp_path / "copy")])
    captured = capsys.readouterr()
    # stderr: only the one-line warning that original values follow (review 18d, finding 7)
    assert status == 0 and captured.err == cli.COMPARE_WARNING + "\n" and f"== {dicom}" in captured.out


class _no_warnings:
    """Fails if a warning (pydicom's) is issued inside the block."""

    def __enter__(self):
        import warnings
        self._catcher = warnings.catch_warnings(record=True)
        self.caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._catcher.__exit__(*exc)
        assert not self.caught, [str(w.message) for w in self.caught]


def test_a_rerun_counts_and_lists_only_what_it_did_the_same_in_console_and_report(tmp_path, capsys):
    # finding 4 of review 18b: a re-run counted review items of files already present, and the report said
    # "Skipped (1)" where the console said 5 skipped
    ct = read("CT_small.dcm")
    ct.InstitutionName = "St. Elsewhere"
    save_in(ct, tmp_path / "in" / "ct.dcm")
    copy("rtplan.dcm", tmp_path / "in")
    (tmp_path / "in" / "notes.txt").write_text("not DICOM\n")
    args = ("--retain-institution-identity",)   # kept institutions: review items
    assert anonymize(tmp_path, [tmp_path / "in"], *args) == 0
    first = capsys.readouterr().out
    assert "2 written, 1 skipped, 0 failed" in first and " 0 review items" not in first
    assert anonymize(tmp_path, [tmp_path / "in"], *args) == 0
    again = capsys.readouterr().out
    assert "0 written, 3 skipped (2 already present, not written again), 0 failed, 0 review items" in again, again
    assert "2 files already present (written by an earlier run from the same input, profile and key): not written " \
           "again" in again and "not read again" not in again
    report = newest_report(tmp_path / "secrets" / "key")
    assert report["totals"] == {"written": 0, "skipped": 3, "failed": 0, "dry-run": 0, "files": 3,
                                "already_present": 2, "review_items": 0}
    assert report["review"] == [] and not any(report["attributes"].values()) and report["samples"] == []
    assert [entry["review"] for entry in report["files"]] == [0, 0, 0]
    page = sorted((tmp_path / "secrets" / "reports").glob("*/report.html"), key=lambda p: p.stat().st_mtime)[-1]
    text = " ".join(page.read_text().split())
    assert "<h3 id=\"skipped\">Skipped (1)</h3>" in text                      # the one the console lists too
    assert "2 files already present (written by an earlier run from the same input, profile and key): not " \
           "written again" in text
    assert "<th>skipped</th><td>3</td>" in text and "<th>review_items</th><td>0</td>" in text
    assert "<th>of the skipped: already present, not written again</th><td>2</td>" in text


def test_demo_into_a_folder_with_a_file_in_its_way_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "mine.txt").write_text("kept\n")
    (tmp_path / "work" / "originals").write_text("a file where the demo's folder goes\n")
    assert main(["demo", "--workdir", str(tmp_path / "work")]) == 2
    captured = capsys.readouterr()
    assert captured.err == (f"error: demo --workdir {tmp_path / 'work'}: {tmp_path / 'work' / 'originals'} is a file, "
                            "not a folder: name a new folder, or one an earlier demo made\n") and captured.out == ""
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["mine.txt", "originals"]
