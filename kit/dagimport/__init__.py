"""``kit import``: an Airflow DAG -> a pipeline spec, proven by re-exporting it and comparing
Airflow's serialized forms.

- ``converters``: one converter per operator class (``register_converter``)
- ``convert``: DAG object -> spec, or every refusal (task, operator, file:line)
- ``compare``: normalized serialized forms and their differences (pure)
- ``importer``: load a file, convert, prove the round trip, keep the old spec's layout
"""

# The converters shipped with the kit register themselves on import, as a third party's would.
from kit.dagimport import converters, converters_approval  # noqa: E402, F401  isort: skip
