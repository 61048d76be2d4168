"""report.json is written row by row with report._indented (issue 19: json's indented encoder is pure
Python and cost ~50 us a row); its text must be what json.dumps(..., indent=1) gives, byte for byte."""
import json

from hypothesis import given, settings, strategies as st
from pydicom.data import get_testdata_file

from DicomDeidentifyLib.report import _indented, _write_rows
from DicomDeidentifyLib.runs import deidentify_folder

leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
                      max_leaves=20)


@given(values)
@settings(max_examples=400, deadline=None)
def test_indented_is_jsons_own_indentation(value):
    assert _indented(value, "  ") == json.dumps(value, indent=1, ensure_ascii=False).replace("\n", "\n  ")
    assert _indented(value, "") == json.dumps(value, indent=1, ensure_ascii=False)


def test_a_runs_report_json_is_jsons_own_indentation(tmp_path):
    """A real run's report.json (rows with a review item, a failure and a skip among them) reads back as
    json.dumps(document, indent=1) writes it, and the rows the page lists are those with an attention."""
    (tmp_path / "in").mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm", "MR_truncated.dcm", "rtplan.dcm"):
        (tmp_path / "in" / name).write_bytes(open(get_testdata_file(name), "rb").read())
    (tmp_path / "in" / "notes.txt").write_text("not DICOM")
    run = deidentify_folder([tmp_path / "in"], tmp_path / "out", key_file=tmp_path / "k" / "key", create_key=True)
    text = run.report_json.read_text(encoding="utf-8")
    document = json.loads(text)
    assert text == json.dumps(document, indent=1, ensure_ascii=False)
    assert len(document["files"]) == 5 and {f["status"] for f in document["files"]} >= {"written", "failed"}
    attending = []
    _write_rows(open(tmp_path / "rows.json", "w"), document["files"], attending)
    assert attending == [f for f in document["files"] if f["attention"]] and attending
    assert all(f"#{f['number']} " in run.report_html.read_text() for f in attending)
