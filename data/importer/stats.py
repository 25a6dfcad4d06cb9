"""Fresh planner statistics for tables that grow inside the import's transaction.

PostgreSQL plans every query (foreign-key checks included) from table statistics, and
autovacuum cannot see rows this transaction has not committed. Planned from the empty
tables of a first import, the checks scan instead of using the indexes and the import
slows quadratically. ANALYZE does count this transaction's own rows, so the tables are
analysed each time the rows written to them have doubled: a handful of times per file.
SQLite needs none of this.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

FIRST_ANALYZE_ROWS = 1_000


class GrowingTables:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.enabled = conn.dialect.name == "postgresql"
        self.written: dict[str, int] = {}
        self.due: dict[str, int] = {}

    def wrote(self, table: str, rows: int) -> None:
        if not self.enabled or rows <= 0:
            return
        self.written[table] = self.written.get(table, 0) + rows
        if self.written[table] >= self.due.get(table, FIRST_ANALYZE_ROWS):
            self.conn.exec_driver_sql(f"ANALYZE {table}")
            self.due[table] = self.written[table] * 2
