"""CSV that spreadsheets open as data: a text cell that would start a formula is written with a leading quote.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (also after
leading spaces, or behind a tab or carriage return) as a formula, so a value someone typed (an e-mail on a failed
sign-in, an uploaded file's name) could run ``=HYPERLINK(...)`` in the reader's spreadsheet. Such cells get a
leading ``'``, which spreadsheets show as text and do not evaluate (the OWASP "CSV Injection" advice). Full-width
forms of those characters are treated the same, since Japanese input methods produce them. Numbers written as
numbers (``-12.5``) are data, not formulas, and stay as they are. Every CSV the product writes goes through here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = frozenset("=+-@\t\r\n＝＋－＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """``value`` as it may go into a CSV cell: a text that a spreadsheet would run as a formula gets a leading
    ``'``; numbers, text that is just a number, and everything else are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip()
    if value[0] not in FORMULA_START and not (stripped and stripped[0] in FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(stripped):
        return value  # "-12.5": a number written as text is not a formula
    return "'" + value


def safe_row(row: Iterable[object]) -> list[object]:
    """Every cell of ``row`` through :func:`safe_cell`."""
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell (same arguments as ``csv.writer``)."""

    def __init__(self, out: _Writable, **fmtparams: Any) -> None:
        self._writer = csv.writer(out, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        """Write one row with every cell neutralised; returns what ``csv.writer.writerow`` returns."""
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        """Write each of ``rows`` with :meth:`writerow`."""
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, **fmtparams: Any) -> SafeWriter:
    """A CSV writer for exports: formulas in text cells are neutralised (see the module docstring)."""
    return SafeWriter(out, **fmtparams)
