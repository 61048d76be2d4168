"""VTK XML files of a scene: closed-surface segmentations (.seg.vtm and its .vtp pieces; a .seg.vtp,
which Slicer writes as a multiblock file too) and models (.vtp), read and written with VTK's own
XML readers and writers (never hand-parsed: pieces are zlib-compressed, base64-encoded).

vtkMRMLSegmentationStorageNode (Libs/MRML/Core, v5.8.0, WriteClosedSurfaceRepresentation) writes
a vtkMultiBlockDataSet with vtkXMLMultiBlockDataWriter (binary, zlib when compressed): one block
per segment, each a poly data whose field data holds the segment's properties as string arrays
(Segment_Name, Segment_Tags with the description, Segment_ID, ...). The writer puts block i into
'<file name without suffix>/<file name without suffix>_<i>.vtp', so a renamed file gets renamed
pieces. Every string of every string array (field, point and cell data of every block) and every
block name is what this module reads and rewrites.

VTK is imported on first use: a scene without such files never needs it (extra 'surfaces'; Slicer
has it). VTK's own error output is silenced while reading (it would print file names, which can
carry identity); an error is a SceneError with a neutral reason.
"""
from __future__ import annotations

import os
from pathlib import Path

from .mrml_scrubber import SceneError

VTK_XML_SUFFIXES = (".vtm", ".vtp")
MULTIBLOCK = "vtkMultiBlockDataSet"


def is_vtk_xml(name: str) -> bool:
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


def _quiet(function):
    common = _vtk()[0]
    shown, verbosity = common.vtkObject.GetGlobalWarningDisplay(), common.vtkLogger.GetCurrentVerbosityCutoff()
    common.vtkObject.GlobalWarningDisplayOff()
    common.vtkLogger.SetStderrVerbosity(common.vtkLogger.VERBOSITY_OFF)   # the pipeline's own messages
    try:
        return function()
    finally:
        common.vtkObject.SetGlobalWarningDisplay(shown)
        common.vtkLogger.SetStderrVerbosity(verbosity)   # VTK has no getter of stderr's own level: the cutoff


def _root(path: Path):
    parser = _vtk()[3].vtkXMLDataParser()
    parser.SetFileName(str(path))
    errors = _Errors(parser)
    if not _quiet(parser.Parse) or errors.count or parser.GetRootElement() is None:
        raise SceneError("a VTK XML file of the scene cannot be read: refused (damaged file)")
    return parser, parser.GetRootElement()


def file_type(path: Path) -> str:
    """The data type a VTK XML file declares ('PolyData', 'vtkMultiBlockDataSet', ...), by content."""
    _parser, root = _root(path)
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


def read(path: Path):
    """The data object a VTK XML file holds (poly data, or a multiblock data set with its pieces,
    which must stand beside it as it references them: each piece is read on its own first, so that
    a damaged one is an error, not an empty block); SceneError for another type or if VTK reports
    an error."""
    kind = file_type(path)
    if kind not in READERS:
        raise SceneError(f"a VTK XML file of the scene holds {kind or 'no declared type'}, which is not "
                         "supported: refused")
    if kind == MULTIBLOCK:
        for piece in piece_references(path):
            read(Path(path).parent / piece)
    reader = getattr(_vtk()[2], READERS[kind])()
    reader.SetFileName(str(path))
    errors = _Errors(reader)
    executive = _Errors(reader.GetExecutive())   # an object observed for errors does not print them
    _quiet(reader.Update)
    data = reader.GetOutputDataObject(0)
    if errors.count or executive.count or data is None:
        raise SceneError("a VTK XML file of the scene cannot be read: refused (damaged file or missing piece)")
    if kind == "PolyData" and _declared_size(path) != (data.GetNumberOfPoints(), data.GetNumberOfCells()):
        # VTK reads a piece whose compressed data is damaged as empty, without an error
        raise SceneError("a VTK XML file of the scene cannot be read: refused (damaged data)")
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


def _string_arrays(data) -> list:
    common, model = _vtk()[:2]
    found = []
    datasets = [data]
    if data.IsA("vtkCompositeDataSet"):
        datasets = []
        iterator = data.NewIterator()
        iterator.SkipEmptyNodesOn()
        iterator.InitTraversal()
        while not iterator.IsDoneWithTraversal():
            datasets.append(iterator.GetCurrentDataObject())
            iterator.GoToNextItem()
    for dataset in datasets:
        groups = [dataset.GetFieldData()]
        if dataset.IsA("vtkDataSet"):
            groups += [dataset.GetPointData(), dataset.GetCellData()]
        for group in groups:
            for index in range(group.GetNumberOfArrays()):
                array = group.GetAbstractArray(index)
                if isinstance(array, common.vtkStringArray):
                    found.append(array)
    return found


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
    """Every string the data object holds: the values of its string arrays and its block names."""
    model = _vtk()[1]
    found = [_text(array.GetValue(index)) for array in _string_arrays(data)
             for index in range(array.GetNumberOfValues())]
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
