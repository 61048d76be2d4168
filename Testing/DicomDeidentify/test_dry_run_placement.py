"""A dry run into a side database says what the real run would hold back (review 18c finding 6): the
same decision (import_controller.placement) marks each file, nothing is moved or written."""
import re

from DicomDeidentifyLib import cli
from support.data import read, save


def counts(text: str) -> tuple:
    """(held back, needing review) of the summary's last count line."""
    found = re.search(r"of these, (\d+) (?:would be )?held back for review, (\d+) needing review", text)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def test_the_dry_run_holds_what_the_real_run_holds(tmp_path, capsys):
    source = tmp_path / "in"
    source.mkdir()
    for number, name in enumerate(("CT_small.dcm", "MR_small.dcm")):
        ds = read(name)
        ds.StudyDescription = f"CT for John Doe {number}"   # kept, cleaned, by --clean-descriptors: a person decides
        save(ds, source / f"{number}.dcm")
    key = tmp_path / "secrets" / "k.key"
    common = [str(source), "--into", str(tmp_path / "sdb"), "--key-file", str(key), "--clean-descriptors",
              "--jobs", "1", "--quiet"]
    assert cli.main(["anonymize", *common, "--create-key", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert not (tmp_path / "sdb").exists() and not (key.parent / "held").exists()   # nothing placed
    assert cli.main(["anonymize", *common]) == 0
    real = capsys.readouterr().out
    assert counts(real) == (2, 0)                       # both held back from the side database
    assert counts(dry) == counts(real)
    assert dry.count("held     #") == real.count("held     #") == 2
