"""Work split by series (work_units.py), for the local pool and the cluster; the pool's size.

Real files: pydicom's CT, MR and RT test files, given new Series and SOP Instance UIDs and saved into
folders of one series each and folders that mix series, with a file that is not DICOM among them.
"""
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.batch import deidentify_paths
from DicomDeidentifyLib.cluster import _tasks
from DicomDeidentifyLib.input_files import walk_inputs
from DicomDeidentifyLib.work_units import plan_units, series_uid, unit_size
from DicomDeidentifyLib.worker_pool import choose_jobs
from support.data import KEY, read, save

SOURCES = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "rtplan.dcm"]


def archive(root: Path) -> dict:
    """Series folders, mixed folders and a text file; returns path -> the Series Instance UID saved in it."""
    series = [generate_uid() for _ in range(4)]
    saved = {}

    def put(folder: str, name: str, source: str, uid: str) -> None:
        dataset = read(source)
        dataset.SeriesInstanceUID, dataset.SOPInstanceUID = uid, generate_uid()
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        save(dataset, path)
        saved[path] = uid

    for n in range(7):                                   # one series in one folder
        put("a_series", f"{n:02d}.dcm", SOURCES[n % 2], series[0])
    for n in range(9):                                   # three series interleaved in one folder, three encodings
        put("b_mixed", f"{n:02d}.dcm", SOURCES[n % 3 + 1] if n % 3 else "CT_small.dcm", series[1 + n % 3])
    for n in range(3):                                   # the first series again, in a folder of its own
        put("c_more", f"{n:02d}.dcm", "rtplan.dcm", series[0])
    (root / "b_mixed" / "notes.txt").write_text("not DICOM")
    saved[root / "b_mixed" / "notes.txt"] = None
    return saved


def walked(root: Path) -> list:
    return [entry for entry in walk_inputs([root]) if isinstance(entry, Path)]


def test_series_uid_reads_what_pydicom_reads_and_none_where_it_cannot_cheaply(tmp_path):
    for name in SOURCES + ["JPEG2000.dcm", "emri_small.dcm"]:
        path = get_testdata_file(name)
        assert series_uid(path) == pydicom.dcmread(path).SeriesInstanceUID, name
    assert series_uid(get_testdata_file("image_dfl.dcm")) is None    # deflated: reading would inflate it
    assert series_uid(get_testdata_file("no_meta.dcm")) is None      # no preamble
    (tmp_path / "x.txt").write_text("DICM" * 100)
    assert series_uid(tmp_path / "x.txt") is None
    assert series_uid(tmp_path / "missing.dcm") is None


def test_series_uid_agrees_with_pydicom_on_every_test_file():
    """The planner's scan (one struct call an element, issue 19) on every byte order and VR encoding of
    pydicom's test files: pydicom's Series Instance UID, or None (then the file is a unit of its own)."""
    found = 0
    for path in sorted(Path(get_testdata_file("CT_small.dcm")).parent.glob("*.dcm")):   # pydicom's own: no download
        uid = series_uid(path)
        if uid is None:
            continue
        found += 1
        assert uid == str(pydicom.dcmread(path, force=True).SeriesInstanceUID).strip(), path
    assert found > 50


@pytest.mark.parametrize("largest", [50, 4, 1])
def test_each_unit_holds_one_series_in_the_walks_order_and_every_file_once(tmp_path, largest):
    saved = archive(tmp_path)
    files = walked(tmp_path)
    units = list(plan_units(files, largest))
    assert sorted(p for unit in units for p in unit) == sorted(files)
    for unit in units:
        assert 1 <= len(unit) <= largest
        assert len({saved[p] for p in unit}) == 1, unit            # one series
        assert unit == sorted(unit, key=files.index)               # in the walk's order
        if saved[unit[0]] is None:
            assert len(unit) == 1                                  # not DICOM: alone
    if largest == 50:   # the mixed folder's three series are three units; the first series' folders, a
        # folder of another series between them, are two (its first folder was done when the next one was)
        by_series = {}
        for unit in units:
            by_series.setdefault(saved[unit[0]], []).append(len(unit))
        assert sorted(by_series.values()) == [[1], [3], [3], [3], [7, 3]]


def test_the_planner_holds_a_bounded_number_of_series_open(tmp_path):
    files = [tmp_path / f"{n:03d}.dcm" for n in range(40)]
    series = {path: f"1.2.{n % 10}" for n, path in enumerate(files)}   # ten series interleaved in one folder
    units = list(plan_units(files, 50, open_series=3, read_series=series.get))
    assert sorted(p for unit in units for p in unit) == files
    assert all(len({series[p] for p in unit}) == 1 for unit in units)
    assert len(units) > 10   # split: at most 3 (+1) series collected at once


def test_a_cluster_task_holds_exactly_one_series_files(tmp_path):
    saved = archive(tmp_path)
    files = walked(tmp_path)
    tasks = list(_tasks(files, unit_size(len(files), 2), tmp_path / "out", False, None, 20))
    assert sorted(p for task in tasks for p in task.given) == sorted(str(p) for p in files)
    for task in tasks:
        assert len({saved[Path(p)] for p in task.given}) == 1
        assert task.sources == [str(Path(p).resolve()) for p in task.given]
    assert sum(task.samples for task in tasks[:1]) == 20


def test_the_local_pool_by_series_writes_the_same_files_as_one_process(tmp_path):
    archive(tmp_path / "in")
    options = DeidentifyOptions()
    one = deidentify_paths([tmp_path / "in"], tmp_path / "one", options, KEY, jobs=1)
    two = deidentify_paths([tmp_path / "in"], tmp_path / "two", options, KEY, jobs=2)
    assert sorted((r.source, r.status) for r in one.results) == sorted((r.source, r.status) for r in two.results)
    first = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*") if p.is_file()}
    assert len(first) == 19 and first == second


def test_unit_size_gives_each_worker_many_units_within_bounds():
    assert unit_size(1000, 2) == 32
    assert unit_size(100000, 2) == 50
    assert unit_size(5, 2) == 1
    assert unit_size(0, 0) == 1


@pytest.mark.parametrize("cores, load, jobs", [
    (2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.9, 1), (2, 6.0, 1),    # busy: one
    (8, 0.0, 8), (8, 3.2, 5), (8, 7.6, 1), (1, 0.0, 1), (4, -1.0, 4),    # never more than the cores
])
def test_the_pool_size_follows_the_usable_cores_and_the_load(cores, load, jobs):
    assert choose_jobs(cores, load) == jobs
