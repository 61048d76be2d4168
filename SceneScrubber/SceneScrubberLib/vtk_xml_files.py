"""VTK XML files of a scene: closed-surface segmentations (.seg.vtm and its .vtp pieces; a .seg.vtp,
which Slicer writes as a multiblock file too) and models (.vtp), read and written with VTK's own
XML readers and writers (never hand-parsed: pieces are zlib-compressed, base64-encoded).

vtkMRMLSegmentationStorageNode (Libs/MRML/Core, v5.8.0, WriteClosedSurfaceRepresentation) writes
a vtkMultiBlockDataSet with vtkXMLMultiBlockDataWriter (binary, zlib when compressed): one block
per segment, each a poly data whose field data holds the segment's properties as string arrays
(Segment_Name, Segment_Tags with the description, Segment_ID, ...). The writer puts block i into
'<file name without suffix>/<file name without suffix>_<i>.vtp', so a renamed file gets renamed
pieces. Every string of every string array (field, point and cell data of every block), every
array's name, component names and information strings (a model's thickness map named after the
patient, vtkMRMLModelStorageNode's .vtp) and every block name is what this module reads and rewrites.

VTK is imported on first use: a scene without such files never needs it (extra 'surfaces'; Slicer
has it). VTK's own error output is silenced while reading (it would print file names, which can
carry identity); an error is a SceneError with a neutral reason.
"""
from __future__ import annotations

import os
from pathlib import Path

from .mrml_scrubber import SceneError
from . import vtk_references

VTK_XML_SUFFIXES = (".vtm", ".vtp")
MULTIBLOCK = "vtkMultiBlockDataSet"


def is_vtk_xml(name: str) -> bool:
    """Whether a file name is a VTK XML file the scrubber reads (.vtp polydata, .vtm multiblock; any case)."""
    return name.lower().endswith(VTK_XML_SUFFIXES)


def _vtk():
    try:
        from vtkmodules import vtkCommonCore, vtkCommonDataModel, vtkIOXML, vtkIOXMLParser
    except ImportError:
        raise SceneError("the scene holds VTK XML files (.vtm, .vtp: closed-surface segmentations, models) and "
                         "VTK is not installed: refused (install the 'surfaces' extra)") from None
    return vtkCommonCore, vtkCommonDataModel, vtkIOXML, vtkIOXMLParser


class _Errors:
    """Counts VTK's error events of one object (its messages are never printed)."""

    def __init__(self, vtk_object):
        self.count = 0
        vtk_object.AddObserver("ErrorEvent", self)
        vtk_object.AddObserver("WarningEvent", lambda *_: None)

    def __call__(self, *_args):
        self.count += 1


def _quiet(function, messages: list | None = None):
    """Run `function` with VTK's output silenced (its messages can name files, which can carry
    identity). With `messages`, VTK's warnings and errors of any object are caught instead (a
    vtkStringOutputWindow for the time of the call) and their text appended there, to decide on,
    never to print: vtkDataSetReader's inner reader reports a short binary block only so."""
    common = _vtk()[0]
    shown, verbosity = common.vtkObject.GetGlobalWarningDisplay(), common.vtkLogger.GetCurrentVerbosityCutoff()
    window = previous = None
    if messages is None:
        common.vtkObject.GlobalWarningDisplayOff()
    else:
        previous, window = common.vtkOutputWindow.GetInstance(), common.vtkStringOutputWindow()
        common.vtkOutputWindow.SetInstance(window)
        common.vtkObject.GlobalWarningDisplayOn()
    common.vtkLogger.SetStderrVerbosity(common.vtkLogger.VERBOSITY_OFF)   # the pipeline's own messages
    try:
        return function()
    finally:
        if window is not None:
            common.vtkOutputWindow.SetInstance(previous)
            if window.GetOutput():
                messages.append(window.GetOutput())
        common.vtkObject.SetGlobalWarningDisplay(shown)
        common.vtkLogger.SetStderrVerbosity(verbosity)   # VTK has no getter of stderr's own level: the cutoff


def _root(path: Path, what: str = "a VTK XML file of the scene"):
    parser = _vtk()[3].vtkXMLDataParser()
    parser.SetFileName(str(path))
    errors = _Errors(parser)
    if not _quiet(parser.Parse) or errors.count or parser.GetRootElement() is None:
        raise SceneError(f"{what} cannot be read as VTK XML: refused (damaged file)")
    return parser, parser.GetRootElement()


def file_type(path: Path, what: str = "a VTK XML file of the scene") -> str:
    """The data type a VTK XML file declares ('PolyData', 'vtkMultiBlockDataSet', ...), by content,
    as VTK's own parser reads it (a staged copy: see read)."""
    _parser, root = _root(path, what)
    return root.GetAttribute("type") or ""


def piece_references(path: Path) -> list:
    """The 'file' of every DataSet element of a multiblock file, in the file's order (as written,
    relative to the file); [] for a file of another type."""
    parser, root = _root(path)
    if (root.GetAttribute("type") or "") != MULTIBLOCK:
        return []
    found, stack = [], [root]
    while stack:
        element = stack.pop()
        if element.GetName() == "DataSet" and element.GetAttribute("file"):
            found.append(element.GetAttribute("file"))
        stack += [element.GetNestedElement(index) for index in reversed(range(element.GetNumberOfNestedElements()))]
    del parser
    return found


READERS = {"PolyData": "vtkXMLPolyDataReader", MULTIBLOCK: "vtkXMLMultiBlockDataReader"}


def read(path: Path, what: str = "a VTK XML file of the scene", _chain: tuple = ()):
    """The data object a VTK XML file holds (poly data, or a multiblock data set with its pieces,
    which must stand beside it as it references them). Before VTK opens anything, the file's type
    and references are read from its bytes (vtk_references), at every level: each piece must be a
    relative path inside the file's folder, a regular file, and no file that leads back to itself;
    each piece is then read on its own first, so that a damaged one is an error, not an empty
    block. SceneError (naming the file as `what` says) for another type, a refused reference, or
    if VTK reports an error."""
    path = Path(path)
    data = vtk_references.read_regular(path, what=what)
    kind = vtk_references.declared_type(data[:vtk_references.HEAD_BYTES])
    if kind is None or kind not in READERS:
        raise SceneError(f"{what} holds {('VTK ' + kind) if kind else 'no declared VTK type'}, which is not "
                         "supported: refused")
    if len(_chain) > vtk_references.MAX_LEVELS:
        raise SceneError(f"{what} nests VTK composite files more than {vtk_references.MAX_LEVELS} deep: refused")
    if kind == MULTIBLOCK:
        for reference in vtk_references.references(data, what):
            piece = path.parent / vtk_references.inside(reference, what)
            if os.path.normpath(piece) in _chain + (os.path.normpath(path),):
                raise SceneError(f"{what} names itself as a piece, directly or through another file (a cycle): "
                                 "refused (damaged file)")
            read(piece, what if what.startswith("a piece of ") else f"a piece of {what}", _chain + (os.path.normpath(path),))
    if file_type(path, what) != kind:   # VTK's parser must see the type the bytes declare
        raise SceneError(f"{what} cannot be read: refused (its declared type is ambiguous)")
    reader = getattr(_vtk()[2], READERS[kind])()
    reader.SetFileName(str(path))
    errors = _Errors(reader)
    executive = _Errors(reader.GetExecutive())   # an object observed for errors does not print them
    _quiet(reader.Update)
    data = reader.GetOutputDataObject(0)
    if errors.count or executive.count or data is None:
        raise SceneError(f"{what} cannot be read by VTK: refused (damaged file or missing piece)")
    if kind == "PolyData" and _declared_size(path) != (data.GetNumberOfPoints(), data.GetNumberOfCells()):
        # VTK reads a piece whose compressed data is damaged as empty, without an error
        raise SceneError(f"{what} cannot be read: refused (damaged data)")
    copy = data.NewInstance()
    copy.ShallowCopy(data)
    return copy


def _declared_size(path: Path) -> tuple:
    """(points, cells) the Piece elements of a poly data file declare."""
    _parser, root = _root(path)
    points = cells = 0
    stack = [root]
    while stack:
        element = stack.pop()
        if element.GetName() == "Piece":
            points += int(element.GetAttribute("NumberOfPoints") or 0)
            cells += sum(int(element.GetAttribute(f"NumberOf{kind}") or 0) for kind in ("Verts", "Lines", "Strips",
                                                                                      "Polys"))
        stack += [element.GetNestedElement(index) for index in range(element.GetNumberOfNestedElements())]
    return points, cells


def _datasets(data) -> list:
    """The data sets of a data object: itself, or every non-empty leaf of a composite one."""
    if not data.IsA("vtkCompositeDataSet"):
        return [data]
    datasets = []
    iterator = data.NewIterator()
    iterator.SkipEmptyNodesOn()
    iterator.InitTraversal()
    while not iterator.IsDoneWithTraversal():
        datasets.append(iterator.GetCurrentDataObject())
        iterator.GoToNextItem()
    return datasets


def arrays(data) -> list:
    """Every array (field, point and cell data) of every data set of the data object."""
    found = []
    for dataset in _datasets(data):
        groups = [dataset.GetFieldData()]
        if dataset.IsA("vtkDataSet"):
            groups += [dataset.GetPointData(), dataset.GetCellData()]
        for group in groups:
            found += [group.GetAbstractArray(index) for index in range(group.GetNumberOfArrays())]
    return found


def _string_arrays(data) -> list:
    common = _vtk()[0]
    return [array for array in arrays(data) if isinstance(array, common.vtkStringArray)]


def array_texts(array) -> list:
    """[(text, set(new text))] for an array's own strings: its name (a thickness map named after the
    patient), its component names, and the strings of its information keys (UNITS_LABEL and any
    string or string-vector key: what VTK XML's InformationKey elements and the legacy METADATA
    block carry). Shared by both VTK formats, so that check and scrub read the same."""
    common = _vtk()[0]
    found = []
    if array.GetName():
        found.append((_text(array.GetName()), array.SetName))
    if array.HasAComponentName():
        for component in range(array.GetNumberOfComponents()):
            if array.GetComponentName(component):
                found.append((_text(array.GetComponentName(component)),
                              lambda new, component=component: array.SetComponentName(component, new)))
    if array.HasInformation():
        info = array.GetInformation()
        iterator = common.vtkInformationIterator()
        iterator.SetInformationWeak(info)
        iterator.InitTraversal()
        while not iterator.IsDoneWithTraversal():
            key = iterator.GetCurrentKey()
            if isinstance(key, common.vtkInformationStringKey) and info.Get(key) is not None:
                found.append((_text(info.Get(key)), lambda new, key=key: info.Set(key, new)))
            elif isinstance(key, common.vtkInformationStringVectorKey):
                for index in range(info.Length(key)):
                    found.append((_text(info.Get(key, index)),
                                  lambda new, key=key, index=index: info.Set(key, new, index)))
            iterator.GoToNextItem()
    return found


def redact_array_texts(array, replace) -> int:
    """Replace each of an array's own strings (array_texts) by `replace(text)`; how many changed."""
    changed = 0
    for old, setter in array_texts(array):
        new = replace(old)
        if new != old:
            setter(new)
            changed += 1
    return changed


def _block_metadata(data) -> list:
    """The information objects of every block that carry a name (vtkCompositeDataSet.NAME)."""
    model = _vtk()[1]
    found, stack = [], [data]
    while stack:
        block = stack.pop()
        if not isinstance(block, model.vtkMultiBlockDataSet):
            continue
        for index in range(block.GetNumberOfBlocks()):
            if block.HasMetaData(index) and block.GetMetaData(index).Has(model.vtkCompositeDataSet.NAME()):
                found.append(block.GetMetaData(index))
            stack.append(block.GetBlock(index))
    return found


def _text(value) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def strings(data) -> list:
    """Every string the data object holds: the values of its string arrays, every array's name,
    component names and information strings (array_texts), and its block names."""
    model = _vtk()[1]
    found = [_text(array.GetValue(index)) for array in _string_arrays(data)
             for index in range(array.GetNumberOfValues())]
    found += [text for array in arrays(data) for text, _setter in array_texts(array)]
    return found + [_text(info.Get(model.vtkCompositeDataSet.NAME())) for info in _block_metadata(data)]


def redact(data, replace) -> int:
    """Replace every string the data object holds by `replace(text)`, in place; how many changed."""
    model = _vtk()[1]
    changed = 0
    for array in _string_arrays(data):
        for index in range(array.GetNumberOfValues()):
            old = _text(array.GetValue(index))
            new = replace(old)
            if new != old:
                array.SetValue(index, new)
                changed += 1
    for array in arrays(data):
        changed += redact_array_texts(array, replace)
    for info in _block_metadata(data):
        old = _text(info.Get(model.vtkCompositeDataSet.NAME()))
        new = replace(old)
        if new != old:
            info.Set(model.vtkCompositeDataSet.NAME(), new)
            changed += 1
    return changed


def write(data, path: Path) -> None:
    """Write the data object as Slicer writes it: binary, zlib-compressed; a multiblock data set with
    vtkXMLMultiBlockDataWriter (pieces into '<name without suffix>/'), poly data with
    vtkXMLPolyDataWriter. SceneError for another type or a failed write."""
    xml = _vtk()[2]
    if data.IsA("vtkMultiBlockDataSet"):
        writer = xml.vtkXMLMultiBlockDataWriter()
    elif data.IsA("vtkPolyData"):
        writer = xml.vtkXMLPolyDataWriter()
    else:
        raise SceneError(f"a VTK XML file of the scene holds {data.GetClassName()}, which cannot be rewritten: refused")
    writer.SetFileName(str(path))
    writer.SetInputData(data)
    writer.SetDataModeToBinary()
    writer.SetCompressorTypeToZLib()
    errors = _Errors(writer)
    if not _quiet(writer.Write) or errors.count or not os.path.isfile(path):
        raise SceneError("a VTK XML file of the scene cannot be written")
