"""What the Save dialog's file table must say when a scene is saved without patient information.

Slicer's Save dialog (qSlicerSaveDataDialog) fills its table before it shows: one row for
the scene and one per storable node, each with a file name taken from the node's name
("3 Axial for Doe.nrrd") and a folder (the node's current one, which can be
"/data/Patients/DOE_JOHN"). Pressing Save writes each checked node to that file, then the
scene. Renaming the nodes at that moment is too late for the table, so the same decision
goes into its cells: this module makes it, the Slicer layer applies it and puts the cells
back afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass

from .mrml_scrubber import file_suffixes
from .identity_matcher import IdentityMatcher
from .phi_attributes import names_identifying_value


@dataclass(frozen=True)
class SaveRow:
    """One row of the table as the dialog shows it."""
    row: int
    node_id: str          # "" for the scene's row
    file_name: str
    extension: str        # the format's extension, ".nrrd", ".mrb" ("" if unknown)
    directory: str
    checked: bool


@dataclass(frozen=True)
class RowChange:
    """A change to one row of Slicer's Save dialog file table (qSlicerSaveDataDialog): the row index, its new file
    name and folder (None: unchanged), and whether the row must be checked so the file is written."""
    row: int
    file_name: str | None = None   # new text of the file name cell
    directory: str | None = None   # new folder
    check: bool = False            # the file must be written (its old copy would stay referenced)


def neutral_rows(rows: list, new_node_names: dict, identifying_values, scene_directory: str) -> list:
    """The changes that keep identity out of the file names and folders the dialog will write to.

    new_node_names: node id -> the neutral name scrubbing gave it. A node row gets its node's new
    name; any other file name holding an identifying value becomes a neutral one; a node row whose
    folder names an identifying value is written into the scene's folder instead. A node row that
    gets a new name or folder is checked: saveNodes skips unchecked rows (qSlicerSaveDataDialog.cxx
    main 738-742, 5.10 748, 5.8 803), so the scene would go on referencing the node's old,
    identifying file (N6). The scene's own row is never checked here: unchecked, no scene is saved."""
    changes = []
    identifying_values = IdentityMatcher(identifying_values)
    for row in rows:
        file_name = directory = None
        if row.node_id and row.node_id in new_node_names:
            file_name = new_node_names[row.node_id] + _extension(row)
        elif names_identifying_value(row.file_name, identifying_values):
            file_name = ("Scene" if not row.node_id else f"Data {row.row}") + _extension(row)
        moved = bool(row.node_id) and names_identifying_value(row.directory, identifying_values)
        if moved:
            directory = scene_directory
        if file_name is not None or moved:
            changes.append(RowChange(row.row, file_name, directory, check=bool(row.node_id) and not row.checked))
    return changes


def _extension(row: SaveRow) -> str:
    if row.extension and row.file_name.lower().endswith(row.extension.lower()):
        return row.extension
    return file_suffixes(row.file_name) or row.extension


def outcome_message_path(path: str, values=()) -> str:
    """A saved file's path as it may be shown and logged: '...' where it holds one of `values`."""
    return IdentityMatcher(set(values)).redact(str(path), "...") if values else str(path)


def outcome_message(path: str, findings: list, scrubbed: bool, values=(), removed: bool = False) -> str:
    """What the user is told after a save: where identity was found, never the values themselves.
    The saved file's own path is shown with '...' where it holds one of `values` or of the values
    found (a folder or file named after the patient): Slicer logs the text of every popup.
    `removed`: the scene was removed because of the findings (save_decisions.carry_out)."""
    path = outcome_message_path(path, set(values) | {finding.term for finding in findings})
    if not findings:
        return (f"Saved {path} without patient information: no identifying value found in the written files."
                if scrubbed else f"{path}: no identifying value found in the written files.")
    files = sorted({finding.file for finding in findings})
    shown = ", ".join(_without_values(name, findings) for name in files[:5])
    more = f" and {len(files) - 5} more" if len(files) > 5 else ""
    if removed:
        return (f"{path}: identifying values were found in {len(files)} written file(s) ({shown}{more}) after "
                "removing patient information (a kind of file the scrubber cannot rewrite), so the saved scene "
                "was removed. Save it again without that data, or report the file kind.")
    return (f"{path}: identifying values were found in {len(files)} written file(s) ({shown}{more}). "
            "Do not share it as it is; use Scene Scrubber > Check a saved scene for details.")


def _without_values(name: str, findings: list) -> str:
    """A file name, with '...' where it holds an identifying value (in any form Slicer writes it)."""
    return IdentityMatcher({finding.term for finding in findings}).redact(name, "...")
