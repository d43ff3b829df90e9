"""The demo council, the Borough of Melbury Vale: its source, its values, its users, its loading.

The source lives in `data/demo/` as CSV a performance officer can read:

- `priorities.csv`: the Corporate Plan priorities (name, description), in plan order.
- `initiatives.csv`: the ME2E initiatives (name, description, priorities separated by `;`).
- `metrics.csv`: the metric templates, with exactly the Metrics sheet's column headers.
- `profiles.csv`: how each metric's two years of history look: the targets for 2015-16 and
  2016-17 (the lower and upper ends for a band), a typical value (for data-only measures) and
  denominator (for ratios), the year-end outlook (green, amber, red, none), the trend, the
  season and its swing in percent, an SPC signal, periods whose actual is missing, the approval
  state of the latest return, and the officer's commentary and corrective action at year end;
  `Noise` (percent) overrides the period-to-period spread a measure of its kind gets.
- `commentary.csv`: commentary for particular periods, and any adjustment to that actual.
- `notes.csv`: the officers' stock notes on a Red (by service) or an Amber, drawn at random.
- `users.csv`: one demo user per role, with their clearance and services.

`values_frame` turns the profiles into the Values sheet, deterministically: each metric draws
from its own seeded generator, so the same rows come back on every run and on every machine.
"""

from metrics.demo.load import load_demo, write_demo_workbook
from metrics.demo.source import (
    DEMO_SOURCE,
    DEMO_USERS,
    VALUE_COLUMNS,
    DemoError,
    commentary_frame,
    initiative_priorities,
    initiatives_frame,
    metrics_frame,
    priorities_frame,
    profiles_frame,
)
from metrics.demo.story import rough_rag
from metrics.demo.values import values_frame

__all__ = [
    "DEMO_SOURCE",
    "DEMO_USERS",
    "VALUE_COLUMNS",
    "DemoError",
    "commentary_frame",
    "initiative_priorities",
    "initiatives_frame",
    "load_demo",
    "metrics_frame",
    "priorities_frame",
    "profiles_frame",
    "rough_rag",
    "values_frame",
    "write_demo_workbook",
]
