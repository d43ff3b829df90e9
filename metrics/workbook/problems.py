"""Why a workbook was refused: every problem with its sheet, row, column and cell."""

from __future__ import annotations

from dataclasses import dataclass

MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    """One reason a workbook was refused: where it is (sheet, row, column) and what is wrong."""

    sheet: str
    row: int | None
    column: str | None
    reason: str
    cell: str = ""  # the A1 reference, e.g. "D14", when the column was found

    def __str__(self) -> str:
        if not self.sheet:
            return self.reason
        place = self.sheet
        if self.cell:
            place = f"{self.sheet}!{self.cell}"
        elif self.row is not None:
            place = f"{self.sheet} row {self.row}"
        if self.column:
            place += f" ({self.column})"
        return f"{place}: {self.reason}"


class WorkbookError(ValueError):
    """A workbook refused whole; `problems` lists why (at most MAX_PROBLEMS, then a count).

    `total` is the true number of problems, however many were kept.
    """

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        total = len(problems) if total is None else total
        if total > len(problems):
            problems = [*problems, Problem("", None, None, f"... and {total - len(problems)} more")]
        self.problems = problems
        self.total = total
        super().__init__("\n".join(str(problem) for problem in problems))


def refusal(reason: str) -> WorkbookError:
    """A refusal of the whole file, before any row is read."""
    return WorkbookError([Problem("", None, None, reason)])


class Problems:
    """Collects problems, keeping the first MAX_PROBLEMS, counting all, noting the rows hit."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.total = 0
        self.rows: set[tuple[str, int | None]] = set()

    def add(self, problem: Problem) -> None:
        self.total += 1
        self.rows.add((problem.sheet, problem.row))
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(problem)

    def named(self, sheet: str, row: int) -> bool:
        """Whether some problem already names this row (or the whole sheet)."""
        return (sheet, row) in self.rows or (sheet, None) in self.rows

    def raise_if_any(self) -> None:
        if self.total:
            raise WorkbookError(self.kept, self.total)
