"""Review 18d's findings: compare never writes its page into an input, and the demo looks at its --workdir
before it copies any original file (finding 4; issue 18: neither page can be written inside a destination;
inputs are never modified); held release refuses a name in both --keep and --remove and a name no held file
waits on, before anything moves (finding 3)."""
import pytest

from DicomDeidentifyLib import cli
from DicomDeidentifyLib.review import check_release_names
from support.data import data_file, read, save


def _run_into(tmp_path, capsys):
    """Two CTs de-identified into tmp_path/out with a key in tmp_path/secrets; returns (inputs, out, key)."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (inputs / name).write_bytes(data_file(name).read_bytes())
    out, key = tmp_path / "out", tmp_path / "secrets" / "k.key"
    assert cli.main(["anonymize", str(inputs), "--output", str(out), "--key-file", str(key), "--create-key",
                     "--jobs", "1"]) == 0
    capsys.readouterr()
    return inputs, out, key


def test_compare_refuses_a_page_inside_the_originals_and_writes_nothing_there(tmp_path, capsys):
    inputs, out, key = _run_into(tmp_path, capsys)
    before = sorted(p.relative_to(inputs) for p in inputs.rglob("*"))
    for page in (inputs / "page.html", inputs / "deeper" / "page.html"):
        assert cli.main(["compare", str(inputs), str(out), "--key-file", str(key), "--html", str(page)]) == 2
        captured = capsys.readouterr()
        assert captured.err == (f"error: the --html page {page} would be inside the input folder {inputs}: inputs "
                                "are only read, never written into; name a place apart from the inputs (e.g. beside "
                                "the key)\n")
        assert captured.out == ""
    assert sorted(p.relative_to(inputs) for p in inputs.rglob("*")) == before   # no page, images or folder
    # one original file given: its folder is an input too
    assert cli.main(["compare", str(inputs / "CT_small.dcm"), str(out), "--key-file", str(key),
                     "--html", str(inputs / "p.html")]) == 2
    assert "would be inside the input folder" in capsys.readouterr().err
    # beside the key it is written
    page = key.parent / "compare.html"
    assert cli.main(["compare", str(inputs), str(out), "--key-file", str(key), "--html", str(page)]) == 0
    assert page.is_file() and (key.parent / "compare_images").is_dir()


def test_demo_refuses_a_workdir_inside_a_destination_before_copying_anything(tmp_path, capsys):
    _inputs, out, _key = _run_into(tmp_path, capsys)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for workdir in (out, out / "demo"):
        assert cli.main(["demo", "--workdir", str(workdir), "--jobs", "1"]) == 2
        captured = capsys.readouterr()
        assert captured.err == (f"error: demo --workdir {workdir} would be inside the destination folder {out}, which "
                                "is shared: the demo copies original files and writes its key there; name a folder "
                                "apart from any destination (the default is ./demo-output)\n")
        assert captured.out == ""   # not even "Sample inputs"
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_a_second_demo_in_its_own_workdir_still_runs(tmp_path, capsys):
    workdir = tmp_path / "demo"
    assert cli.main(["demo", "--workdir", str(workdir), "--jobs", "1"]) == 0
    assert cli.main(["demo", "--workdir", str(workdir), "--jobs", "1"]) == 0
    assert "already present" in capsys.readouterr().out


def _held_side_database(tmp_path, capsys):
    """Two files held back from a side database for their cleaned Study Description; (side, key, held files)."""
    source = tmp_path / "held-in"
    source.mkdir()
    for number, name in enumerate(("CT_small.dcm", "MR_small.dcm")):
        ds = read(name)
        ds.StudyDescription = f"Head study {number}"
        save(ds, source / f"{number}.dcm")
    key, side = tmp_path / "secrets" / "k.key", tmp_path / "sdb"
    assert cli.main(["anonymize", str(source), "--into", str(side), "--key-file", str(key), "--create-key",
                     "--clean-descriptors", "--jobs", "1", "--quiet"]) == 0
    capsys.readouterr()
    held = sorted((key.parent / "held").rglob("*.dcm"))
    assert len(held) == 2 and not list(side.rglob("*.dcm"))
    return side, key, held


@pytest.mark.parametrize("arguments, message", [
    (["--keep", "StudyDescription", "--remove", "StudyDescription"],
     "error: StudyDescription given to both --keep and --remove: decide once per attribute (nothing was released)\n"),
    (["--remove", "StudyDescription", "--keep", "NoSuchAttribute"],
     "error: no held file waits on NoSuchAttribute: use the names 'held list' shows (nothing was released)\n"),
    (["--remove", "studydescription"],
     "error: no held file waits on studydescription (did you mean StudyDescription?): use the names 'held list' "
     "shows (nothing was released)\n"),
])
def test_held_release_refuses_names_it_cannot_act_on_and_changes_nothing(tmp_path, capsys, arguments, message):
    side, key, held = _held_side_database(tmp_path, capsys)
    before = {path: path.read_bytes() for path in held}
    assert cli.main(["held", "release", "--into", str(side), "--key-file", str(key), *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.err == message and captured.out == ""
    assert {path: path.read_bytes() for path in sorted((key.parent / "held").rglob("*.dcm"))} == before
    assert not list(side.rglob("*.dcm"))


def test_release_names_are_checked_by_one_library_rule():
    check_release_names(["A"], ["B"], {"A", "B", "C"})   # good names: no error
    with pytest.raises(ValueError, match="^A, B given to both"):
        check_release_names(["B", "A"], ["A", "B"], {"A", "B"})
    with pytest.raises(ValueError, match=r"^no held file waits on X, a \(did you mean A\?\)"):
        check_release_names(["X", "a"], [], {"A"})
    with pytest.raises(ValueError, match="^no held file waits on A"):
        check_release_names(["A"], [], set())   # nothing held at all
