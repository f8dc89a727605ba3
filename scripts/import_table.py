"""Write docs/import.md's table of Airflow's example DAGs (which import, which are refused and
why) between its markers, from a fresh survey (kit.dagimport.survey). Run after changing a
converter:  .venv/bin/python scripts/import_table.py"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

BEGIN = "<!-- import-table:begin (scripts/import_table.py writes this) -->"
END = "<!-- import-table:end -->"
EQ_BEGIN = "<!-- equivalences:begin (scripts/import_table.py writes this) -->"
EQ_END = "<!-- equivalences:end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "import.md"


def table() -> str:
    """The table, as the survey finds it now."""
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from kit.dagimport.survey import markdown, survey

    return markdown(survey(Path(sysconfig.get_paths()["purelib"])))


def equivalences() -> str:
    """The declared equivalences (kit.dagimport.compare.EQUIVALENCES) as a list."""
    from kit.dagimport.compare import EQUIVALENCES

    return "".join(f"- {same}: {why}.\n" for same, why in EQUIVALENCES)


def replace_between(text: str, body: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with everything between the markers replaced by ``body``."""
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + body + text[stop:]


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    text = replace_between(text, equivalences(), EQ_BEGIN, EQ_END)
    DOC.write_text(replace_between(text, table()), encoding="utf-8")
    print(f"wrote the table in {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
