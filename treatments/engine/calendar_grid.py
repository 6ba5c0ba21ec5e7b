"""Lay a day's sessions out as table rows (one per time step) and columns (practitioners or rooms).

Pure: aware datetimes and plain keys in, rows of cells out. A session becomes one cell with a
rowspan; the cells it covers below are left out, as an HTML table expects.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

# {"item": the session, "rowspan": rows} or {"item": None, "at": time}, each with its "column"
Cell = dict[str, Any]
# {"time": datetime, "cells": [Cell, ...]}
Row = dict[str, Any]


@dataclass(frozen=True)
class Placed:
    column: Hashable
    start: datetime
    end: datetime
    item: object


def build_grid(
    start: datetime, end: datetime, step: timedelta, columns: Sequence[Hashable], sessions: Sequence[Placed]
) -> tuple[list[Row], list[Placed]]:
    """Rows from `start` to `end` by `step`; returns (rows, overflow).

    rows: [{"time": datetime, "cells": [{"item": ..., "rowspan": n} | {"item": None, "at": datetime}]}]
    overflow: sessions that start outside the grid or overlap another in their column.
    """
    count = max(0, -(-(end - start) // step))
    times = [start + step * n for n in range(count)]
    index = {column: n for n, column in enumerate(columns)}
    cells: list[list[Cell]] = [
        [{"item": None, "at": moment, "column": column} for column in columns] for moment in times
    ]
    covered: set[tuple[int, int]] = set()
    overflow: list[Placed] = []
    for session in sorted(sessions, key=lambda s: s.start):
        col = index.get(session.column)
        first = (session.start - start) // step
        span = max(1, -(-(min(session.end, end) - session.start) // step))
        rows = range(first, min(count, first + span))
        if col is None or first < 0 or first >= count or any((r, col) in covered for r in rows):
            overflow.append(session)
            continue
        cells[first][col] = {"item": session.item, "rowspan": len(rows), "column": session.column}
        covered.update((r, col) for r in rows if r != first)
    result: list[Row] = []
    for r, moment in enumerate(times):
        result.append(
            {"time": moment, "cells": [cell for c, cell in enumerate(cells[r]) if (r, c) not in covered]}
        )
    return result, overflow


def week_days(day: date) -> list[date]:
    """The Monday-to-Sunday week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]
