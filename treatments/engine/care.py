"""Care instructions: lines that may carry a `[key]` tag, and their union over a combination.

A line tagged `[washing] Leave the PRP on...` replaces any later line with the same tag, so a
combination's own line wins over its components' (docs/catalog-format.md, "Care lines").
"""

import re
from collections.abc import Iterable

_TAG = re.compile(r"^\s*\[([a-z0-9_]+)\]\s*")


def care_line_text(line: str) -> str:
    """The line as the patient reads it, without its tag."""
    return _TAG.sub("", line).strip()


def _care_key(line: str) -> str:
    tag = _TAG.match(line)
    return f"[{tag.group(1)}]" if tag else " ".join(care_line_text(line).lower().split())


def care_union(*groups: Iterable[str], keep_tags: bool = False) -> tuple[str, ...]:
    """The lines of every group in order, each tag or text once: the first one given wins."""
    seen: set[str] = set()
    texts: set[str] = set()
    lines: list[str] = []
    for group in groups:
        for line in group:
            key, text = _care_key(line), care_line_text(line)
            plain = " ".join(text.lower().split())
            if not text or key in seen or plain in texts:
                continue
            seen.add(key)
            texts.add(plain)
            lines.append(line.strip() if keep_tags else text)
    return tuple(lines)
