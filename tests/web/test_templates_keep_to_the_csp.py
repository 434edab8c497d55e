"""The pages' Content-Security-Policy allows scripts from this server only (``script-src 'self'``): an inline
event handler or an inline script in a template would silently stop working in the browser. This scan fails
first, with the file and the line."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "onewindow" / "templates"
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


def test_no_template_has_inline_handlers_or_inline_scripts() -> None:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if INLINE_HANDLER.search(line) or INLINE_SCRIPT.search(line):
                found.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert len(list(TEMPLATES.rglob("*.html"))) > 50  # the scan looked at the templates
    assert found == []
