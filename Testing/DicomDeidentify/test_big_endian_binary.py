"""Big-endian inputs whose pixels Clean Pixel Data rewrites little endian (issue 13, item 8): every
binary value whose byte order follows the transfer syntax (palette and VOI/Modality LUT data,
overlay and waveform data) is converted with the pixels, so the output holds the same numbers.

Inputs: pydicom's big-endian MR_small_bigendian.dcm (in both pydicom versions' test files) with a
VOI LUT, a Modality LUT, an overlay drawn from its pixels and the waveforms of waveform_ecg.dcm
added, or read through palette lookup tables; a region rule makes the cleaner rewrite the pixels.
The right values are those put in (the waveforms: those of the little-endian original)."""
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from DicomDeidentifyLib import Deidentifier, DeidentifyOptions
from DicomDeidentifyLib.pipeline import deidentify_file
from support.data import KEY, read

try:   # pydicom 3
    from pydicom.pixels.utils import pack_bits
except ImportError:   # pydicom 2.4
    from pydicom.pixel_data_handlers.numpy_handler import pack_bits

PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3
WORDS = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
VOI_LUT = [10, 300, 4000, 65000]
MODALITY_LUT = [0, 1, 2, 40000]


def words(values) -> bytes:
    return np.array(values, dtype=">u2").tobytes()   # as a big-endian file stores OW


def save_big_endian(ds: pydicom.Dataset, path: Path, swap: bool = True) -> None:
    """Write `ds` as Explicit VR Big Endian; `swap`: its OW/OF/... values were read little endian and
    are put in big-endian order (pydicom writes them as they are)."""
    for element in ds.iterall():
        size = WORDS.get(element.VR)
        if swap and size and isinstance(element.value, bytes) and element.tag != 0x7FE00010:
            element.value = np.frombuffer(element.value, f"<u{size}").astype(f">u{size}").tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    if PYDICOM_3:
        pydicom.dcmwrite(path, ds, implicit_vr=False, little_endian=False,
                         force_encoding=True)   # a conversion pydicom 3 leaves to the caller, as done above
    else:
        ds.is_little_endian, ds.is_implicit_VR = False, False
        ds.save_as(path, write_like_original=False)


def rules(folder: Path, modality: str) -> Path:
    path = folder / "rules.json"
    path.write_text(json.dumps({"rules": [{"name": "corner", "when": {"Modality": {"equals": modality}},
                                           "regions": [[0, 0, 8, 8]]}]}))
    return path


def cleaned(source: Path, rule_file: Path, sampled: bool) -> pydicom.Dataset:
    options = DeidentifyOptions(clean_pixel_data=True, clean_graphics=True, pixel_rules_file=str(rule_file))
    engine = Deidentifier(options, KEY)
    engine.record_changes = sampled
    result = deidentify_file(engine, source, source.parent / "out")
    assert result.status == "written", result.reason
    assert result.pixel["changed"]   # the pixels were rewritten: the output is little endian
    out = pydicom.dcmread(result.output)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    return out, result


def same_outside_blanked(out, original, result) -> bool:
    """The pixels, read back with the output's byte order, as in the input where nothing was blanked."""
    kept = np.ones(original.pixel_array.shape[:2], dtype=bool)
    for region in result.pixel["regions"]:
        kept[region["y"]:region["y"] + region["height"], region["x"]:region["x"] + region["width"]] = False
    assert kept.mean() > 0.5
    return np.array_equal(out.pixel_array[kept], original.pixel_array[kept])


def overlay_bits(ds) -> np.ndarray:
    """A bitmap from the MR's own pixels: the brighter half."""
    pixels = ds.pixel_array
    return (pixels > np.median(pixels)).astype(np.uint8)


def little(data: bytes) -> list:
    return np.frombuffer(data, "<u2").tolist()


SAMPLED = pytest.mark.parametrize("sampled", [False, True], ids=["copied", "sampled"])


PALETTE = {colour: [(i * step) % 65536 for i in range(4096)] for colour, step in
           (("Red", 16), ("Green", 263), ("Blue", 4099))}   # no two byte orders read the same


def mr_with_binary_values(folder: Path, palette: bool = False) -> Path:
    """pydicom's big-endian MR with binary values added, each in the file's (big-endian) byte order."""
    ds = read("MR_small_bigendian.dcm")
    if palette:   # the same pixels read through a palette
        ds.PhotometricInterpretation = "PALETTE COLOR"
        for colour, values in PALETTE.items():
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4096, 0, 16])
            ds[f"{colour}PaletteColorLookupTableDescriptor"].VR = "US"
            setattr(ds, f"{colour}PaletteColorLookupTableData", words(values))
            ds[f"{colour}PaletteColorLookupTableData"].VR = "OW"
        path = folder / "palette_be.dcm"
        save_big_endian(ds, path, swap=False)
        return path
    voi = Dataset()
    voi.LUTDescriptor, voi.LUTData = [4, 0, 16], words(VOI_LUT)
    voi["LUTData"].VR = "OW"
    ds.VOILUTSequence = Sequence([voi])
    modality = Dataset()
    modality.LUTDescriptor, modality.ModalityLUTType = [4, 0, 16], "HU"
    modality.LUTData = words(MODALITY_LUT)
    modality["LUTData"].VR = "OW"
    ds.ModalityLUTSequence = Sequence([modality])
    # Overlay Rows, Columns, Type, Origin, Bits Allocated, Bit Position, Data (by tag: pydicom 2.4 has no
    # keywords for repeating groups); the data in little-endian words, swapped below
    for element, vr, value in ((0x0010, "US", ds.Rows), (0x0011, "US", ds.Columns), (0x0040, "CS", "G"),
                               (0x0050, "SS", [1, 1]), (0x0100, "US", 1), (0x0102, "US", 0),
                               (0x3000, "OW", pack_bits(overlay_bits(ds).ravel()))):
        ds.add_new(0x60000000 | element, vr, value)
    waveforms = read("waveform_ecg.dcm")
    ds.WaveformSequence = waveforms.WaveformSequence
    for item in ds.WaveformSequence:
        if "ChannelDefinitionSequence" in item:
            for channel in item.ChannelDefinitionSequence:   # (OB or OW) values that vary with the encoding
                for keyword in ("ChannelMinimumValue", "ChannelMaximumValue"):
                    if keyword in channel:
                        del channel[keyword]
    # the overlay and waveform values came from little-endian files: put them in big-endian order
    ds[0x60003000].value = np.frombuffer(ds[0x60003000].value, "<u2").astype(">u2").tobytes()
    for item in ds.WaveformSequence:
        item.WaveformData = np.frombuffer(item.WaveformData, "<u2").astype(">u2").tobytes()
        if "WaveformPaddingValue" in item:
            del item.WaveformPaddingValue
    path = folder / "mr_be.dcm"
    save_big_endian(ds, path, swap=False)
    return path


@SAMPLED
def test_lut_overlay_and_waveform_data_follow_the_pixels_to_little_endian(tmp_path, sampled):
    source = mr_with_binary_values(tmp_path)
    out, result = cleaned(source, rules(tmp_path, "MR"), sampled)
    assert little(out.VOILUTSequence[0].LUTData) == VOI_LUT
    assert little(out.ModalityLUTSequence[0].LUTData) == MODALITY_LUT
    # numbers of other VRs are decoded in the input's byte order and encoded in the output's
    assert list(out.VOILUTSequence[0].LUTDescriptor) == [4, 0, 16] == list(out.ModalityLUTSequence[0].LUTDescriptor)
    assert list(out[0x60000050].value) == [1, 1] and out[0x60000010].value == 64
    assert np.array_equal(out.overlay_array(0x6000), overlay_bits(read("MR_small_bigendian.dcm")))
    ecg = read("waveform_ecg.dcm")
    for index in range(len(ecg.WaveformSequence)):
        assert np.array_equal(out.waveform_array(index), ecg.waveform_array(index)), index
    original = pydicom.dcmread(source)
    assert same_outside_blanked(out, original, result)


@SAMPLED
def test_palette_lookup_tables_follow_the_pixels_to_little_endian(tmp_path, sampled):
    source = mr_with_binary_values(tmp_path, palette=True)
    assert pydicom.dcmread(source).file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    out, result = cleaned(source, rules(tmp_path, "MR"), sampled)
    assert out.PhotometricInterpretation == "PALETTE COLOR"
    for colour, values in PALETTE.items():
        assert little(out[f"{colour}PaletteColorLookupTableData"].value) == values, colour
        assert list(out[f"{colour}PaletteColorLookupTableDescriptor"].value) == [4096, 0, 16]
    assert same_outside_blanked(out, pydicom.dcmread(source), result)
