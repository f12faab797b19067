"""CSV in and out: the review table as a spreadsheet, the analyst's edits brought back, and the command
line's import results.

cells: the columns, the one row → cells mapping (the grid shows the same cells), the LibreNMS link, the
    formula-injection escape.
read: the one parser (encodings, `sep=` line, delimiter, headers, records with line numbers).
write: the review CSV and the import results CSV (UTF-8 with a BOM, CRLF, formula-safe).
apply: the edits applied to a review, and `import_csv`, the one rule of which rows a CSV imports (the
    Import page's upload and `python -m core import` both call it).
"""

from core.csvio.apply import CsvReport, apply_csv, import_csv
from core.csvio.cells import (
    COLUMNS,
    EDITABLE_COLUMNS,
    FALSE_WORDS,
    KIND_WORDS,
    REFERENCE_FIELDS,
    TRUE_WORDS,
    escape_cell,
    librenms_link,
    parse_flag,
    row_cells,
    stack_members_text,
    unescape_cell,
)
from core.csvio.read import BOM, DELIMITERS, CsvRecord, CsvTable, decode, normalise_header, read_table
from core.csvio.write import (
    ENCODING,
    PLAN_COLUMNS,
    RESULT_COLUMNS,
    csv_bytes,
    plan_csv_bytes,
    plan_to_csv,
    results_to_csv,
    rows_to_csv,
    write_csv,
    write_results,
)
from core.errors import CsvError

__all__ = [
    "BOM",
    "COLUMNS",
    "DELIMITERS",
    "EDITABLE_COLUMNS",
    "ENCODING",
    "FALSE_WORDS",
    "KIND_WORDS",
    "PLAN_COLUMNS",
    "REFERENCE_FIELDS",
    "RESULT_COLUMNS",
    "TRUE_WORDS",
    "CsvError",
    "CsvRecord",
    "CsvReport",
    "CsvTable",
    "apply_csv",
    "csv_bytes",
    "decode",
    "escape_cell",
    "import_csv",
    "librenms_link",
    "normalise_header",
    "parse_flag",
    "plan_csv_bytes",
    "plan_to_csv",
    "read_table",
    "results_to_csv",
    "row_cells",
    "rows_to_csv",
    "stack_members_text",
    "unescape_cell",
    "write_csv",
    "write_results",
]
