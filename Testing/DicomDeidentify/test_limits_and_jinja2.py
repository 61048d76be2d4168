"""Review 18c finding 9: a read limit of 0 is never the 16 GB default; without Jinja2, compare --html is
refused before its images (original pixels) are written, and a run names its report once."""
import math
import sys

import pytest

from DicomDeidentifyLib import cli, pages
from DicomDeidentifyLib.bounded_read import DEFAULT_MAX_FILE_MB, MB, ReadLimits
from support.data import data_file


@pytest.mark.parametrize("size", [0, -1, math.nan, math.inf])
def test_a_limit_of_zero_or_less_is_refused_not_the_default(size):
    with pytest.raises(ValueError, match="megabytes above 0"):
        ReadLimits.from_megabytes(size, None)
    with pytest.raises(ValueError, match="megabytes above 0"):
        ReadLimits.from_megabytes(None, size)
    assert ReadLimits.from_megabytes(None, None) == ReadLimits.from_megabytes(DEFAULT_MAX_FILE_MB, None)
    assert ReadLimits.from_megabytes(0.5, None).max_file_bytes == MB // 2


@pytest.fixture
def without_jinja2(monkeypatch):
    """This interpreter as one without Jinja2 (an import of it fails, as when it is not installed)."""
    monkeypatch.setitem(sys.modules, "jinja2", None)
    pages._environment.cache_clear()
    yield
    pages._environment.cache_clear()


def test_compare_html_without_jinja2_writes_nothing(tmp_path, capsys, without_jinja2):
    original = tmp_path / "a.dcm"
    original.write_bytes(data_file("CT_small.dcm").read_bytes())
    page = tmp_path / "pages" / "x.html"
    assert cli.main(["compare", str(original), str(original), "--html", str(page)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "needs Jinja2" in captured.err
    assert not (tmp_path / "pages").exists()   # no x_images/1-original.png, no folder


def test_a_run_without_jinja2_names_its_report_once(tmp_path, capsys, without_jinja2):
    source = tmp_path / "ct.dcm"
    source.write_bytes(data_file("CT_small.dcm").read_bytes())
    assert cli.main(["anonymize", str(source), "--output", str(tmp_path / "out"), "--key-file",
                     str(tmp_path / "k" / "k.key"), "--create-key", "--jobs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("report.json") == 1 and "report.html" not in out
    assert "(no HTML page: Jinja2 is not installed)" in out
