"""Where each storable node's data file is, kept across the save of a scrubbed copy.

Saving a node through Slicer's Save dialog points its storage node at the file written:
qSlicerNodeWriter::write creates a storage node if there is none, then sets FileName,
WriteFileFormat and URI (nullptr) before WriteData (Base/QTGUI/qSlicerNodeWriter.cxx, same in
5.8.0, 5.10.0 and main), and WriteData marks the data as stored there. Slicer 5.10's
saveHiddenNodes does the same for hidden nodes (<folder>/Private/...). After a scrubbed .mrml
save the live nodes, which keep the patient's identity (segment names, markups labels, tables),
would then belong to the shared copy's files, and the next ordinary Save would propose those
files for every modified node and write identity over them (review N3, the node rows' side).
A bundle (.mrb or data-bundle folder) does not need this: vtkMRMLScene's
SaveSceneToSlicerDataBundleDirectory puts the original file names back itself ("reset the storage
paths", Libs/MRML/Core/vtkMRMLScene.cxx main 4432-4470).

MRML API used (Libs/MRML/Core, v5.8.0 d20ee94c, v5.10.0 a2b6d082, main 583e9b37):
vtkMRMLStorableNode GetNumberOfStorageNodes/GetNthStorageNodeID (.h 5.8:99-100, main:97-98),
GetModifiedSinceRead and StorableModified (5.8:152/157, main:150/155); vtkMRMLStorageNode
Get/SetFileName, Get/SetURI, GetWriteFileFormat/SetWriteFileFormat, GetNumberOfFileNames,
GetNthFileName, ResetFileNameList, AddFileName (.h main 83-84, 106-107, 207-208, 96, 213, 218, 222);
vtkMRMLStorableNode SetAndObserveStorageNodeID (5.8:80, 5.10 and main:78).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredFiles:
    """A storage node's file as it was: FileName, the extra file names, WriteFileFormat, URI."""
    file_name: str | None
    file_names: tuple
    write_format: str | None
    uri: str | None


@dataclass(frozen=True)
class NodeStorage:
    """A storable node's storage nodes (id -> StoredFiles) and whether its data was modified since
    it was read or stored (GetModifiedSinceRead)."""
    storage: dict
    modified: bool


def _stored_files(storage_node) -> StoredFiles:
    # None and "" are the same "no file" (a bundle save puts back "" where there was None)
    return StoredFiles(storage_node.GetFileName() or "",
                       tuple(storage_node.GetNthFileName(n) for n in range(storage_node.GetNumberOfFileNames())),
                       storage_node.GetWriteFileFormat() or "", storage_node.GetURI() or "")


def _set_file_name(storage_node, file_name: str) -> None:
    if file_name:
        storage_node.SetFileName(file_name)
        return
    try:   # no file: nullptr, as before (vtkSetStringMacro(FileName))
        storage_node.SetFileName(None)
    except TypeError:   # main also has SetFileName(const std::string&), which the wrapper picks for None
        storage_node.SetFileName("")


def take_storage(scene) -> dict:
    """node id -> NodeStorage for every storable node of the scene."""
    state = {}
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        if not hasattr(node, "GetNumberOfStorageNodes"):
            continue
        storage = {}
        for n in range(node.GetNumberOfStorageNodes()):
            storage_id = node.GetNthStorageNodeID(n)
            storage_node = scene.GetNodeByID(storage_id) if storage_id else None
            if storage_node is not None:
                storage[storage_id] = _stored_files(storage_node)
        state[node.GetID()] = NodeStorage(storage, bool(node.GetModifiedSinceRead()))
    return state


def restore_storage(scene, state: dict) -> list:
    """Point every storable node back at the files it had in `state`; returns the ids of the nodes
    changed. A storage node made by the save (the node had none) is removed again, so the next
    save proposes a file as for a node never saved. A node whose data was modified before the save
    is marked modified again (its own file does not hold those changes); one that was not keeps
    its own, current file."""
    changed = []
    for node_id, before in state.items():
        node = scene.GetNodeByID(node_id)
        if node is None or not hasattr(node, "GetNumberOfStorageNodes"):
            continue
        moved = False
        if not before.storage and node.GetNumberOfStorageNodes():
            # made by the save (qSlicerNodeWriter::write, createAndAddDefaultStorageNode): taken off
            # again, so the next save proposes a file as for a node never saved
            made = [scene.GetNodeByID(node.GetNthStorageNodeID(n)) for n in range(node.GetNumberOfStorageNodes())]
            node.SetAndObserveStorageNodeID(None)
            for storage_node in made:
                if storage_node is not None:
                    scene.RemoveNode(storage_node)
            moved = True
        for n in range(node.GetNumberOfStorageNodes()):
            storage_id = node.GetNthStorageNodeID(n)
            storage_node = scene.GetNodeByID(storage_id) if storage_id else None
            old = before.storage.get(storage_id) if storage_node is not None else None
            if old is None or _stored_files(storage_node) == old:
                continue
            _set_file_name(storage_node, old.file_name)
            storage_node.ResetFileNameList()
            for file_name in old.file_names:
                storage_node.AddFileName(file_name)
            if old.write_format:
                storage_node.SetWriteFileFormat(old.write_format)
            storage_node.SetURI(old.uri or None)
            moved = True
        if moved:
            if before.modified:
                node.StorableModified()
            changed.append(node_id)
    return changed
