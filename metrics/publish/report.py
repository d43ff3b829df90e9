"""The committee cover report (Word), drafted from a snapshot in the council's report format.

Title block (committee, meeting date, report of, title), then numbered sections with numbered
paragraphs: 1.0 Purpose of report, 2.0 Recommendations, 3.0 Key issues (drafted from the data
by `metrics.publish.issues`), then the standard implications sections left as marked
placeholders for the officer. The protective marking heads and foots every page. The report
never holds an OFFICIAL-SENSITIVE measure.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from sqlalchemy import Engine

from metrics import snapshots
from metrics.config import settings
from metrics.publish.cells import safe_text
from metrics.publish.issues import Issue, key_issues
from metrics.snapshots import Frozen
from metrics.vocab import Marking

IMPLICATIONS = (
    "Policy and corporate implications",
    "Financial and other resource implications",
    "Legal implications/powers",
    "Community safety",
    "Equalities",
    "Risks",
    "Climate change",
    "Consultation",
    "Wards affected",
)
PLACEHOLDER = "[OFFICER TO COMPLETE: {what}]"


def write_report(
    engine: Engine, snapshot_id: int, path: Path, *, report_of: str | None = None
) -> Path:
    """Write the cover report of a stored snapshot (OFFICIAL-SENSITIVE measures left out)."""
    clearance = Marking.OFFICIAL.value
    frozen = snapshots.show(engine, snapshot_id, clearance=clearance)
    before = snapshots.previous(engine, snapshot_id, clearance=clearance)
    config = settings()
    document = build_report(
        frozen,
        before,
        council=config.council_name,
        report_of=report_of or config.committee.report_of,
        contact=config.committee.contact_officer,
    )
    document.save(str(path))
    return Path(path)


def build_report(
    frozen: Frozen, before: Frozen | None, *, council: str, report_of: str, contact: str
) -> DocumentType:
    """The report as a python-docx Document, from the snapshots alone."""
    document = Document()
    _page(document, frozen.marking)
    header = frozen.snapshot
    meeting = header.meeting_date.strftime("%-d %B %Y") if header.meeting_date else "DATE TBC"
    for text in (header.committee, meeting, f"Report of {report_of}", header.title):
        _bold(document.add_paragraph(), text.upper())
    _section(document, 1, "Purpose of report")
    _numbered(
        document,
        "1.1",
        f"To allow Members to consider and note the performance of {council} for "
        f"{header.period}, as set out in the committee pack.",
    )
    _section(document, 2, "Recommendations")
    _numbered(document, "2.1", "The Committee consider and note the contents of the report.")
    _section(document, 3, "Key issues")
    for number, issue in enumerate(key_issues(frozen, before), start=1):
        _issue(document, f"3.{number}", issue)
    for number, title in enumerate(IMPLICATIONS, start=4):
        _section(document, number, title)
        _placeholder(document, f"{number}.1", title.lower())
    _contact(document, frozen, contact)
    return document


def _page(document: DocumentType, marking: str) -> None:
    """A4 portrait, the marking centred in bold at the top and bottom, page numbers below."""
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(2.2))
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Arial", Pt(11)
    _bold(section.header.paragraphs[0], marking).alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    _bold(footer, marking)
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    numbers = section.footer.add_paragraph("Page ")
    numbers.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(numbers, "PAGE")
    numbers.add_run(" of ")
    _field(numbers, "NUMPAGES")


def _field(paragraph, instruction: str) -> None:  # type: ignore[no-untyped-def]
    """A Word field (PAGE, NUMPAGES) that Word and LibreOffice fill in when printing."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _bold(paragraph, text: str):  # type: ignore[no-untyped-def]
    paragraph.add_run(text).bold = True
    return paragraph


def _section(document: DocumentType, number: int, title: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_before = Pt(12)
    paragraph.paragraph_format.keep_with_next = True
    _bold(paragraph, f"{number}.0\t{title.upper()}")


def _numbered(document: DocumentType, number: str, text: str) -> None:
    paragraph = document.add_paragraph(f"{number}\t{text}")
    paragraph.paragraph_format.left_indent = Cm(1.25)
    paragraph.paragraph_format.first_line_indent = Cm(-1.25)


def _issue(document: DocumentType, number: str, issue: Issue) -> None:
    """A key issue: `3.n` and its heading in bold, its paragraphs `3.n.1` ..., its table."""
    heading = document.add_paragraph()
    _bold(heading, f"{number}\t{issue.heading}")
    heading.paragraph_format.keep_with_next = True
    for index, text in enumerate(issue.paragraphs, start=1):
        _numbered(document, f"{number}.{index}", text)
    if issue.table:
        _table(document, issue.table)


def _table(document: DocumentType, rows: list[list[str]]) -> None:
    """A bordered table; every cell's text made inert, as in every file the app writes."""
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for cells, values in zip(table.rows, rows, strict=True):
        for target, value in zip(cells.cells, values, strict=True):
            # Straight into w:t: python-docx's `text` would turn a CR into a line break, and
            # the text must read back exactly as written.
            target.paragraphs[0].add_run()._r.add_t(safe_text(value))
    for target in table.rows[0].cells:
        for run in target.paragraphs[0].runs:
            run.bold = True


def _placeholder(document: DocumentType, number: str, what: str) -> None:
    paragraph = document.add_paragraph(f"{number}\t")
    paragraph.paragraph_format.left_indent = Cm(1.25)
    paragraph.paragraph_format.first_line_indent = Cm(-1.25)
    run = paragraph.add_run(PLACEHOLDER.format(what=what))
    run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _contact(document: DocumentType, frozen: Frozen, contact: str) -> None:
    header = frozen.snapshot
    rows = [
        ["Contact Officer", contact or PLACEHOLDER.format(what="contact officer")],
        ["Date", PLACEHOLDER.format(what="date")],
        ["Appendices", f"Committee pack, snapshot {header.id}"],
        ["Background Papers", "None"],
        ["Snapshot SHA-256", header.sha256],
    ]
    document.add_paragraph()
    _table(document, rows)
