"""Review 18d's findings on places: compare never writes its page into an input, and the demo looks at its
--workdir before it copies any original file (issue 18: neither page can be written inside a destination;
inputs are never modified)."""
from DicomDeidentifyLib import cli
from support.data import data_file


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
