"""The action tables are generated from the standard and say what the standard says."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from DicomDeidentifyLib.tables import DATA_DIR, profile_table, safe_private_table

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "DicomDeidentify" / "Tools" / "generate_profile_tables.py"
STANDARD = REPO / "DicomDeidentify" / "Tools" / "standard"   # copied from ../shared/standard


def load(name):
    return json.loads((DATA_DIR / name).read_text())


def test_generated_tables_record_editions_and_source_hashes():
    profile = load("ps315_profile.json")
    editions = [s["edition"] for s in profile["sources"]]
    assert editions == ["2023b", "2024b", "2026c"]
    assert all(len(s["sha256"]) == 64 for s in profile["sources"])
    assert profile["counts"]["total"] == len(profile["attributes"]) == len(profile_table())
    # 2023b has 611 rows: one is the private-attributes rule, three AE titles are listed twice.
    assert profile["counts"]["2023b_rows"] == 607
    assert load("ps315_safe_private.json")["sources"][0]["edition"] == "2023b"
    assert len(load("ps315_safe_private.json")["attributes"]) == 479


def test_recorded_hashes_match_the_committed_standard_files():
    profile = load("ps315_profile.json")
    for source in profile["sources"][:2]:
        path = STANDARD / source["file"]
        assert path.exists(), f"{path} missing: the standard's source files live in DicomDeidentify/Tools/standard"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == source["sha256"]


def test_regenerating_from_the_standard_gives_the_committed_files(tmp_path):
    run = subprocess.run([sys.executable, str(GENERATOR), "--standard-dir", str(STANDARD),
                          "--output-dir", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for name in ("ps315_profile.json", "ps315_safe_private.json"):
        assert (tmp_path / name).read_text() == (DATA_DIR / name).read_text(), f"{name} is stale: rerun the generator"


def test_rows_say_what_the_standard_says():
    table = profile_table()
    name = table.lookup(0x00100010)
    assert name.action("basic") == "Z"
    sop = table.lookup(0x00080018)
    assert (sop.action("basic"), sop.action("retain_uids")) == ("U", "K")
    assert table.lookup(0x00100020).action("basic") == "Z/D"          # changed in 2024b
    assert table.lookup(0x00400241).action("retain_device_identity") == "C"  # 2023b listed C and K
    assert table.lookup(0x00700006).action("basic") == "D"             # added from the 2026c lists
    study_date = table.lookup(0x00080020)
    assert (study_date.action("retain_long_full_dates"), study_date.action("retain_long_modified_dates")) == ("K", "C")
    assert table.lookup(0x00080016) is None                           # SOP Class UID is not listed


def test_repeating_groups_match_by_mask():
    table = profile_table()
    assert table.lookup(0x60023000).name == "Overlay Data"
    assert table.lookup(0x601E4000).name == "Overlay Comments"
    assert table.lookup(0x50060010).name == "Curve Data"
    assert table.lookup(0x60020010) is None


def test_safe_private_table_matches_creator_and_element():
    safe = safe_private_table()
    assert safe.is_safe(0x7053, "Philips PET Private Group", 0x1000)
    assert safe.is_safe(0x7053, "philips pet private group ", 0x1100)   # creator compared trimmed, any case
    assert not safe.is_safe(0x7053, "Some Other Creator", 0x1000)
    assert not safe.is_safe(0x7053, "Philips PET Private Group", 0x10FE)
