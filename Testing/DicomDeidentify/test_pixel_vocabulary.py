"""The vocabulary of clinical annotation that may stay in a cleaned image (data/pixel_vocabulary.json):
short, data, and never a way for identity to stay."""
import json

import pytest

from DicomDeidentifyLib.pixel_text import IdentifyingText
from DicomDeidentifyLib.pixel_vocabulary import BUILT_IN, load_vocabulary
from support.data import read

VOCABULARY = load_vocabulary()


def judge(name="Head^Anna", patient_id="A7781234"):
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID = name, patient_id
    return IdentifyingText.from_dataset(ds)


@pytest.mark.parametrize("text", ["L", "R", "AP", "Dist 12.3 mm", "16CM", "WL: 40 WW: 400", "T2 FLAIR", "5 MHz",
                                  "Gain 45%", "AXIAL", "-120 HU", "Im: 23 Se: 4"])
def test_annotation_read_confidently_may_stay(text):
    assert VOCABULARY.explains(text, 0.95, judge())


@pytest.mark.parametrize("text", ["DOE, JANE", "MRN1234567", "ID: 12-34-567", "03/14/2024", "1965-03-04", "Dist 1234 mm",
                                  "ST MARY HOSPITAL", "HEAD", "A7781234", "", "Liver DOE"])
def test_names_ids_dates_and_unknown_words_are_blanked(text):
    """Not on the list, an ID shape (four digits or more), a date, or the header's own values: the
    patient here is called Head, so even the vocabulary word HEAD is blanked."""
    assert not VOCABULARY.explains(text, 0.99, judge())


def test_a_reading_that_is_not_sure_is_blanked_whatever_it_says():
    assert VOCABULARY.explains("LAT", 0.95, judge())
    assert not VOCABULARY.explains("LAT", VOCABULARY.min_confidence - 0.01, judge())


def test_the_list_is_short_data_and_a_broken_file_is_refused(tmp_path):
    document = json.loads(BUILT_IN.read_text())
    assert set(document["words"]) == {"orientation", "units", "measurement_labels", "modality_words"}
    assert sum(len(words) for words in document["words"].values()) < 300
    assert not [w for words in document["words"].values() for w in words if sum(c.isdigit() for c in w) >= 4]
    broken = tmp_path / "v.json"
    broken.write_text("{}")
    with pytest.raises(ValueError, match="not a pixel vocabulary file"):
        load_vocabulary(str(broken))
