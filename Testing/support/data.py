"""Real test data: the files shipped by pydicom-data and deid-data, and objects built from them."""
from __future__ import annotations

import io
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ImplicitVRLittleEndian

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.pipeline import deidentify_file

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def data_file(name: str) -> Path:
    path = get_testdata_file(name)
    assert path, f"pydicom test file {name} is missing: is pydicom-data installed?"
    return Path(path)


def read(name: str) -> pydicom.Dataset:
    # force: some of pydicom's files (rtstruct.dcm, ...) are bare data sets without preamble
    return pydicom.dcmread(str(data_file(name)), force=True)


@lru_cache(maxsize=None)
def corpus_files() -> tuple:
    """Every file pydicom finds offline (pydicom-data included), plus deid-data's DICOM files."""
    files = [Path(f) for f in get_testdata_files() if os.path.isfile(f)]
    import deid_data
    root = Path(deid_data.__file__).parent / "data"
    files += sorted(p for p in root.rglob("*.dcm"))
    assert len(files) > 200, f"only {len(files)} test files: install pydicom-data and deid-data"
    return tuple(files)


def instance_rounds(files) -> list:
    """`files` split into rounds in which no two files are one instance (the same SOP Instance UID) unless
    they are the same bytes: a destination holds one version of an instance (batch), so a test that needs
    every file's output writes each round into a destination of its own. Unreadable files: round 0."""
    rounds: list = []   # [(files, {SOP Instance UID: bytes digest})]
    for path in files:
        try:
            uid = str(pydicom.dcmread(path, stop_before_pixels=True, force=True).get("SOPInstanceUID", "") or "")
        except Exception:   # broken on purpose: its run fails it
            uid = ""
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        for members, seen in rounds:
            if not uid or seen.get(uid, digest) == digest:
                break
        else:
            members, seen = [], {}
            rounds.append((members, seen))
        members.append(path)
        if uid:
            seen[uid] = digest
    return [members for members, _ in rounds]


def deidentify(dataset: pydicom.Dataset, options: DeidentifyOptions | None = None, key: bytes = KEY):
    """De-identify a copy in memory: (new data set, result)."""
    dataset = clone(dataset)
    result = Deidentifier(options or DeidentifyOptions(), key).deidentify(dataset)
    return dataset, result


def clone(dataset: pydicom.Dataset) -> pydicom.Dataset:
    """An independent copy (pydicom 2.4 cannot deepcopy a FileDataset): write and read back."""
    buffer = io.BytesIO()
    save(dataset, buffer)
    buffer.seek(0)
    return pydicom.dcmread(buffer)


def write_and_deidentify(dataset: pydicom.Dataset, folder: Path, options: DeidentifyOptions | None = None,
                         key: bytes = KEY, name: str = "input.dcm"):
    """Write `dataset` as a file, de-identify it through the file pipeline: (output path, result)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / name
    save(dataset, source)
    result = deidentify_file(Deidentifier(options or DeidentifyOptions(), key), source, folder / "out")
    assert result.status == "written", result.reason
    return Path(result.output), result


def deidentify_source(source: Path, out: Path, options: DeidentifyOptions | None = None, sampled: bool = True,
                      key: bytes = KEY):
    """De-identify the file `source` into the folder `out` through the file pipeline, sampled (every element
    parsed, as for the report) or not (the fast reading): (result, output data set, output bytes), the last
    two None and b"" when nothing was written."""
    engine = Deidentifier(options or DeidentifyOptions(), key)
    engine.record_changes = sampled
    result = deidentify_file(engine, source, out)
    if result.status != "written":
        return result, None, b""
    return result, pydicom.dcmread(result.output), Path(result.output).read_bytes()


def save(dataset: pydicom.Dataset, path) -> None:
    """Write as a DICOM file; a bare data set gets the file meta it lacks."""
    meta = getattr(dataset, "file_meta", None)
    if meta is None:
        dataset.file_meta = meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    if int(pydicom.__version__.split(".")[0]) >= 3:
        dataset.save_as(path if hasattr(path, "write") else str(path), enforce_file_format=True)
    else:
        dataset.save_as(path if hasattr(path, "write") else str(path), write_like_original=False)


def ct_study(folder: Path, patient_id: str, name: str, study_date: str = "20240101", count: int = 3,
             birth: str = "19700101", **attributes) -> list:
    """A small CT study of one patient (pydicom's CT_small, new UIDs), `count` files; extra header
    values by keyword. Files are named after the patient, as exports often are."""
    from pydicom.uid import generate_uid
    folder.mkdir(parents=True, exist_ok=True)
    ds = read("CT_small.dcm")
    ds.PatientID, ds.PatientName, ds.PatientBirthDate = patient_id, name, birth
    ds.StudyDate, ds.SeriesDate = study_date, study_date
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    paths = []
    for n in range(count):
        ds.SOPInstanceUID = generate_uid()
        paths.append(Path(folder) / f"{name.replace('^', '_')}_{n}.dcm")
        save(ds, paths[-1])
    return paths


def tiny_series(folder: Path, count: int, patients: int = 7) -> Path:
    """`count` small CT files built from pydicom's CT_small.dcm cut to 8x8 pixels, one instance each
    (new SOP Instance UIDs), `patients` Patient IDs in turn, named ct00000.dcm, ct00001.dcm, ..."""
    from pydicom.uid import generate_uid
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.Rows = ds.Columns = 8
    ds.PixelData = ds.PixelData[:128]
    folder.mkdir(parents=True)
    for number in range(count):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.PatientID = f"MRN{number % patients}"
        ds.save_as(folder / f"ct{number:05}.dcm")
    return folder
