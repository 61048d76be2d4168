"""Pseudonyms, keyed UIDs and references that stay intact across a set of related objects."""
import itertools

import pydicom
import pytest
from pydicom.uid import generate_uid

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.keyed_hash import KeyedHasher
from DicomDeidentifyLib.pseudonyms import Pseudonymizer, patient_identity
from support.data import KEY, OTHER_KEY, deidentify, read, save
from DicomDeidentifyLib.batch import deidentify_paths


def patient(name="Doe^John", patient_id="MRN12345", sex="M"):
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID, ds.PatientSex = name, patient_id, sex
    return ds


def test_same_patient_same_key_same_pseudonym_other_key_other_pseudonym():
    a, _ = deidentify(patient())
    b, _ = deidentify(patient())
    c, _ = deidentify(patient(), key=OTHER_KEY)
    assert (str(a.PatientName), a.PatientID) == (str(b.PatientName), b.PatientID)
    assert a.PatientID != c.PatientID and str(a.PatientName) != str(c.PatientName)


def test_patient_id_wins_over_a_differently_spelled_name():
    a, _ = deidentify(patient(name="Doe^John"))
    b, _ = deidentify(patient(name="DOE^JOHN^A"))
    assert (str(a.PatientName), a.PatientID) == (str(b.PatientName), b.PatientID)


def test_without_patient_id_name_and_birth_date_identify_the_patient():
    assert patient_identity("", "", "Doe^John", "19700101") == patient_identity("", "", "doe^john ", "19700101")
    assert patient_identity("", "", "Doe^John", "19700101") != patient_identity("", "", "Doe^John", "19700102")


def test_many_patients_never_share_a_pseudonymous_id():
    pseudonymizer = Pseudonymizer(KeyedHasher(KEY))
    ids = {pseudonymizer.pseudonym(f"id:{n}^").patient_id for n in range(20000)}
    assert len(ids) == 20000


def test_pseudonym_can_keep_sex():
    pseudonymizer = Pseudonymizer(KeyedHasher(KEY))
    female = [pseudonymizer.pseudonym(f"id:{n}^", "F", keep_sex=True).name for n in range(50)]
    male = [pseudonymizer.pseudonym(f"id:{n}^", "M", keep_sex=True).name for n in range(50)]
    assert all(n.endswith(("a", "ia", "elle", "ine", "ara", "ena")) for n in female)
    assert all(n.endswith(("o", "an", "us", "ek", "or", "im")) for n in male)


def test_identity_clear_and_fixed():
    cleared, _ = deidentify(patient(), DeidentifyOptions(identity="clear"))
    assert not cleared.PatientName and not cleared.PatientID
    fixed, _ = deidentify(patient(), DeidentifyOptions(identity="fixed", fixed_patient_name="Subject^001",
                                                       fixed_patient_id="TRIAL-001"))
    assert (str(fixed.PatientName), fixed.PatientID) == ("Subject^001", "TRIAL-001")


def test_uids_are_stable_across_runs_and_differ_between_keys():
    a, _ = deidentify(patient())
    b, _ = deidentify(patient())
    c, _ = deidentify(patient(), key=OTHER_KEY)
    assert a.SOPInstanceUID == b.SOPInstanceUID != c.SOPInstanceUID


# -- a set of related objects: CT series, RTSTRUCT, SEG, SR referencing it -------------------------

STUDY_CLASSES = {"1.2.840.10008.3.1.2.3.1", "1.2.840.10008.3.1.2.3.2"}


def ct_series(count=3):
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    images = []
    for n in range(count):
        ds = read("CT_small.dcm")
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = n + 1
        images.append(ds)
    return images


def point_at(ds, images):
    """Make every reference in `ds` point at the CT series, the way a planning system would."""
    ct = images[0]
    sops = itertools.cycle([i.SOPInstanceUID for i in images])

    def visit(dataset, top):
        for element in list(dataset):
            keyword = element.keyword
            if element.VR == "SQ":
                for item in element.value:
                    visit(item, False)
            elif keyword == "ReferencedSOPInstanceUID":
                study_ref = str(dataset.get("ReferencedSOPClassUID", "")) in STUDY_CLASSES
                element.value = ct.StudyInstanceUID if study_ref else next(sops)
                if not study_ref:
                    dataset.ReferencedSOPClassUID = ct.SOPClassUID
            elif keyword in ("FrameOfReferenceUID", "ReferencedFrameOfReferenceUID"):
                element.value = ct.FrameOfReferenceUID
            elif keyword == "SeriesInstanceUID" and not top:
                element.value = ct.SeriesInstanceUID
            elif keyword == "StudyInstanceUID":
                element.value = ct.StudyInstanceUID
    visit(ds, True)
    ds.PatientName, ds.PatientID = ct.PatientName, ct.PatientID
    return ds


def ui_values(ds, prefix=""):
    values = {}
    for element in ds:
        path = f"{prefix}{element.keyword or element.tag}"
        if element.VR == "SQ":
            for index, item in enumerate(element.value):
                values.update(ui_values(item, f"{path}[{index}]."))
        elif element.VR == "UI" and element.value:
            values[path] = str(element.value)
    return values


@pytest.mark.parametrize("options", [DeidentifyOptions(), DeidentifyOptions(clean_structured_content=True)],
                         ids=["basic", "clean-structured-content"])
def test_references_stay_intact_across_ct_rtstruct_seg_and_sr(tmp_path, options):
    images = ct_series()
    related = {name: point_at(read(name), images) for name in ("rtstruct.dcm", "liver.dcm", "test-SR.dcm")}
    inputs = tmp_path / "in"
    inputs.mkdir()
    originals = {}
    for n, ds in enumerate(images):
        save(ds, inputs / f"ct{n}.dcm")
    for name, ds in related.items():
        save(ds, inputs / name)
        originals[name] = ui_values(ds)
    summary = deidentify_paths([inputs], tmp_path / "out", options, KEY)
    assert summary.failed == 0 and summary.count("written") == len(images) + len(related)
    by_source = {r.source.rsplit("/", 1)[-1]: pydicom.dcmread(r.output) for r in summary.results}
    ct_uids = {}
    for n, ds in enumerate(images):
        out = by_source[f"ct{n}.dcm"]
        ct_uids.update({ds.SOPInstanceUID: out.SOPInstanceUID, ds.StudyInstanceUID: out.StudyInstanceUID,
                        ds.SeriesInstanceUID: out.SeriesInstanceUID,
                        ds.FrameOfReferenceUID: out.FrameOfReferenceUID})
        assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert len(set(ct_uids.values())) == len(images) + 3
    for name in related:
        after = ui_values(by_source[name])
        checked = 0
        for path, value in originals[name].items():
            if value in ct_uids and path in after:
                assert after[path] == ct_uids[value], f"{name}: {path} lost its reference"
                checked += 1
        assert checked >= 3, f"{name}: only {checked} references checked"
