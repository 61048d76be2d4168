"""Glue review 4, G4-1: a scrubbed .mrml save through the Save dialog whose node rows were left unticked
(nodes unmodified since read are not written: qSlicerSaveDataDialog.cxx 5.8.0:465-466, :803) references
the user's own files. What is done after the save (save_decisions.carry_out) never rewrites or removes
them: only the files this save wrote (fileSaved). Scenes written by slicer-core."""
from support.scenes import PHI, dicom_scene

from SceneScrubberLib.live_scene import scrubbed_for_saving
from SceneScrubberLib.save_decisions import after_scrubbed_save, carry_out


def dialog_save(scene, folder, name="case_shared.mrml", also_written=()):
    """Only the scene file written (every node row unticked), then what the hook does after the save."""
    with scrubbed_for_saving(scene) as report:
        scene.SetURL(str(folder / name))
        assert scene.Commit()
    target = str(folder / name)
    decision = after_scrubbed_save(True, True, str(folder), name, target, [*map(str, also_written), target], None)
    assert decision.finish
    return carry_out(decision, report.identifying_values | set(PHI), identifier_values=report.identifier_values)


def test_a_users_file_the_save_did_not_write_is_never_removed_nor_rewritten(tmp_path):
    scene = dicom_scene()
    folder = tmp_path / "case"
    folder.mkdir()
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    volume.GetStorageNode().SetFileName(str(folder / "volume.nrrd"))   # the user's file, loaded long before
    assert volume.GetStorageNode().WriteData(volume)
    note = scene.AddNewNodeByClass("vtkMRMLTextNode", "note")
    note.SetText(f"reviewed for {sorted(PHI)[0]}")
    storage = scene.AddNewNodeByClass("vtkMRMLTextStorageNode")
    note.SetAndObserveStorageNodeID(storage.GetID())
    storage.SetFileName(str(folder / "note.txt"))
    assert storage.WriteData(note)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    outcome = dialog_save(scene, folder)
    # the user's files as they were; the shared scene, referencing a file that holds a value, removed
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert [str(path) for path in outcome.removed_scenes] == [str(folder / "case_shared.mrml")]
    assert not (folder / "case_shared.mrml").exists()
    [(_, findings, error)] = outcome.scenes
    assert error is None and any(finding.file == "note.txt" for finding in findings)


def test_a_header_and_its_data_file_this_save_wrote_are_scrubbed_and_renamed(tmp_path):
    # fileSaved names the .nhdr only (qSlicerCoreIOManager::saveNodes, 5.8.0:885): its .raw.gz is this
    # save's too, so its name (after the patient) is taken out with it
    scene = dicom_scene()
    folder = tmp_path / "case"
    folder.mkdir()
    volume = scene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
    header = folder / "Doe_John_T1.nhdr"
    volume.GetStorageNode().SetFileName(str(header))
    assert volume.GetStorageNode().WriteData(volume)   # as the dialog's ticked row writes it
    assert (folder / "Doe_John_T1.raw.gz").is_file()
    outcome = dialog_save(scene, folder, also_written=[header])
    assert not [path.name for path in folder.rglob("*") if "doe" in path.name.lower()]
    [(_, findings, error)] = outcome.scenes
    assert error is None
