"""An uploaded file checked before openpyxl parses it: size, zip, unpacked size, shared strings.

A workbook is untrusted. Everything here reads the zip's directory or streams one small part
through an XML parser that refuses entities (defusedxml); nothing here runs a regular
expression over the file, so no crafted byte pattern can make a check slow.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path
from typing import IO, Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

import openpyxl
from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from defusedxml.sax import parseString as parse_xml_string

from metrics.config import UploadLimits
from metrics.workbook.problems import WorkbookError, refusal

CONTENT_TYPES = "[Content_Types].xml"
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
READ_CHUNK = 64 * 1024


def require_defusedxml() -> None:
    """openpyxl refuses XML entity bombs only with defusedxml: without it, read nothing."""
    if not openpyxl.DEFUSEDXML:
        raise RuntimeError(
            "defusedxml is not installed (or OPENPYXL_DEFUSEDXML is not True): "
            "refusing to read an untrusted workbook"
        )


def why(error: BaseException) -> str:
    """The root cause, briefly: openpyxl wraps what defusedxml or zipfile found."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {str(error)[:200]}" if str(error) else type(error).__name__


def check_file(path: Path, limits: UploadLimits) -> None:
    """Size on disk, zip structure, unpacked size and shared strings, before any parsing."""
    if not path.is_file():
        raise refusal(f"{path.name} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise refusal(f"{path.name} is empty")
    if size > limits.max_file_bytes:
        raise refusal(f"{path.name} is {size:,} bytes; the limit is {limits.max_file_bytes:,}")
    if not zipfile.is_zipfile(path):
        raise refusal(f"{path.name} is not an Excel workbook (.xlsx); save it as one and retry")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(path.name, archive, limits)
    except WorkbookError:
        raise
    except Exception as error:  # a damaged zip or part can fail in many ways; each is a refusal
        raise refusal(f"{path.name} cannot be read as an Excel workbook: {why(error)}") from None


def _check_archive(name: str, archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    members = archive.infolist()  # sizes from the directory; reading never yields more
    counted = Counter(member.filename for member in members)
    twice = sorted(part for part, count in counted.items() if count > 1)
    if twice:  # readers disagree on which copy counts: refuse rather than pick one
        raise refusal(f"{name} holds the part {twice[0]} twice; save the workbook afresh")
    if CONTENT_TYPES not in counted:  # every OOXML file has it
        raise refusal(f"{name} is not an Excel workbook (.xlsx); save it as one and retry")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_uncompressed_bytes:
        raise refusal(
            f"{name} unpacks to {unpacked:,} bytes; the limit is {limits.max_uncompressed_bytes:,}"
        )
    for member in members:
        if _parsed_by_lxml(member.filename):
            _check_prolog(name, archive, member.filename)
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            rows = _declared_rows(archive, member.filename)
            if rows > limits.max_rows:
                raise refusal(
                    f"{name}: a sheet declares {rows:,} rows; the limit is {limits.max_rows:,}"
                )
    for part in _shared_string_parts(archive):
        count = _count_strings(archive, part, limits.max_shared_strings)
        if count > limits.max_shared_strings:
            raise refusal(
                f"{name} holds more than {limits.max_shared_strings:,} shared strings "
                f"(the limit); split the workbook and import it in parts"
            )


class _Overrides(ContentHandler):
    """The part names [Content_Types].xml declares as shared strings."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def startElement(self, name: str, attrs: Any) -> None:
        if (
            name.rsplit(":", 1)[-1] == "Override"
            and attrs.get("ContentType") == SHARED_STRINGS_TYPE
        ):
            self.parts.append(attrs.get("PartName", "").lstrip("/"))


def _shared_string_parts(archive: zipfile.ZipFile) -> list[str]:
    handler = _Overrides()
    parse_xml_string(archive.read(CONTENT_TYPES), handler)
    present = set(archive.namelist())
    return [part for part in handler.parts if part in present]


def _parsed_by_lxml(part: str) -> bool:
    """Parts openpyxl parses with lxml when it is installed, where defusedxml does not reach:
    the workbook, styles, theme, relationships and properties (not sheets or shared strings)."""
    if part.startswith("xl/worksheets/") or part == "xl/sharedStrings.xml":
        return False  # streamed through defusedxml, here and by the sheet reader
    return part.endswith((".xml", ".rels")) and part.startswith(("xl/", "_rels/", "docProps/"))


class _Prolog(ContentHandler):
    """Stops at the root element: a DOCTYPE, and any entity it declares, comes before it."""

    def startElement(self, name: str, attrs: Any) -> None:
        raise _Found


def _check_prolog(name: str, archive: zipfile.ZipFile, part: str) -> None:
    """An entity declared in a part lxml would parse is refused, used or not."""
    try:
        _stream(archive, part, _Prolog(), _Found)
    except DefusedXmlException as error:
        raise refusal(f"{name}: the part {part} declares XML entities ({why(error)})") from None
    except SAXException:
        pass  # not well-formed: openpyxl's reading of it says so, if it reads it


class _TooMany(Exception):
    """Stops the count as soon as the cap is passed."""


class _Strings(ContentHandler):
    """Counts <si> elements (with or without a namespace prefix), stopping past the cap."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap, self.count = cap, 0

    def startElement(self, name: str, attrs: Any) -> None:
        if name.rsplit(":", 1)[-1] == "si":
            self.count += 1
            if self.count > self.cap:
                raise _TooMany


class _Found(Exception):
    """Stops a parse as soon as the element sought (or the sheet's data) begins."""


class _Dimension(ContentHandler):
    """The last row of a sheet's <dimension ref="A1:K120"/>, read before its data begins."""

    def __init__(self) -> None:
        super().__init__()
        self.rows = 0

    def startElement(self, name: str, attrs: Any) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "dimension":
            self.rows = max((_row_of(ref) for ref in attrs.get("ref", "").split(":")), default=0)
            raise _Found
        if local == "sheetData":
            raise _Found


def _row_of(reference: str) -> int:
    """The row number at the end of a cell reference like K120 (0 when it has none)."""
    digits = reference[len(reference.rstrip("0123456789")) :]
    return int(digits[:9]) if digits else 0


def _declared_rows(archive: zipfile.ZipFile, part: str) -> int:
    """The rows a sheet says it has: refused early when huge (rows are counted again later)."""
    handler = _Dimension()
    _stream(archive, part, handler, _Found)
    return handler.rows


def _stream(
    archive: zipfile.ZipFile, part: str, handler: ContentHandler, stop: type[Exception]
) -> None:
    """Feed one part to a SAX handler in chunks until it ends or the handler raises `stop`."""
    with archive.open(part) as stream:
        _feed(stream, handler, stop)


def _feed(stream: IO[bytes], handler: ContentHandler, stop: type[Exception]) -> None:
    parser = make_parser()
    parser.setContentHandler(handler)
    try:
        while chunk := stream.read(READ_CHUNK):
            parser.feed(chunk)
        parser.close()
    except stop:
        pass


class _Rows(ContentHandler):
    """Counts <row> elements (with or without a namespace prefix), stopping past the cap."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap, self.count = cap, 0

    def startElement(self, name: str, attrs: Any) -> None:
        if name.rsplit(":", 1)[-1] == "row":
            self.count += 1
            if self.count > self.cap:
                raise _TooMany


def rows_over(stream: IO[bytes], cap: int) -> bool:
    """Whether a sheet part holds more than `cap` rows, counted by a streamed SAX pass.

    A declared <dimension> is only a hint, and openpyxl's parser costs about ten times this
    count per row, so a long sheet is refused after a second or two, not after 100,000 rows
    have been parsed and checked.
    """
    handler = _Rows(cap)
    _feed(stream, handler, _TooMany)
    return handler.count > cap


def _count_strings(archive: zipfile.ZipFile, part: str, cap: int) -> int:
    """How many shared strings the part holds, up to cap + 1, streamed (openpyxl keeps all)."""
    handler = _Strings(cap)
    _stream(archive, part, handler, _TooMany)
    return handler.count
