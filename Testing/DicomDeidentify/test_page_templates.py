"""An install without the pages' templates (glue review 3, G3-2: the extension's CMakeLists.txt left them
out) finishes its run with report.json only and says why, instead of failing after the files are written;
compare --html says it in one line, exit 2."""
import logging

import pytest

from DicomDeidentifyLib import cli, pages
from support.data import data_file


@pytest.fixture
def no_templates(tmp_path, monkeypatch):
    empty = tmp_path / "installed-without-templates"
    empty.mkdir()
    monkeypatch.setattr(pages, "TEMPLATES", empty)
    pages._environment.cache_clear()
    yield empty
    pages._environment.cache_clear()


def test_a_run_without_templates_writes_its_files_and_report_json(tmp_path, no_templates, capsys, caplog):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    out, key = tmp_path / "out", tmp_path / "secrets" / "k.key"
    with caplog.at_level(logging.WARNING):
        assert cli.main(["anonymize", str(inputs), "--output", str(out), "--key-file", str(key), "--create-key",
                         "--jobs", "1"]) == 0
    assert len(list(out.rglob("*.dcm"))) == 1
    names = {p.name for p in (key.parent / "reports").rglob("report.*")}
    assert "report.json" in names and "report.html" not in names
    assert any(f"the page template report.html.j2 is missing from {no_templates}" in r.getMessage()
               for r in caplog.records)


def test_compare_html_without_templates_is_one_line(tmp_path, no_templates, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for side in "ab":
        (tmp_path / side / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    assert cli.main(["compare", str(tmp_path / "a" / "ct.dcm"), str(tmp_path / "b" / "ct.dcm"),
                     "--html", str(tmp_path / "pages" / "c.html")]) == 2
    err = capsys.readouterr().err
    # the one-line warning that the console shows original values comes first (review 18d, finding 7)
    assert err == cli.COMPARE_WARNING + "\n" + (f"error: the page template compare.html.j2 is missing from "
                                                f"{no_templates}: reinstall SlicerDeidentify (the extension or the package)\n")
