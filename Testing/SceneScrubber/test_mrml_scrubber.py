"""Scrubbing a .mrml file offline, checked by reloading it with slicer-core."""
import pytest
import slicer

from SceneScrubberLib.mrml_scrubber import SceneError, scrub_mrml
from support.scenes import PHI, dicom_scene, hierarchy_items, load_scene

def committed(path, patient_name="Doe^John"):
    scene = dicom_scene(patient_name, series_description="Axial")
    scene.SetURL(str(path))
    assert scene.Commit()


def load(path):
    scene, _connected = load_scene(path)   # a bare .mrml has no volume file: the reader says so
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    return scene, [{"name": sh.GetItemName(item), "level": sh.GetItemLevel(item),
                    "attributes": {n: sh.GetItemAttribute(item, n) for n in sh.GetItemAttributeNames(item)},
                    "uid": sh.GetItemUID(item, "DICOM"), "node": sh.GetItemDataNode(item)}
                   for item in hierarchy_items(scene)]


def test_a_scrubbed_scene_loads_with_its_structure_and_without_identity(tmp_path):
    original = tmp_path / "scene.mrml"
    committed(original)
    data = original.read_bytes()
    assert all(value.encode() in data for value in PHI)
    scrubbed, report = scrub_mrml(data)
    output = tmp_path / "scrubbed.mrml"
    output.write_bytes(scrubbed)
    for value in PHI:
        assert value.encode() not in scrubbed, value
    assert set(PHI) <= report.identifying_values
    scene, items = load(output)
    _, before = load(original)
    assert [i["level"] for i in items] == [i["level"] for i in before] == ["Patient", "Study", ""]
    assert [i["name"] for i in items[:2]] == ["Patient 1", "Study 1"]
    assert not any(name.startswith("DICOM.") for i in items for name in i["attributes"])
    assert all(not i["uid"] for i in items)
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    assert volume.GetName() == "Volume 1" and volume.GetAttribute("Color") == "grey"   # was "3: Axial"
    assert b"Axial" not in scrubbed
    assert volume.GetAttribute("DICOM.instanceUIDs") is None
    assert items[2]["node"] is not None and items[2]["node"].GetID() == volume.GetID()


def test_a_bar_in_a_patient_name_leaves_no_fragment(tmp_path):
    original = tmp_path / "scene.mrml"
    committed(original, patient_name="Doe^John|Junior")
    scrubbed, _ = scrub_mrml(original.read_bytes())
    assert b"Junior" not in scrubbed and b"Doe" not in scrubbed
    (tmp_path / "out.mrml").write_bytes(scrubbed)
    _, items = load(tmp_path / "out.mrml")
    assert not any("Junior" in name for i in items for name in i["attributes"])


@pytest.mark.parametrize("data, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE MRML [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><MRML>&b;</MRML>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE MRML SYSTEM "file:///etc/passwd"><MRML/>', "DOCTYPE"),
    (b"<MRML><SubjectHierarchy", "not a readable MRML"),
    (b"<svg/>", "not an MRML file"),
])
def test_hostile_or_broken_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(SceneError, match=reason):
        scrub_mrml(data)


def test_scenes_are_read_with_defusedxml_and_refused_the_same_without_it(monkeypatch):
    """defusedxml (pyproject's dependency) parses; a Slicer without it falls back to the standard
    parser, and the same hostile and too deep files are refused."""
    import xml.etree.ElementTree as ET
    import defusedxml
    from SceneScrubberLib import mrml_scrubber
    assert mrml_scrubber._FORBIDDEN is defusedxml.DefusedXmlException
    hostile = [b'<?xml version="1.0"?><!DOCTYPE MRML [<!ENTITY a "aaaa">]><MRML>&a;</MRML>',
               b"<MRML>" + b"<a>" * 300 + b"</a>" * 300 + b"</MRML>"]
    for parser in ("defusedxml", "standard"):
        if parser == "standard":
            monkeypatch.setattr(mrml_scrubber, "_iterparse", ET.iterparse)
            monkeypatch.setattr(mrml_scrubber, "_FORBIDDEN", ())
        for data, reason in zip(hostile, ("DOCTYPE", "deeper")):
            with pytest.raises(SceneError, match=reason):
                scrub_mrml(data)
        assert scrub_mrml(b"<MRML><Volume id='v' name='Doe^John'/></MRML>")[0].startswith(b"<?xml")


def test_a_declaration_the_byte_check_cannot_see_is_refused_by_defusedxml():
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE MRML [<!ENTITY a "x">]><MRML>&a;</MRML>'.encode("utf-16")
    assert b"<!DOCTYPE" not in data
    with pytest.raises(SceneError, match="DOCTYPE"):
        scrub_mrml(data)


def test_without_defusedxml_as_inside_slicer_every_declaration_is_still_refused():
    """Slicer does not bundle defusedxml: the module's own fallback (expat scanning for DOCTYPE and
    entity declarations) refuses the same files, the UTF-16 one the byte check cannot see included."""
    import subprocess
    import sys
    from pathlib import Path
    code = r'''
import sys
sys.modules["defusedxml"] = None          # import defusedxml now raises ImportError
from SceneScrubberLib import mrml_scrubber
from SceneScrubberLib.mrml_scrubber import SceneError, scrub_mrml
assert mrml_scrubber._FORBIDDEN.__module__ == "SceneScrubberLib.mrml_scrubber", mrml_scrubber._FORBIDDEN
hostile = ['<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE MRML [<!ENTITY a "x">]><MRML>&a;</MRML>'.encode("utf-16"),
           b'<?xml version="1.0"?><!DOCTYPE MRML [<!ENTITY a "aaaa">]><MRML>&a;</MRML>',
           b"<MRML>" + b"<a>" * 300 + b"</a>" * 300 + b"</MRML>", b"<MRML><a></MRML>"]
for data in hostile:
    try:
        scrub_mrml(data)
    except SceneError as error:
        print("refused:", error)
    else:
        raise SystemExit("accepted a hostile scene")
print("ok" if scrub_mrml(b"<MRML><Volume id='v' name='Doe^John'/></MRML>")[0].startswith(b"<?xml") else "bad")
'''
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         # both libraries, as in Slicer's qt-scripted-modules (identity_matcher uses spellings)
                         env={"PYTHONPATH": f"{root / 'SceneScrubber'}:{root / 'DicomDeidentify'}", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["refused"] * 4 + ["ok"], lines
    assert sum("DOCTYPE" in line for line in lines) == 2 and "deeper" in lines[2] and "not a readable" in lines[3]
