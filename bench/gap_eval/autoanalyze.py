"""The ANALYZE that PostgreSQL's autovacuum would run, run by the bench between its checks.

The PostgreSQL this bench runs on has autovacuum off (`SHOW autovacuum`); a production server
has it on, as PostgreSQL ships. Without it the statistics of a table the run fills stay those of
the template. Before the data held the year's alerts (`data._raise_standing`), `alerts` was
empty there and got ~1,500 rows from the first checks, and the prepared statement's generic
plan, made while the table looked empty, read all of `alerts` twice per check (sequential
scans, 0.1-0.3 ms of a 0.4-0.9 ms statement) where the live server would use
`uq_alerts_cohort_id_open_key`. So after each cohort's first (untimed) check the bench
analyzes every table that autovacuum's own rule would: more rows changed since its last
analyze than `autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor` x its rows
(with the year's alerts in the data, a run's own writes stay under it). Only autovacuum's
one-minute nap is left out (a run's PostgreSQL part lasts about that)."""

from __future__ import annotations

import asyncpg

_DUE = """
SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::int
      + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
"""


class AutoAnalyze:
    """Runs autovacuum's analyses on a connection of its own (not the product's pool)."""

    def __init__(self, url: str) -> None:
        self._dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._connection: asyncpg.Connection | None = None
        self.analyzed: list[str] = []  # tables, in the order analyzed

    async def run(self) -> None:
        if self._connection is None:
            self._connection = await asyncpg.connect(self._dsn)
        for (table,) in await self._connection.fetch(_DUE):
            await self._connection.execute(f'ANALYZE "{table}"')
            self.analyzed.append(table)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
