"""The cells of a delimited table file (.csv, .tsv) as they stand in its text, so that each is judged
whole and rewritten in place.

Slicer writes tables and colour tables (vtkMRMLTableStorageNode, vtkMRMLColorTableStorageNode's .csv)
with quoted strings: `0,"Jan 1, 1970",255,...`. Split at every delimiter, a quoted cell holding the
delimiter falls into pieces that no spelling matches (a birth date "Jan 1, 1970" became `"Jan 1` and
` 1970"`). The grammar is RFC 4180's (what Python's csv module reads with its default dialect): a cell
is either quoted, `"..."` with `""` for a quote and the delimiter and line breaks inside, or unquoted,
running to the next delimiter or line break. csv.reader gives values but not where they stand, and
writing them back with csv.writer would requote every cell; so the spans are found here and only the
values change: quotes, delimiters and line breaks stay byte for byte.
"""
from __future__ import annotations

import re
from typing import Callable


def _tokens(delimiter: str) -> re.Pattern:
    d = re.escape(delimiter)
    # a whole quoted string, one separator, a run of plain text, or a quote that opens nothing
    return re.compile(rf'(?P<quoted>"(?:[^"]|"")*")|(?P<separator>\r\n|[{d}\r\n])|(?P<plain>[^{d}\r\n"]+)|"')


def redact_cells(text: str, delimiter: str, redact: Callable[[str], str]) -> str:
    """`text` (a whole .csv or .tsv file, str) with each cell's value replaced by redact(value).

    A cell that is one quoted string has its value unescaped (`""` -> `"`) before redact sees it and
    escaped again after; its quotes stay. Any other cell (unquoted, or malformed: a stray quote, one
    never closed) is redacted as it stands, so nothing goes unread; the check after a scrub reads the
    whole text anyway (scene_check). Separators (the delimiter, line breaks) stay as they are."""
    pieces: list = []
    cell: list = []   # the tokens of the cell being read: (kind, text)

    def end_cell() -> None:
        if len(cell) == 1 and cell[0][0] == "quoted":
            value = cell[0][1][1:-1].replace('""', '"')
            pieces.append('"' + redact(value).replace('"', '""') + '"')
        elif cell:
            pieces.append(redact("".join(token for _, token in cell)))
        cell.clear()

    for match in _tokens(delimiter).finditer(text):
        if match.lastgroup == "separator":
            end_cell()
            pieces.append(match.group())
        else:
            cell.append((match.lastgroup or "plain", match.group()))
    end_cell()
    return "".join(pieces)
