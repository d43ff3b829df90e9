"""The template workbook: write a blank one, import a filled one all or nothing, export the lot.

A workbook is untrusted input. Before openpyxl parses it, the import checks its size, the
unpacked size of its zip members and its shared strings (`files`); it then reads the Metrics
and Values sheets cell by cell from the parsed XML, refusing every formula (`sheets`), reads
each cell (`cells`), checks every row against the vocabulary and what is held (`validate`,
`values`), and lists every problem at once, each with its sheet, cell and reason. Only a
workbook without a single problem is written (`importer`, `writer`), in one transaction that
holds the write lock. `export` writes the blank template and the database in the same format.
`docs/template-workbook.md` describes the format.
"""

from metrics.workbook.cells import Cell, Invalid, number_parts
from metrics.workbook.columns import (
    METRIC_COLUMNS,
    NUMBER_COLUMNS,
    SHEETS,
    TEXT_COLUMNS,
    VALUE_COLUMNS,
    Column,
)
from metrics.workbook.export import cell_value, export_workbook, marked_path, write_template
from metrics.workbook.importer import import_workbook, import_workbook_in
from metrics.workbook.problems import MAX_PROBLEMS, Problem, WorkbookError
from metrics.workbook.writer import ImportResult

__all__ = [
    "MAX_PROBLEMS",
    "METRIC_COLUMNS",
    "NUMBER_COLUMNS",
    "SHEETS",
    "TEXT_COLUMNS",
    "VALUE_COLUMNS",
    "Cell",
    "Column",
    "ImportResult",
    "Invalid",
    "Problem",
    "WorkbookError",
    "cell_value",
    "export_workbook",
    "import_workbook",
    "import_workbook_in",
    "marked_path",
    "number_parts",
    "write_template",
]
