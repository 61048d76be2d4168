"""Issue 14, item 7: whether a scene's file is text is decided by its content, not its suffix: a
Windows-1252 or UTF-16 file named '.dat', '.bak' or nothing is scrubbed in its own encoding and
checked, while a data format's file ('.raw') is never rewritten as text."""
import subprocess
import sys
from pathlib import Path

import pytest

from SceneScrubberLib.text_encodings import decoded, is_text
from support.scenes import dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
NOTE = "Patient M\u00fcller, J\u00f6rg seen 2024\r\n"
FILES = {"Data/notes": "cp1252", "Data/notes.dat": "utf-16-le", "Data/export.bak": "utf-16",
         "Data/legacy.acsv": "cp1252"}


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True)


def scene_folder(folder: Path) -> Path:
    scene = dicom_scene("M\u00dcLLER^J\u00d6RG")
    (folder / "Data").mkdir(parents=True)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "Data/vol.nrrd"))
    assert volume.GetStorageNode().WriteData(volume)
    scene.SetURL(str(folder / "scene.mrml"))
    assert scene.Commit()
    for name, encoding in FILES.items():
        (folder / name).write_bytes(NOTE.encode(encoding))
    (folder / "Data/slice.raw").write_bytes(NOTE.encode("cp1252"))   # a data format: bytes, not text
    return folder


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16-le", "utf-16-be", "utf-16", "utf-8"])
def test_text_is_recognised_and_decoded_by_content(encoding):
    data = NOTE.encode(encoding)
    assert is_text("Data/notes", data) and decoded(data)[0] == NOTE
    assert not is_text("Data/slice.raw", data)


def test_names_in_text_files_of_any_suffix_are_scrubbed_in_their_encoding(tmp_path):
    folder = scene_folder(tmp_path / "scene")
    found = run("check", folder)
    assert found.returncode == 1 and all(name in found.stdout for name in FILES), found.stdout
    done = run("scrub", folder, "--output", tmp_path / "clean")
    assert done.returncode == 0, done.stdout + done.stderr
    for name, encoding in FILES.items():
        data = (tmp_path / "clean" / name).read_bytes()
        text = data.decode(encoding)
        assert text.startswith("Patient ") and text.endswith(" seen 2024\r\n"), text
        assert "ller" not in text and "rg " not in text, (name, text)
        assert data.startswith(b"\xff\xfe") == (encoding == "utf-16"), name   # a BOM only where there was one
    assert (tmp_path / "clean/Data/slice.raw").read_bytes() == NOTE.encode("cp1252")
    assert run("check", tmp_path / "clean", "--term", "notaname").returncode == 0
