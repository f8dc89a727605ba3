"""Connection arguments for the embedded stack's SQLite metadata database, imported by Airflow
through ``[database] sql_alchemy_connect_args`` (and its ``_async`` twin).

SQLite lets one writer in at a time; the others wait ``timeout`` seconds for the lock, then
fail with "database is locked". Its default, 5 s, is too short for the seed's limits on a small
machine: with 32 tasks reporting to the api-server at once, a trigger answered HTTP 500
("Database error"). A minute of patience turns that contention into a delay instead.
"""

SYNC = {"timeout": 60}
ASYNC = {"timeout": 60}  # aiosqlite hands its keyword arguments to sqlite3.connect
