"""Legacy VTK files of a scene (.vtk: a model as vtkMRMLModelStorageNode writes it by default),
read and written with VTK's legacy reader and writer (vtkDataSetReader/vtkDataSetWriter, the
classes Slicer's model storage node uses), never hand-parsed: data is binary.

What can carry identity there: the header line (Slicer writes '3D Slicer output. SPACE=LPS'),
the names of the data arrays (a thickness map named after the patient; the legacy format writes a
space as '%20', 'John%20Doe%20thickness', which the reader decodes), their component names and
information strings (the METADATA block: COMPONENT_NAMES, INFORMATION keys such as UNITS_LABEL;
vtk_xml_files.array_texts) and the values of string arrays.
All are replaced with `replace(text)`; the file is written again with the same header (the
coordinate system Slicer reads from it stays), the same file type (binary or ASCII) and format version (Slicer's 4.2), every array.
"""
from __future__ import annotations

from pathlib import Path

from .mrml_scrubber import SceneError
from .vtk_xml_files import _Errors, _quiet, _text, array_texts, redact_array_texts

LEGACY_SUFFIXES = (".vtk",)


def is_vtk_legacy(name: str) -> bool:
    """Whether a file name is a legacy VTK file (.vtk, any case)."""
    return name.lower().endswith(LEGACY_SUFFIXES)


def _io():
    try:
        from vtkmodules import vtkCommonCore, vtkIOLegacy
    except ImportError:
        raise SceneError("the scene holds legacy VTK files (.vtk models) and VTK is not installed: refused "
                         "(install the 'surfaces' extra)") from None
    return vtkCommonCore, vtkIOLegacy


def read(path: Path, what: str = "a legacy VTK file of the scene") -> tuple:
    """(data set, reader) of a legacy VTK file, every array read (ReadAll*: the reader reads only the
    first scalars otherwise). SceneError (naming the file as `what` says) if VTK reports an error
    or a warning (a truncated file), or reads nothing."""
    reader = _io()[1].vtkDataSetReader()
    reader.SetFileName(str(path))
    for option in ("Scalars", "Vectors", "Normals", "Tensors", "ColorScalars", "TCoords", "Fields"):
        getattr(reader, f"ReadAll{option}On")()
    errors, messages = _Errors(reader), []
    # a binary block cut short is reported only as a warning of the inner reader (vtkDataReader:
    # "Error reading binary data!"), and what was not read is left as zeros: caught, so refused
    _quiet(reader.Update, messages)
    data = reader.GetOutput()
    if errors.count or data is None or messages:
        raise SceneError(f"{what} cannot be read by VTK's legacy reader: refused (damaged or truncated file)")
    return data, reader


def _groups(data) -> list:
    groups = [data.GetFieldData()]
    if data.IsA("vtkDataSet"):
        groups += [data.GetPointData(), data.GetCellData()]
    return groups


def strings(data, reader) -> list:
    """The header, every array's name, component names and information strings, and every string
    array's values."""
    common = _io()[0]
    found = [_text(reader.GetHeader() or "")]
    for group in _groups(data):
        for index in range(group.GetNumberOfArrays()):
            array = group.GetAbstractArray(index)
            found += [text for text, _setter in array_texts(array)]
            if isinstance(array, common.vtkStringArray):
                found += [_text(array.GetValue(value)) for value in range(array.GetNumberOfValues())]
    return found


def redact(data, reader, replace) -> tuple:
    """(how many strings changed, new header): array names, component names, information strings and
    string values replaced in place."""
    common = _io()[0]
    changed = 0
    header = _text(reader.GetHeader() or "")
    new_header = replace(header)
    changed += new_header != header
    for group in _groups(data):
        for index in range(group.GetNumberOfArrays()):
            array = group.GetAbstractArray(index)
            changed += redact_array_texts(array, replace)
            if isinstance(array, common.vtkStringArray):
                for value in range(array.GetNumberOfValues()):
                    old = _text(array.GetValue(value))
                    if replace(old) != old:
                        array.SetValue(value, replace(old))
                        changed += 1
    return changed, new_header


def write(data, reader, header: str, path: Path) -> None:
    """Write as it was read: the same header and file type (binary or ASCII). SceneError if it fails."""
    writer = _io()[1].vtkDataSetWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(data)
    writer.SetHeader(header)
    writer.SetFileType(reader.GetFileType())
    if reader.GetFileMajorVersion() < 5:   # Slicer writes version 4.2, which older readers read too
        writer.SetFileVersion(writer.VTK_LEGACY_READER_VERSION_4_2)
    errors = _Errors(writer)
    if not _quiet(writer.Write) or errors.count or not Path(path).is_file():
        raise SceneError("a legacy VTK file of the scene cannot be written")
