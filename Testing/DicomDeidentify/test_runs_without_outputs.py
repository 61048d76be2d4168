"""A run that wrote nothing made no destination (review 18c finding 10): the folder it named is not
recorded as one, so a later --report-dir there is not refused with a false message; an input without
any file is a usage error (exit 2, review 18d)."""
from DicomDeidentifyLib import cli
from DicomDeidentifyLib.linkage import LinkageStore, linkage_path
from support.data import data_file


def test_a_run_that_wrote_nothing_is_no_destination(tmp_path, capsys):
    empty, key = tmp_path / "empty", tmp_path / "secrets" / "k.key"
    empty.mkdir()
    # an input without any file is a usage problem (review 18d): one line, exit 2, nothing made
    assert cli.main(["anonymize", str(empty), "--output", str(tmp_path / "mine"), "--key-file", str(key),
                     "--create-key", "--jobs", "1", "--quiet"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: no files in the input") and str(empty) not in line
    assert not key.parent.exists() and not (tmp_path / "mine").exists()
    # one file that is not DICOM: the run skips it and writes nothing
    (empty / "notes.txt").write_text("not DICOM\n")
    assert cli.main(["anonymize", str(empty), "--output", str(tmp_path / "mine"), "--key-file", str(key),
                     "--create-key", "--jobs", "1", "--quiet"]) == 0
    store = LinkageStore(linkage_path(key))
    try:
        assert store.destinations() == []
    finally:
        store.close()
    # the folder is the person's own: a report may go there
    source = tmp_path / "in"
    source.mkdir()
    (source / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    assert cli.main(["anonymize", str(source), "--output", str(tmp_path / "out"), "--key-file", str(key),
                     "--report-dir", str(tmp_path / "mine"), "--jobs", "1", "--quiet"]) == 0, capsys.readouterr().err
    # a run that wrote a file is one: a report there is refused from then on
    assert cli.main(["anonymize", str(source), "--output", str(tmp_path / "out2"), "--key-file", str(key),
                     "--report-dir", str(tmp_path / "out" / "r"), "--jobs", "1", "--quiet"]) == 2
    store = LinkageStore(linkage_path(key))
    try:
        assert store.destinations() == [str(tmp_path / "out")]
    finally:
        store.close()
