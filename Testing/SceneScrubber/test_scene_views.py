"""Issue 14, item 4: scenes with scene views as older Slicer versions save them (vtkMRMLSceneViewNode:
copies of every node, the subject hierarchy included, nested in the scene file, the automatic "Master
Scene View", screenshots by vtkMRMLSceneViewStorageNode) are scrubbed consistently, and a scene view
whose screenshot is missing is no reason to fail."""
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import slicer
import vtk

from SceneScrubberLib.bundles import scrub_scene
from SceneScrubberLib.scene_check import check_scene, identifying_terms
from support.scenes import PHI, dicom_scene

CLI = Path(sys.executable).parent / "scene-scrubber"
VIEW_CLASSES = ("vtkMRMLSceneViewNode", "vtkMRMLSceneViewStorageNode")


def with_scene_views(scene):
    for name in VIEW_CLASSES:
        scene.RegisterNodeClass(getattr(slicer, name)())
    return scene


def scene_view_bundle(tmp_path: Path) -> Path:
    scene = with_scene_views(dicom_scene(series_description="Axial"))
    master = scene.AddNewNodeByClass("vtkMRMLSceneViewNode", "Master Scene View")
    master.StoreScene()
    shot = vtk.vtkImageData()
    shot.SetDimensions(4, 4, 1)
    shot.AllocateScalars(vtk.VTK_UNSIGNED_CHAR, 3)
    master.SetScreenShot(shot)
    scene.AddNewNodeByClass("vtkMRMLSceneViewNode", "Doe John view").StoreScene()   # no screenshot written
    logic = slicer.vtkMRMLApplicationLogic()
    logic.SetMRMLScene(scene)
    (tmp_path / "scene").mkdir()
    assert logic.SaveSceneToSlicerDataBundleDirectory(str(tmp_path / "scene"), None)
    as_older_slicer_wrote_it(tmp_path / "scene" / "scene.mrml")
    assert logic.Zip(str(tmp_path / "scene.mrb"), str(tmp_path / "scene"))
    return tmp_path / "scene.mrb"


def as_older_slicer_wrote_it(mrml: Path) -> None:
    """Slicer since 5.0 leaves storable nodes out of scene views (vtkMRMLSceneViewNode::
    IncludeNodeInSceneView); older versions copied them in. Put back what they wrote: a copy of the
    live volume in each view, and in the last one a volume deleted since, named after the patient,
    whose data file no longer exists."""
    root = ET.fromstring(mrml.read_bytes())
    volume = root.find("Volume")
    views = root.findall("SceneView")
    for view in views:
        view.append(ET.fromstring(ET.tostring(volume)))
    gone = ET.SubElement(views[-1], "Volume", dict(volume.attrib, id="vtkMRMLScalarVolumeNode9", name="Doe John old",
                                                     references="storage:vtkMRMLNRRDStorageNode9;"))
    ET.SubElement(views[-1], "NRRDStorage", {"id": "vtkMRMLNRRDStorageNode9", "name": "NRRDStorage",
                                            "fileName": "Data/Doe%20John%20old.nhdr"})
    assert gone is not None
    mrml.write_bytes(ET.tostring(root))


def test_scene_view_copies_are_renamed_like_the_live_nodes(tmp_path):
    mrb = scene_view_bundle(tmp_path)
    with zipfile.ZipFile(mrb) as archive:
        mrml = archive.read("scene/scene.mrml")
        assert "scene/Data/Doe John view.png" not in archive.namelist()       # referenced, missing
    root = ET.fromstring(mrml)
    assert len(root.findall("SceneView")) == 2 and root.find("SceneView/Volume").get("name") == "3: Axial"
    run = subprocess.run([str(CLI), "scrub", str(mrb), "--output", str(tmp_path / "clean.mrb")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "warning: the scene references" in run.stdout and "Doe" not in run.stdout
    with zipfile.ZipFile(tmp_path / "clean.mrb") as archive:
        scrubbed = ET.fromstring(archive.read("scene/scene.mrml"))
        assert "scene/Data/Master Scene View.png" in archive.namelist()
    live = scrubbed.find("Volume").get("name")
    assert live == "Volume 1"
    assert [view.find("Volume").get("name") for view in scrubbed.findall("SceneView")] == [live, live]
    old_copy = scrubbed.findall("SceneView")[-1].findall("Volume")[-1]
    assert old_copy.get("name") == "Volume 2"
    assert scrubbed.findall("SceneView")[-1].findall("NRRDStorage")[-1].get("fileName") == "Data/Volume_2.nhdr"
    items = [[item.get("name") for item in hierarchy.iter("SubjectHierarchyItem")][:3]
             for hierarchy in [scrubbed.find("SubjectHierarchy")] + scrubbed.findall("SceneView/SubjectHierarchy")]
    assert items == [["Scene", "Patient 1", "Study 1"]] * 3
    assert [view.get("name") for view in scrubbed.findall("SceneView")] == ["Master Scene View", "SceneView 1"]
    assert check_scene(tmp_path / "clean.mrb", identifying_terms(mrb) | set(PHI)) == []
    # Slicer's reader takes the scrubbed scene views back as it takes the input's (both report the
    # missing screenshot and old volume file: OpenSlicerDataBundle says False for either)
    for bundle in (mrb, tmp_path / "clean.mrb"):
        scene = with_scene_views(slicer.vtkMRMLScene())
        logic = slicer.vtkMRMLApplicationLogic()
        logic.SetMRMLScene(scene)
        opened = tmp_path / f"opened-{bundle.stem}"
        opened.mkdir()
        logic.OpenSlicerDataBundle(str(bundle), str(opened))
        assert scene.GetNumberOfNodesByClass("vtkMRMLSceneViewNode") == 2
        assert scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode").GetImageData().GetDimensions() == (8, 8, 3)
