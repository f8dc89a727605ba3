"""Connection arguments for the embedded stack's SQLite database, imported by Airflow through
``[database] sql_alchemy_connect_args`` in the components that may wait.

SQLite lets one writer in at a time; the others wait ``timeout`` seconds for its lock, then fail
with "database is locked". The scheduler, the dag-processor and the triggerer treat that failure
as fatal and exit (seen: the scheduler, under the seed's load of 32 tasks at once, after SQLite's
default 5 s). They do nothing else while they wait, so they get a minute of patience. The
api-server keeps the 5 s: it makes some database calls on its event loop, where a long wait
freezes every request (seen: 60 s with a 60 s wait), and its clients ask again.
"""

PATIENT = {"timeout": 60}
