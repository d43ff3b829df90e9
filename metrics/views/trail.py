"""The way a reader came: the breadcrumb a link carries (`?via=priority:P1,team:...`), each step
checked against what the reader may open (docs/line-of-sight.md). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Crumb:
    """One step of a breadcrumb: a page kind, the code it opens, and its label."""

    kind: str
    code: str
    label: str


TRAIL_KINDS = ("priority", "initiative", "service", "team", "metric")
MAX_TRAIL = 8  # deeper than any line of sight; a longer link is cut, never followed further


def read_trail(text: str | None, names: Mapping[str, Mapping[str, str]]) -> list[Crumb]:
    """The way taken, from a link's `via=priority:P1,team:housing/options`, each step checked
    against what the reader may open (`names`: kind → code → name): the trail ends at the first
    unknown kind, code the reader may not see, or repeat, so a forged link shows nothing new."""
    crumbs: list[Crumb] = []
    for part in (text or "").split(",")[:MAX_TRAIL]:
        kind, _, code = part.partition(":")
        name = names.get(kind, {}).get(code) if kind in TRAIL_KINDS else None
        if name is None or any((c.kind, c.code) == (kind, code) for c in crumbs):
            break
        crumbs.append(Crumb(kind, code, name))
    return crumbs


def trail_text(crumbs: Sequence[Crumb]) -> str:
    """A trail as a link carries it: 'priority:P1,team:housing/options'."""
    return ",".join(f"{c.kind}:{c.code}" for c in crumbs)


def walked(trail: Sequence[Crumb], here: Crumb | None, kind: str, code: str) -> list[Crumb]:
    """The trail to carry to the page of `kind` `code`: the way so far and where the reader is,
    cut back to just before that page when the reader returns to a step already on it."""
    steps = [*trail, *([here] if here is not None else [])]
    for position, step in enumerate(steps):
        if (step.kind, step.code) == (kind, code):
            return steps[:position]
    return steps
