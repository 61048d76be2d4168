"""The fast writer produces exactly the bytes pydicom's own writer produces."""
import io
from pathlib import Path

import pydicom
import pytest

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.dicom_io import (DEFLATED, DicomReadError, prepare_for_writing, read_dataset,
                                         replace_file_meta, transfer_syntax_of)
from DicomDeidentifyLib.dicom_writer import dataset_bytes
from support.data import KEY, corpus_files


def pydicom_bytes(dataset) -> bytes:
    buffer = io.BytesIO()
    if int(pydicom.__version__.split(".")[0]) >= 3:
        dataset.save_as(buffer, enforce_file_format=True)
    else:
        ts = dataset.file_meta.TransferSyntaxUID
        dataset.is_implicit_VR, dataset.is_little_endian = ts.is_implicit_VR, ts.is_little_endian
        dataset.save_as(buffer, write_like_original=False)
    return buffer.getvalue()


@pytest.mark.parametrize("options", [DeidentifyOptions(), DeidentifyOptions(retain_safe_private=True,
                                                                          clean_graphics=True)],
                         ids=["basic", "options"])
def test_fast_writer_matches_pydicom_on_every_corpus_file(options):
    engine = Deidentifier(options, KEY)
    compared = 0
    for path in corpus_files():
        try:
            dataset = read_dataset(Path(path))
        except DicomReadError:
            continue
        ts = transfer_syntax_of(dataset)
        if ts == DEFLATED:
            continue   # written by pydicom itself
        if engine.deidentify(dataset).status == "skipped":
            continue
        replace_file_meta(dataset, ts, str(dataset.get("SOPInstanceUID", "1.2.3")))
        prepare_for_writing(dataset)
        if int(pydicom.__version__.split(".")[0]) < 3:
            for _ in dataset.iterall():   # pydicom 2.4's writer decodes (and re-encodes) every element
                pass
        fast = dataset_bytes(dataset)
        assert fast == pydicom_bytes(dataset), path
        compared += 1
    assert compared > 200


@pytest.mark.parametrize("options", [DeidentifyOptions(), DeidentifyOptions(dates="modified", clean_graphics=True),
                                     DeidentifyOptions(retain_safe_private=True, retain_uids=True)],
                         ids=["basic", "dates-graphics", "safe-private-uids"])
def test_reading_only_what_is_needed_gives_the_same_bytes_as_reading_everything(tmp_path, options):
    """Files are parsed whole when sampled for the report, and otherwise with the elements the
    engine never looks at left unparsed: both must write exactly the same file."""
    from DicomDeidentifyLib.pipeline import deidentify_file
    engine = Deidentifier(options, KEY)
    compared = 0
    for index, path in enumerate(corpus_files()):
        outputs = []
        for whole in (True, False):
            engine.record_changes = whole
            result = deidentify_file(engine, Path(path), tmp_path / f"{index}-{whole}")
            outputs.append(result)
        whole_result, partial_result = outputs
        assert whole_result.status == partial_result.status, path
        assert sorted(whole_result.removed) == sorted(partial_result.removed), path
        if whole_result.status == "written":
            assert Path(whole_result.output).read_bytes() == Path(partial_result.output).read_bytes(), path
            compared += 1
    assert compared > 200
