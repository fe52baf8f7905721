"""Many files refused or failed for a few reasons, said at the terminal: one line per reason
with its count, the first few names under it (``evidencia batch``'s errors, ``evidencia
retry``'s refusals)."""

from __future__ import annotations

import sys

__all__ = ["EXAMPLES", "print_by_reason"]

#: names shown under each reason; the rest are counted ("… y N más")
EXAMPLES = 5


def print_by_reason(grouped: dict[str, list[str]], heading: str, out=None,
                    examples: int = EXAMPLES) -> None:
    """``heading`` (formatted with ``total``), then each reason, most frequent first."""
    out = out or sys.stdout
    total = sum(len(v) for v in grouped.values())
    out.write(heading.format(total=total) + "\n")
    for reason, names in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        out.write(f"  {len(names):>5}  {reason}\n")
        for name in names[:examples]:
            out.write(f"         - {name}\n")
        if len(names) > examples:
            out.write(f"         … y {len(names) - examples} más\n")
