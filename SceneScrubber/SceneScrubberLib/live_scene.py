"""Scrub a live MRML scene through the real MRML API: for saving only, or for good.

For saving only, everything scrubbing changes is snapshot first and restored
after the write, so the session keeps its links to the DICOM database:

    with scrubbed_for_saving(scene) as report:
        ...write the scene...
    # the scene is exactly as it was; report.identifying_values says what to check for

The same policy as the offline scrubber (mrml_scrubber): every DICOM.* attribute of
subject hierarchy items and nodes and the DICOM UIDs go, patient and study items
are renamed "Patient 1", "Study 1", and nodes named after an identifying value
(a series description) "Volume 1" and so on, which also names their data files
when the scene is saved; the text nodes hold (node_texts: text nodes, segment names and
descriptions, markups labels and descriptions, table cells, user color names) has every
spelling of an identifying value replaced by '*'. Values holding '|' are never written.
It needs `slicer` (Slicer itself, or the slicer-core wheel); it is imported when used.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from .mrml_scrubber import IDENTIFYING_UIDS, RENAMED_LEVELS, ScrubReport, report_matchers, taken_out, taken_out_uid
from .identity_matcher import is_neutral_name
from .node_texts import node_texts, set_node_text
from .policy import ScrubPolicy
from .storage_files import restore_storage, take_storage

FRAME_SEPARATOR = "#frame"


@dataclass
class Snapshot:
    """What scrubbing changes, as it was: enough to put the scene back exactly."""
    items: dict = field(default_factory=dict)   # item id -> (name, {attribute: value}, {uid name: uid})
    nodes: dict = field(default_factory=dict)   # node id -> (name, {attribute: value})
    node_tags: dict = field(default_factory=dict)   # node id -> XML tag ("Volume"), for neutral names
    texts: dict = field(default_factory=dict)   # node id -> {key: text} (node_texts: segments, markups, tables...)
    url: str = ""              # the scene's URL and root directory: Slicer's scene writer moves them to
    root_directory: str = ""   # the file it writes (N3, see restore)
    storage: dict = field(default_factory=dict)   # node id -> storage_files.NodeStorage: the node writer moves it too


def _slicer():
    import slicer
    return slicer


def _hierarchy(scene):
    return _slicer().vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def _items(hierarchy) -> list:
    import vtk
    ids = vtk.vtkIdList()
    hierarchy.GetItemChildren(hierarchy.GetSceneItemID(), ids, True)
    return [ids.GetId(index) for index in range(ids.GetNumberOfIds())]


def _nodes(scene) -> list:
    """(id, node) of every node, and of every data node of a sequence: a sequence keeps its frames in
    a scene of its own, and its storage node writes their attributes into the file."""
    nodes = []
    for index in range(scene.GetNumberOfNodes()):
        node = scene.GetNthNode(index)
        nodes.append((node.GetID(), node))
        if hasattr(node, "GetNumberOfDataNodes"):
            nodes += [(f"{node.GetID()}{FRAME_SEPARATOR}{frame}", node.GetNthDataNode(frame))
                      for frame in range(node.GetNumberOfDataNodes())]
    return nodes


def _node(scene, node_id: str):
    sequence_id, separator, frame = node_id.partition(FRAME_SEPARATOR)
    node = scene.GetNodeByID(sequence_id)
    return node.GetNthDataNode(int(frame)) if separator and node is not None else node


def take_snapshot(scene) -> Snapshot:
    """Snapshot of a live vtkMRMLScene: every subject hierarchy item's name, attributes and UIDs, every
    node's (and sequence frame's) name, attributes, XML tag and texts, the scene's URL, root directory
    and storage file names. Reads only; `restore` puts these back after a scrubbed save."""
    hierarchy = _hierarchy(scene)
    snapshot = Snapshot(url=scene.GetURL() or "", root_directory=scene.GetRootDirectory() or "",
                        storage=take_storage(scene))
    for item in _items(hierarchy):
        attributes = {n: hierarchy.GetItemAttribute(item, n) for n in hierarchy.GetItemAttributeNames(item)}
        uids = {n: hierarchy.GetItemUID(item, n) for n in hierarchy.GetItemUIDNames(item)}
        snapshot.items[item] = (hierarchy.GetItemName(item), attributes, uids)
    for node_id, node in _nodes(scene):
        snapshot.nodes[node_id] = (node.GetName(), {n: node.GetAttribute(n) for n in node.GetAttributeNames()})
        snapshot.node_tags[node_id] = node.GetNodeTagName()
        texts = node_texts(node)
        if texts:
            snapshot.texts[node_id] = texts
    return snapshot


@dataclass
class ScrubPlan:
    """Every change the policy asks of a scene, worked out from a snapshot (the scene is not touched)."""
    report: ScrubReport = field(default_factory=ScrubReport)
    item_attributes: dict = field(default_factory=dict)   # item id -> {attribute: new value or None}
    item_uids: dict = field(default_factory=dict)         # item id -> [uid names to remove]
    item_names: dict = field(default_factory=dict)        # item id -> new name
    node_attributes: dict = field(default_factory=dict)   # node id -> {attribute: new value or None}
    node_names: dict = field(default_factory=dict)        # node id -> new name
    node_texts: dict = field(default_factory=dict)        # node id -> {key: text with identity replaced}


def plan_scrub(snapshot: Snapshot, policy: ScrubPolicy | None = None) -> ScrubPlan:
    """The changes scrubbing with `policy` (default ScrubPolicy()) makes to the scene a snapshot was taken of,
    worked out without touching the scene: attributes removed or shifted, identifying UIDs removed, items
    renamed "<Level> <n>", nodes named after an identifying value renamed "<tag> <n>", texts redacted by
    the offline scrubber's matcher (mrml_scrubber.report_matchers). Its report lists what was taken out."""
    policy = policy or ScrubPolicy()
    plan = ScrubPlan()
    report = plan.report
    counters = {level: 0 for level in RENAMED_LEVELS}
    for item, (name, attributes, uids) in snapshot.items.items():
        level = attributes.get("Level", "")
        changes = plan.item_attributes.setdefault(item, {})
        for attribute, value in attributes.items():
            new = policy.attribute(attribute, value)
            if new != value:
                taken_out(report, attribute, value)
            if new is None:
                changes[attribute] = None
                report.removed_attributes += 1
            elif new != value or "|" in new:   # a '|' would corrupt the item when written
                changes[attribute] = new.replace("|", "/")
        for uid_name, uid in uids.items():
            if uid_name in IDENTIFYING_UIDS and not policy.item_uid(uid_name, level):
                plan.item_uids.setdefault(item, []).append(uid_name)
                report.removed_uids += 1
                taken_out_uid(report, uid_name, uid, level)
        if level in counters:
            counters[level] += 1
            plan.item_names[item] = f"{level} {counters[level]}"
            if not is_neutral_name(name):   # "Patient 1" of a scrubbed scene identifies nobody
                report.renamed_items.append((name, plan.item_names[item]))
                report.identifying_values.add(name)
    for node_id, (_name, attributes) in snapshot.nodes.items():
        changes = plan.node_attributes.setdefault(node_id, {})
        for attribute, value in attributes.items():
            new = policy.attribute(attribute, value)
            if new != value:
                taken_out(report, attribute, value)
                changes[attribute] = new
                report.removed_attributes += new is None
    report.identifying_values.discard("")
    report.descriptive_values -= report.identifying_values | {""}
    matcher, name_matcher = report_matchers(report)   # the offline scrubber's rule (mrml_scrubber)
    _rename_nodes_named_after(snapshot, plan, name_matcher)
    for node_id, texts in snapshot.texts.items():
        for key, text in texts.items():
            redacted = matcher.redact(text)
            if redacted != text:
                plan.node_texts.setdefault(node_id, {})[key] = redacted
    return plan


def _rename_nodes_named_after(snapshot: Snapshot, plan: ScrubPlan, matcher) -> None:
    """Data nodes are named from DICOM values ("3: <series description>"), and saving names
    their files after them: such names become "<node type> <n>" (e.g. "Volume 1")."""
    counters: dict = {}
    for node_id, (name, _attributes) in snapshot.nodes.items():
        if not matcher.found_in(name):
            continue
        kind = snapshot.node_tags.get(node_id) or "Node"
        counters[kind] = counters.get(kind, 0) + 1
        plan.node_names[node_id] = f"{kind} {counters[kind]}"
        plan.report.renamed_items.append((name, plan.node_names[node_id]))
        plan.report.renamed_nodes[node_id] = plan.node_names[node_id]


def apply_plan(scene, plan: ScrubPlan) -> None:
    """Make the plan's changes to the live scene, through the subject hierarchy node's and the nodes' own
    setters (vtkMRMLSubjectHierarchyNode.SetItemAttribute, RemoveItemUID, SetItemName; vtkMRMLNode.SetAttribute,
    SetName). Returns None; a node that has gone from the scene raises AttributeError."""
    hierarchy = _hierarchy(scene)
    for item, changes in plan.item_attributes.items():
        for attribute, value in changes.items():
            if value is None:
                hierarchy.RemoveItemAttribute(item, attribute)
            else:
                hierarchy.SetItemAttribute(item, attribute, value)
    for item, uid_names in plan.item_uids.items():
        for uid_name in uid_names:
            hierarchy.RemoveItemUID(item, uid_name)
    for item, name in plan.item_names.items():
        hierarchy.SetItemName(item, name)
    for node_id, changes in plan.node_attributes.items():
        node = _node(scene, node_id)
        for attribute, value in changes.items():
            if value is None:
                node.RemoveAttribute(attribute)
            else:
                node.SetAttribute(attribute, value)
    for node_id, name in plan.node_names.items():
        _node(scene, node_id).SetName(name)
    for node_id, texts in plan.node_texts.items():
        node = _node(scene, node_id)
        for key, text in texts.items():
            set_node_text(node, key, text)


def identifying_values(scene, policy: ScrubPolicy | None = None) -> set:
    """What scrubbing would take out of the scene, worked out without changing it."""
    return plan_scrub(take_snapshot(scene), policy).report.identifying_values


def scrub_scene(scene, snapshot: Snapshot | None = None, policy: ScrubPolicy | None = None) -> ScrubReport:
    """Apply the policy to the live scene (for good, unless restored from a snapshot)."""
    plan = plan_scrub(snapshot or take_snapshot(scene), policy)
    apply_plan(scene, plan)
    return plan.report


def restore(scene, snapshot: Snapshot) -> None:
    """Put back every name, attribute, UID and text scrubbing changed, and the scene's URL and root directory.

    Slicer's scene writer sets both to the file it writes, before writing "so next time when the
    scene is saved, again, the same folder and filename is used by default" (Modules/Loadable/Data/
    qSlicerSceneWriter.cxx writeToMRML 129-130 and writeToMRB 168-169 in main and 5.10; 5.8 129-130,
    169-170), and the Save dialog's scene row starts from them (qSlicerSaveDataDialog.cxx
    populateScene, main 277-281, 5.10 282, 5.8 313-317). A scrubbed save writes a copy that
    differs from the live scene, which keeps the patient's identity: left there, the next ordinary
    Save would propose the shared copy and write the identified scene over it (N3). Put back, it
    proposes the user's own file (or a dated name in the earlier folder). The same holds for each
    node's data file, which saving a node row moves to the shared copy's folder (storage_files)."""
    scene.SetURL(snapshot.url)
    scene.SetRootDirectory(snapshot.root_directory)
    restore_storage(scene, snapshot.storage)
    hierarchy = _hierarchy(scene)
    for item, (name, attributes, uids) in snapshot.items.items():
        hierarchy.SetItemName(item, name)
        for attribute in hierarchy.GetItemAttributeNames(item):
            if attribute not in attributes:
                hierarchy.RemoveItemAttribute(item, attribute)
        for attribute, value in attributes.items():
            hierarchy.SetItemAttribute(item, attribute, value)
        for uid_name, uid in uids.items():
            hierarchy.SetItemUID(item, uid_name, uid)
    for node_id, (name, attributes) in snapshot.nodes.items():
        node = _node(scene, node_id)
        if node is None:
            continue
        node.SetName(name)
        for attribute, value in attributes.items():
            node.SetAttribute(attribute, value)
    for node_id, texts in snapshot.texts.items():
        node = _node(scene, node_id)
        if node is None:
            continue
        now = node_texts(node)
        for key, text in texts.items():
            if key in now and now[key] != text:
                set_node_text(node, key, text)


@contextmanager
def scrubbed_for_saving(scene, policy: ScrubPolicy | None = None):
    """Scrub, let the caller write, and restore whatever happens while it writes (the scene's URL and
    root directory included: the written file is a copy, not the scene's own file)."""
    snapshot = take_snapshot(scene)
    try:
        yield scrub_scene(scene, snapshot, policy)
    finally:
        restore(scene, snapshot)
