"""held list / held release (review 18c finding 7): the files held back from a side database can be
listed and released from the command line, through the library function Slicer's panel uses."""
import pydicom

from DicomDeidentifyLib import cli
from support.data import read, save


def test_held_files_are_listed_and_released_from_the_command_line(tmp_path, capsys):
    source = tmp_path / "in"
    source.mkdir()
    for number, name in enumerate(("CT_small.dcm", "MR_small.dcm")):
        ds = read(name)
        ds.StudyDescription = f"Head study {number}"   # kept (cleaned) by --clean-descriptors: a person decides
        save(ds, source / f"{number}.dcm")
    key, side = tmp_path / "secrets" / "k.key", tmp_path / "sdb"
    assert cli.main(["anonymize", str(source), "--into", str(side), "--key-file", str(key), "--create-key",
                     "--clean-descriptors", "--jobs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "'held list --into' shows what waits" in out
    assert not list(side.rglob("*.dcm"))                       # both held back
    assert cli.main(["held", "list", "--into", str(side), "--key-file", str(key)]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("2 files held back from") and "StudyDescription" in listed
    assert "Head study" not in listed                          # values only with --verbose
    assert cli.main(["held", "list", "--into", str(side), "--key-file", str(key), "--verbose"]) == 0
    assert "Head study" in capsys.readouterr().out
    # a decision that covers nothing waiting is refused: it releases nothing (review 18d, finding 3)
    assert cli.main(["held", "release", "--into", str(side), "--key-file", str(key), "--keep", "SeriesDescription"]) == 2
    assert "no held file waits on SeriesDescription" in capsys.readouterr().err and not list(side.rglob("*.dcm"))
    # removing the description and keeping every other waiting attribute (as listed) releases both
    waiting = {line.strip().split(":")[0] for line in listed.splitlines() if line.startswith("      ")}
    assert "StudyDescription" in waiting
    keep = [arg for attribute in sorted(waiting - {"StudyDescription"}) for arg in ("--keep", attribute)]
    assert cli.main(["held", "release", "--into", str(side), "--key-file", str(key), "--remove", "StudyDescription",
                     *keep]) == 0
    assert capsys.readouterr().out.startswith("2 released into")
    released = sorted(side.rglob("*.dcm"))
    assert len(released) == 2 and all("StudyDescription" not in pydicom.dcmread(p) for p in released)
    assert not list((key.parent / "held" / "pending").rglob("*.dcm"))
    assert cli.main(["held", "list", "--into", str(side), "--key-file", str(key)]) == 0
    assert capsys.readouterr().out.startswith("0 files held back")
    # usage errors: one line, exit 2
    assert cli.main(["held", "release", "--into", str(side), "--key-file", str(key)]) == 2
    assert cli.main(["held", "list", "--into", str(tmp_path / "in"), "--key-file", str(key)]) == 2
    assert "is not a side database" in capsys.readouterr().err
