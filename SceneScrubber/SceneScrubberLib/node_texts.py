"""The text a live scene's nodes hold besides names and attributes, read and written through the MRML API.

What people type into a scene and its storage nodes write into files: a text node's text
(vtkMRMLTextNode, in the .mrml or a .txt), segment names and descriptions (vtkSegment name and
its "Description" tag, in the .seg.nrrd header), markups control point labels and descriptions
(vtkMRMLMarkupsNode, in the .mrk.json), table cells and column names (vtkMRMLTableNode, in the
.tsv/.csv), and the color names of user color tables (vtkMRMLColorTableNode of type User; the
built-in tables Slicer adds are its own vocabulary). Each is addressed by a key, so that a
snapshot can be scrubbed and put back exactly:

    ("text",), ("segment", segment id, "name" | "Description"), ("point", index, "label" |
    "description"), ("cell", row, column), ("column", index), ("color", index)

vtkSegment's tags cannot be listed from Python (only GetTag/SetTag by name): the "Description"
tag, where Slicer's Segment Editor puts a description, is the one read.
"""
from __future__ import annotations

SEGMENT_DESCRIPTION_TAG = "Description"


def node_texts(node) -> dict:
    """{key: text} of a node (see the module's text); empty for nodes that hold no such text."""
    texts = {}
    if node.IsA("vtkMRMLTextNode"):
        texts[("text",)] = node.GetText() or ""
    if node.IsA("vtkMRMLSegmentationNode") and node.GetSegmentation() is not None:
        segmentation = node.GetSegmentation()
        for index in range(segmentation.GetNumberOfSegments()):
            segment_id = segmentation.GetNthSegmentID(index)
            segment = segmentation.GetSegment(segment_id)
            texts[("segment", segment_id, "name")] = segment.GetName() or ""
            description = _segment_tag(segment, SEGMENT_DESCRIPTION_TAG)
            if description is not None:
                texts[("segment", segment_id, SEGMENT_DESCRIPTION_TAG)] = description
    if node.IsA("vtkMRMLMarkupsNode"):
        for index in range(node.GetNumberOfControlPoints()):
            texts[("point", index, "label")] = node.GetNthControlPointLabel(index) or ""
            texts[("point", index, "description")] = node.GetNthControlPointDescription(index) or ""
    if node.IsA("vtkMRMLTableNode") and node.GetTable() is not None:
        for column in range(node.GetNumberOfColumns()):
            texts[("column", column)] = node.GetColumnName(column) or ""
            for row in range(node.GetNumberOfRows()):
                texts[("cell", row, column)] = node.GetCellText(row, column) or ""
    if node.IsA("vtkMRMLColorTableNode") and node.GetType() == node.User:
        for index in range(node.GetNumberOfColors()):
            texts[("color", index)] = node.GetColorName(index) or ""
    return texts


def set_node_text(node, key: tuple, text: str) -> None:
    """Write one text back (the inverse of node_texts for that key)."""
    kind = key[0]
    if kind == "text":
        node.SetText(text)
    elif kind == "segment":
        segment = node.GetSegmentation().GetSegment(key[1])
        if segment is None:
            return
        if key[2] == "name":
            segment.SetName(text)
        else:
            segment.SetTag(key[2], text)
    elif kind == "point":
        if key[2] == "label":
            node.SetNthControlPointLabel(key[1], text)
        else:
            node.SetNthControlPointDescription(key[1], text)
    elif kind == "cell":
        node.SetCellText(key[1], key[2], text)
    elif kind == "column":
        node.RenameColumn(key[1], text)
    elif kind == "color":
        node.SetColorName(key[1], text)


def _segment_tag(segment, name: str):
    import vtk
    value = vtk.reference("")
    return value.get() if segment.GetTag(name, value) else None
