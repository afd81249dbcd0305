"""The residents' events as arrays, grouped by resident and ordered in time (SPEC 2.2).

:class:`Timeline` holds one chunk's validated events as numpy arrays sorted by (resident, ``event_date``,
``event_id``): the order the history is read in, newest last, two events of one day taken in ``event_id``
order. Every per-resident question the derivation asks is one of a few reductions over a masked subset of it
(:meth:`Timeline.newest`, :meth:`Timeline.earliest`, :meth:`Timeline.count`, :meth:`Timeline.at_newest`),
each a handful of whole-array operations, so one resident and a million cost the same number of calls.

Dates are whole days since 1970-01-01 as ``int64``, a missing date :data:`NO_DAY` (numpy's NaT, so
``days.view("datetime64[D]")`` is the date column); a missing flag or number is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.records.schema import EVENT_COLUMNS_BY_NAME, EVENT_KINDS

NO_DAY = np.iinfo(np.int64).min
"""A missing date as whole days (the bit pattern of ``numpy.datetime64('NaT')``): older than any day."""

KINDS = EVENT_KINDS
DISEASES = EVENT_COLUMNS_BY_NAME["disease"].choices
MODES = EVENT_COLUMNS_BY_NAME["mode"].choices
REFERRAL_STATUSES = EVENT_COLUMNS_BY_NAME["referral_status"].choices
"""The coded event columns' values, from the one schema (SPEC 2.2): each is held as its position in these."""
_CODED = {"kind": KINDS, "disease": DISEASES, "mode": MODES, "referral_status": REFERRAL_STATUSES}
NUMBERS = (
    "sbp_mmhg",
    "dbp_mmhg",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "hba1c_pct",
    "random_glucose_mmol_l",
    "weight_kg",
    "waist_cm",
)
FLAGS = ("on_treatment", "emergency_signs", "adverse_reaction", "new_complication", "symptoms", "pregnant")
"""Event columns read as float64: numbers, and flags as 1.0 / 0.0 with NaN where the event does not say."""
READ_COLUMNS = ("resident_id", "event_id", "event_date", *_CODED, *NUMBERS, *FLAGS, "next_followup_date")
"""The event columns the derivation reads."""


def day_numbers(dates: np.ndarray) -> np.ndarray:
    """Dates (``datetime64``, NaT for none) as whole days, :data:`NO_DAY` for none."""
    return np.asarray(dates, dtype="datetime64[D]").view(np.int64)


def _codes(column: pa.ChunkedArray | pa.Array, values: tuple[str, ...]) -> np.ndarray:
    """Each value's index in ``values`` as float64; NaN where NULL."""
    if column.null_count == len(column):
        return np.full(len(column), np.nan)
    found = pc.index_in(column, value_set=pa.array(values, pa.string()))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass
class Timeline:
    """Events sorted by (resident, day, event_id), grouped by resident: ``group`` is each event's resident
    (0 .. n-1, the residents with events in row order), ``starts`` where each resident's events begin and
    ``positions`` each resident's row among the rows given."""

    n: int
    group: np.ndarray
    starts: np.ndarray
    positions: np.ndarray
    day: np.ndarray
    coded: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    next_followup_day: np.ndarray

    @classmethod
    def of(cls, resident_ids: pa.Array, events: pa.Table) -> Timeline:
        """The events of the given residents (in their order); events of anyone else are left out."""
        found = pc.index_in(events.column("resident_id"), value_set=resident_ids)
        if found.null_count:
            events = events.filter(found.is_valid())
            found = found.drop_null()
        keys = pa.table({"p": found, "d": events.column("event_date"), "i": events.column("event_id")})
        sorted_at = np.asarray(
            pc.sort_indices(keys, sort_keys=[("p", "ascending"), ("d", "ascending"), ("i", "ascending")])
        )
        # Events that came in order (a file sorted by resident and date) are read as they are, without a copy.
        order: np.ndarray | slice = slice(None) if np.array_equal(sorted_at, np.arange(len(sorted_at))) else sorted_at
        position = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)[order]
        start = np.empty(len(position), dtype=bool)
        start[:1] = True
        np.not_equal(position[1:], position[:-1], out=start[1:])
        starts = np.flatnonzero(start)
        return cls(
            n=len(starts),
            group=np.cumsum(start) - 1,
            starts=starts,
            positions=position[starts],
            day=_days(events.column("event_date"))[order],
            coded={name: _codes(events.column(name), values)[order] for name, values in _CODED.items()},
            values={name: _floats(events.column(name))[order] for name in (*NUMBERS, *FLAGS)},
            next_followup_day=_days(events.column("next_followup_date"))[order],
        )

    def is_kind(self, kind: str) -> np.ndarray:
        return self.coded["kind"] == KINDS.index(kind)

    def of_disease(self, disease: str) -> np.ndarray:
        return self.coded["disease"] == DISEASES.index(disease)

    def has(self, name: str) -> np.ndarray:
        """The event records this number or flag."""
        return ~np.isnan(self.values[name])

    def is_true(self, name: str) -> np.ndarray:
        """The event records this flag as true (NULL counts as false)."""
        return self.values[name] == 1.0

    # Each reduction takes one mask (events) or several stacked (masks x events): one call answers them all.

    def last(self, mask: np.ndarray) -> np.ndarray:
        """Per resident, the index of the newest event in ``mask`` (ties: the greater event_id); -1 where none."""
        return np.maximum.reduceat(np.where(mask, np.arange(len(self.day)), -1), self.starts, axis=-1)

    def newest(self, mask: np.ndarray) -> np.ndarray:
        """Per resident, the day of the newest event in ``mask`` (:data:`NO_DAY` where none)."""
        return np.maximum.reduceat(np.where(mask, self.day, NO_DAY), self.starts, axis=-1)

    def earliest(self, mask: np.ndarray) -> np.ndarray:
        """Per resident, the day of the oldest event in ``mask`` (:data:`NO_DAY` where none)."""
        oldest = np.minimum.reduceat(np.where(mask, self.day, _NO_DAY_YET), self.starts, axis=-1)
        return np.where(oldest == _NO_DAY_YET, NO_DAY, oldest)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per resident, how many events are in ``mask`` (float64)."""
        return np.add.reduceat(mask, self.starts, axis=-1, dtype=np.float64)

    def at_newest(self, mask: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per resident, ``values`` at the newest event in ``mask`` (NaN where none), and that event's day."""
        at = self.last(mask)
        none = at < 0
        return np.where(none, np.nan, values[at]), np.where(none, NO_DAY, self.day[at])


_NO_DAY_YET = np.iinfo(np.int64).max


def last_in_group(group: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of the positions ``at`` (ascending) into ``group`` (sorted), the last of each group: (group, position)."""
    who = group[at]
    last = np.empty(len(at), dtype=bool)
    last[-1:] = True
    np.not_equal(who[1:], who[:-1], out=last[:-1])
    return who[last], at[last]


def _days(column: pa.ChunkedArray) -> np.ndarray:
    return day_numbers(column.to_numpy(zero_copy_only=False)) if len(column) else np.zeros(0, dtype=np.int64)


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    """Numbers, and flags as 1.0 / 0.0, as float64 with NaN where NULL."""
    if column.null_count == len(column):
        return np.full(len(column), np.nan)
    if not pa.types.is_floating(column.type):
        if column.null_count == 0:  # a flag every event records: no cast needed
            return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
        column = column.cast(pa.float64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
