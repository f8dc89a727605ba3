"""The chain as text for a terminal (pure)."""

from __future__ import annotations

from kit.lineage.chain import Chain

WIDTH = 14  # the longest kind, "model version", and a space


def render(chain: Chain) -> str:
    """One block per link: kind and label, its URL, its facts; a problem on a line of its own.
    The last line says whether the chain is complete."""
    lines = [f"lineage of {chain.subject}"]
    for link in chain.links:
        lines.append(f"{link.kind:<{WIDTH}} {link.label}")
        if link.problem:
            lines.append(f"{'':<{WIDTH}} {link.problem}")
        if link.url:
            lines.append(f"{'':<{WIDTH}} {link.url}")
        for key, value in link.facts.items():
            if value:
                lines.append(f"{'':<{WIDTH}} {key}: {value}")
    broken = [link.kind for link in chain.links if link.problem]
    if broken:
        lines.append(f"INCOMPLETE: {', '.join(broken)} unknown or not matching (see above)")
    else:
        lines.append("complete: every link found and the notebook matches its commit")
    return "\n".join(lines)
