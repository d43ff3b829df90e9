"""Committee papers built from a frozen snapshot: the Excel pack, the Word cover report and the
transparency file. Each reads only `metrics.snapshots.show(...)`, never the live data."""
