"""table_cells.redact_cells against Python's csv module as the oracle: for any table csv.writer writes
(quoted or not, delimiters, quotes and line breaks inside cells), the cells csv.reader reads back from
the redacted text are the input's cells, each redacted; rows and cells are neither merged nor split."""
import csv
import io

from hypothesis import given, settings, strategies as st

from SceneScrubberLib.table_cells import redact_cells

cells = st.text(alphabet=st.sampled_from(list('ab ,\t"\n\rDoe')), max_size=12)
tables = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=4)


def written(rows, delimiter, quoting) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n").writerows(rows)
    return out.getvalue()


def redact(value: str) -> str:
    return value.replace("Doe", "*")


@settings(max_examples=300, deadline=None)
@given(tables, st.sampled_from([",", "\t"]), st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
def test_the_cells_read_back_are_the_inputs_cells_redacted(rows, delimiter, quoting):
    text = written(rows, delimiter, quoting)
    read = list(csv.reader(io.StringIO(redact_cells(text, delimiter, redact), newline=""), delimiter=delimiter))
    expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert read == [[redact(cell) for cell in row] for row in expected]


def test_a_quoted_cell_keeps_its_quotes_and_the_rest_stays_byte_for_byte():
    text = '0,"Jan 1, 1970",255\r\n1,"say ""Doe""",0\n"unclosed, Doe\n'
    assert redact_cells(text, ",", lambda v: v.replace("Jan 1, 1970", "*").replace("Doe", "*")) == \
        '0,"*",255\r\n1,"say ""*""",0\n"unclosed, *\n'
