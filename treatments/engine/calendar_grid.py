"""Lay a day's sessions out as table rows (one per time step) and columns (practitioners or rooms).

Pure: aware datetimes and plain keys in, rows of cells out. A session becomes one cell with a
rowspan for its treatment time and, below it, one for its clean-up time; the cells they cover
below are left out, as an HTML table expects. An empty cell outside its column's open hours is
closed.
"""

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

Interval = tuple[datetime, datetime]
# {"item": the session, "rowspan": rows[, "cleanup_until": datetime]}
# | {"item": None, "cleanup": the session, "rowspan": rows, "until": datetime}
# | {"item": None, "at": time, "closed": bool}, each with its "column"
Cell = dict[str, Any]
# {"time": datetime, "cells": [Cell, ...]}
Row = dict[str, Any]


@dataclass(frozen=True)
class Placed:
    column: Hashable
    start: datetime
    end: datetime  # the end of what it holds, clean-up included
    item: object
    work_end: datetime | None = None  # the end of the treatment itself; None: no clean-up to show


def _rows(length: timedelta, step: timedelta) -> int:
    return -(-length // step)


def _is_open(moment: datetime, step: timedelta, windows: Sequence[Interval]) -> bool:
    return any(start <= moment and moment + step <= end for start, end in windows)


def build_grid(
    start: datetime,
    end: datetime,
    step: timedelta,
    columns: Sequence[Hashable],
    sessions: Sequence[Placed],
    open_hours: Mapping[Hashable, Sequence[Interval]] | None = None,
) -> tuple[list[Row], list[Placed]]:
    """Rows from `start` to `end` by `step`; returns (rows, overflow).

    open_hours: each column's bookable (start, end) intervals; an empty cell not wholly inside
    one is closed (a column left out is closed all day). None: every empty cell is open.
    overflow: sessions that start outside the grid or overlap another in their column.
    """
    count = max(0, _rows(end - start, step))
    times = [start + step * n for n in range(count)]
    index = {column: n for n, column in enumerate(columns)}
    cells: list[list[Cell]] = [
        [
            {
                "item": None,
                "at": moment,
                "column": column,
                "closed": open_hours is not None and not _is_open(moment, step, open_hours.get(column, ())),
            }
            for column in columns
        ]
        for moment in times
    ]
    held: set[tuple[int, int]] = set()  # every cell a session takes
    covered: set[tuple[int, int]] = set()  # those under a rowspan, left out of the rows
    overflow: list[Placed] = []
    for session in sorted(sessions, key=lambda s: s.start):
        col = index.get(session.column)
        first = (session.start - start) // step
        held_until = min(session.end, end)
        span = max(1, _rows(held_until - session.start, step))
        rows = range(first, min(count, first + span))
        if col is None or first < 0 or first >= count or any((r, col) in held for r in rows):
            overflow.append(session)
            continue
        work_end = min(session.work_end or session.end, held_until)
        working = min(len(rows), max(1, _rows(work_end - session.start, step)))
        cell: Cell = {"item": session.item, "rowspan": working, "column": session.column}
        if working < len(rows):
            # The clean-up gets rows of its own, so the treatment is not read as running longer.
            cells[first + working][col] = {
                "item": None,
                "cleanup": session.item,
                "rowspan": len(rows) - working,
                "until": session.end,
                "column": session.column,
            }
        elif work_end < session.end:
            cell["cleanup_until"] = session.end
        cells[first][col] = cell
        held.update((r, col) for r in rows)
        covered.update((r, col) for r in rows if r not in (first, first + working))
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
