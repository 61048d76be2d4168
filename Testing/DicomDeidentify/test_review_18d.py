"""Review 18d's findings (issue 18, what a new user sees), those test_review18d_held_and_pages.py does not cover: a side
database named as --output, two keys into one destination, a compare page inside a recorded input, the
demo into a destination, an uncleaned image in the report, a closed pipe, compare's warning, the Table
E.1-1 flags' help, the scheduler address, and the summaries' wording."""
import json
import re

import pytest

from DicomDeidentifyLib.cli import main
from DicomDeidentifyLib.destinations import OUTPUT_MARKER
from DicomDeidentifyLib.marker_files import FINGERPRINT_FIELD, key_fingerprint
from DicomDeidentifyLib.side_database import SIDE_DATABASE_MARKER
from support.data import KEY, OTHER_KEY, read, save


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    ct = read("CT_small.dcm")
    ct.InstitutionName = "St. Elsewhere"   # kept by --retain-institution-identity: held back in a side database
    save(ct, folder / "ct.dcm")
    return folder


def run(inputs, where, place, key, *more):
    return main(["anonymize", str(inputs), where, str(place), "--key-file", str(key), "--create-key", "--quiet",
                 "--jobs", "1", *map(str, more)])


def files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_a_side_database_named_as_output_is_refused_and_nothing_lands_in_it(tmp_path, inputs, capsys):
    side, key = tmp_path / "side", tmp_path / "secrets" / "key"
    assert run(inputs, "--into", side, key, "--retain-institution-identity") == 0
    before = files(side)
    assert [str(p) for p in before] == [SIDE_DATABASE_MARKER]   # the file is held back, beside the key
    capsys.readouterr()
    for output in (side, side / "sub"):
        assert run(inputs, "--output", output, key, "--retain-institution-identity") == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "a side database" in err[0] and "--into" in err[0]
    assert files(side) == before


def test_a_destination_records_its_keys_fingerprint_and_refuses_another_key(tmp_path, inputs, capsys):
    for where, marker in (("--output", OUTPUT_MARKER), ("--into", SIDE_DATABASE_MARKER)):
        destination = tmp_path / where.strip("-")
        key_a, key_b = tmp_path / f"a{marker}" / "key", tmp_path / f"b{marker}" / "key"
        assert run(inputs, where, destination, key_a) == 0
        recorded = json.loads((destination / marker).read_text())[FINGERPRINT_FIELD]
        key_bytes = bytes.fromhex(key_a.read_text().strip())
        assert recorded == key_fingerprint(key_bytes) and key_bytes.hex() not in recorded
        before = files(destination)
        capsys.readouterr()
        # a new key (not made: refused before) and an existing other key are both refused, nothing written
        assert run(inputs, where, destination, key_b) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "another key" in err[0] and "--key-file" in err[0]
        assert not key_b.exists()
        key_b.parent.mkdir(exist_ok=True)
        key_b.write_text(OTHER_KEY.hex() + "\n")
        key_b.chmod(0o600)
        assert run(inputs, where, destination, key_b) == 2 and files(destination) == before
        assert run(inputs, where, destination, key_a) == 0   # the same key goes on


@pytest.mark.parametrize("outer", ["--output", "--into"])
@pytest.mark.parametrize("inner", ["--output", "--into"])
def test_a_destination_inside_another_destination_is_refused_whichever_key(tmp_path, inputs, capsys, outer, inner):
    # attack18 F1/F2: a subfolder of a destination (a patient folder of it, or a new one) read only its own
    # marker, so a second key's outputs (or a second side database) landed inside the first destination
    destination, key_a, key_b = tmp_path / "dest", tmp_path / "a" / "key", tmp_path / "b" / "key"
    assert run(inputs, outer, destination, key_a) == 0
    before = files(destination)
    patient_folders = [p for p in destination.iterdir() if p.is_dir()]
    capsys.readouterr()
    for nested in (*patient_folders, destination / "sub", destination / "sub" / "deeper"):
        for key in (key_b, key_a):
            assert run(inputs, inner, nested, key) == 2, (nested, key)
            [line] = capsys.readouterr().err.strip().splitlines()
            assert re.search(rf"is inside (the (output folder|side database) )?{re.escape(str(destination))},", line), line
    assert files(destination) == before and not key_b.exists()
    assert not (destination / "sub").exists()


def test_an_older_marker_without_a_fingerprint_gets_the_first_keys(tmp_path, inputs, capsys):
    out, key = tmp_path / "out", tmp_path / "secrets" / "key"
    out.mkdir()
    (out / OUTPUT_MARKER).write_text(json.dumps({"created_by": "SlicerDeidentify"}))   # as markers were
    key.parent.mkdir()
    key.write_text(KEY.hex() + "\n")
    key.chmod(0o600)
    assert run(inputs, "--output", out, key) == 0
    assert json.loads((out / OUTPUT_MARKER).read_text())[FINGERPRINT_FIELD] == key_fingerprint(KEY)
    other = tmp_path / "other" / "key"
    assert run(inputs, "--output", out, other) == 2


def test_compare_refuses_a_page_inside_the_originals_or_any_recorded_input(tmp_path, inputs, capsys):
    out, key = tmp_path / "out", tmp_path / "secrets" / "key"
    assert run(inputs, "--output", out, key) == 0
    before = files(inputs)
    capsys.readouterr()
    # the folder compared, a file's own folder, and an input of a recorded run not given to compare
    other = tmp_path / "other"
    other.mkdir()
    for original, page in ((inputs, inputs / "page.html"), (inputs / "ct.dcm", inputs / "sub" / "page.html"),
                           (other, inputs / "page.html")):
        assert main(["compare", str(original), str(out), "--html", str(page), "--key-file", str(key)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "inside the input folder" in err[0]
        assert files(inputs) == before
    page = tmp_path / "pages" / "page.html"   # outside every input and destination: written
    assert main(["compare", str(inputs), str(out), "--html", str(page), "--key-file", str(key)]) == 0
    assert page.is_file()


@pytest.mark.parametrize("where", ["--output", "--into"])
def test_demo_into_a_destination_is_refused_before_it_copies_anything(tmp_path, inputs, capsys, where):
    destination, key = tmp_path / "dest", tmp_path / "secrets" / "key"
    assert run(inputs, where, destination, key) == 0
    before = files(destination)
    capsys.readouterr()
    assert main(["demo", "--workdir", str(destination / "demo")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inside the destination folder" in err[0] and "--workdir" in err[0]
    assert files(destination) == before


@pytest.mark.parametrize("linkage", [True, False])
def test_an_image_held_for_burned_in_risk_without_cleaning_is_shown_whole_in_the_report(tmp_path, capsys, linkage):
    import io
    import pydicom
    from PIL import Image
    from support.burned_in import burned_in_dataset
    (tmp_path / "in").mkdir()
    source = burned_in_dataset()   # an ultrasound: burned-in text likely; Clean Pixel Data off
    save(source, tmp_path / "in" / "us.dcm")
    key = tmp_path / "secrets" / "key"
    assert run(tmp_path / "in", "--output", tmp_path / "out", key, *([] if linkage else ["--no-linkage"])) == 0
    [report] = (key.parent / "reports").glob("*/report.json")
    document = json.loads(report.read_text())
    [entry] = document["uncleaned_images"]
    [row] = document["files"]
    assert row["uncleaned_image"] == 1 and row["attention"] == "review" and entry["file"] == row["number"]
    page = (report.parent / "report.html").read_text()
    assert 'href="#uncleaned-1"' in page and 'id="uncleaned-1"' in page
    [output] = (tmp_path / "out").rglob("*.dcm")
    assert pydicom.dcmread(output).PixelData == source.PixelData     # written as it came: not cleaned
    if linkage:
        picture = Image.open(io.BytesIO((report.parent / entry["image"]).read_bytes()))
        assert picture.size == (entry["width"], entry["height"]) == (480, 320)
        assert f'src="{entry["image"]}"' in page
        assert (report.parent / entry["image"]).stat().st_mode & 0o077 == 0      # owner-only
    else:   # the picture may show identity: none without originals
        assert "image" not in entry and "no linkage" in entry["why_none"]
        assert not (report.parent / "images").exists()


def test_a_closed_pipe_ends_quietly_with_141(tmp_path, inputs):
    import subprocess
    import sys
    from pathlib import Path
    cli = Path(sys.executable).parent / "dicom-deidentify"
    out, key = tmp_path / "out", tmp_path / "secrets" / "key"
    assert run(inputs, "--output", out, key) == 0
    for arguments in (["--version"], ["compare", str(inputs), str(out), "--key-file", str(key), "--all"]):
        # the reader is gone before anything is written (as `| head -1` once it has its line)
        process = subprocess.Popen([str(cli), *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 141, stderr
        # the compare warning (stderr) may be there; never a traceback or an error line
        assert "Traceback" not in stderr and "error" not in stderr and "Exception ignored" not in stderr


def test_compare_warns_on_stderr_before_it_shows_original_values(tmp_path, inputs, capsys):
    out, key = tmp_path / "out", tmp_path / "secrets" / "key"
    assert run(inputs, "--output", out, key) == 0
    capsys.readouterr()
    assert main(["compare", str(inputs), str(out), "--key-file", str(key)]) == 0
    captured = capsys.readouterr()
    assert "St. Elsewhere" in captured.out                     # an original value is shown...
    [warning] = captured.err.strip().splitlines()              # ...after one line that says so
    assert warning.startswith("warning: compare shows original (identifying) values")


def test_every_table_e11_flag_has_help_from_its_declaration_and_dates_has_one_name(tmp_path):
    from DicomDeidentifyLib.cli import build_parser, options_from_args
    from DicomDeidentifyLib.options import OPTIONS, DateMode
    anonymize = build_parser().commands["anonymize"]
    actions = {option: action for action in anonymize._actions for option in action.option_strings}
    declared = [(name, info) for name, info in OPTIONS.items() if info.flag and info.standard_name]
    assert len(declared) >= 10
    for name, info in declared:
        text = actions[info.flag].help or ""
        assert text and "\n" not in text, info.flag
        if info.implemented and info.columns:   # an option of the table's columns: named as the standard names it
            assert info.standard_name in text and "Table E.1-1" in text, (info.flag, text)
        assert actions[info.flag].dest == name == info.dest, info.flag   # the flag is named as the setting
    for flag in ("--dates", "--retain-dates"):   # the older spelling stays an alias of the same setting
        args = build_parser().parse_args(["anonymize", "in", "--output", "out", flag, "modified"])
        assert options_from_args(args).dates is DateMode.MODIFIED


@pytest.mark.parametrize("address", ["bogus", "tcp://host", "tls://:8786", "tcp://a b:8786", "tls://[zz]:1",
                                     "tcp://host:0", "tcp://host:99999", "http://host:8786", "host:8786"])
def test_a_scheduler_address_of_the_wrong_form_is_one_line_before_anything_is_tried(tmp_path, inputs, capsys,
                                                                                    address):
    key = tmp_path / "secrets" / "key"
    assert run(inputs, "--output", tmp_path / "out", key, "--scheduler", address) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "is not a scheduler address" in line and "tls://HOST:PORT" in line and "TLS" not in line.split(":")[0]
    assert not key.exists() and not (tmp_path / "out").exists()


def test_the_scheduler_address_forms_that_are_accepted():
    from DicomDeidentifyLib.cluster import ClusterError, check_scheduler_address
    for address in ("tcp://127.0.0.1:8786", "tls://scheduler.example.org:8786", "tls://[::1]:8786", "local:2"):
        check_scheduler_address(address)
    with pytest.raises(ClusterError, match="local:N takes a number of workers"):
        check_scheduler_address("local:0")


@pytest.mark.parametrize("where", ["--output", "--into"])
def test_a_dry_run_says_would_be_and_one_file_is_one_file(tmp_path, inputs, capsys, where):
    key = tmp_path / "secrets" / "key"
    assert run(inputs, where, tmp_path / "dest", key, "--retain-institution-identity", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "\n1 file in " in out and "1 review item;" in out and "(1 file)" in out
    # A rate such as "(11 files/s)" is not a plural after one: look at whole numbers only.
    assert not re.search(r"(?<![\d.])1 (files|review items)\b", out), out
    attention = [line for line in out.splitlines() if line.startswith(("held ", "review "))]
    assert attention and all("would be" in line for line in attention), attention
    assert ": written" not in out and "1 would be written" in out
    held, to_review = (1, 0) if where == "--into" else (0, 1)
    assert f"of these, {held} would be held back for review, {to_review} needing review" in out
    assert not (tmp_path / "dest").exists()


def test_an_input_without_any_file_is_one_line_exit_2_and_nothing_is_made(tmp_path, capsys):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    key = tmp_path / "secrets" / "key"
    assert run(tmp_path / "empty", "--output", tmp_path / "out", key) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == ("error: no files in the input: nothing to de-identify; give DICOM files or folders holding them")
    assert not key.parent.exists() and not (tmp_path / "out").exists()


def test_held_files_are_never_released_into_a_side_database_of_another_key(tmp_path, inputs, capsys):
    # attack18b F7: the side database started over with another key took the first key's held files
    side, key_a, key_b = tmp_path / "side", tmp_path / "a" / "key", tmp_path / "b" / "key"
    assert run(inputs, "--into", side, key_a, "--retain-institution-identity") == 0
    side.rename(tmp_path / "side.old")
    assert run(inputs, "--into", side, key_b, "--retain-institution-identity") == 0
    before = files(side)
    capsys.readouterr()
    assert main(["held", "release", "--into", str(side), "--key-file", str(key_a), "--keep", "InstitutionName"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "another key" in line, line
    assert files(side) == before
    assert main(["held", "list", "--into", str(side), "--key-file", str(key_a)]) == 0
    assert "1 file held back" in capsys.readouterr().out   # still held, beside key A
