"""The CSP allows no inline style or script: no template may carry them."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INLINE_STYLE = re.compile(r"""\sstyle\s*=\s*["']""", re.I)
INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>\s*\S",
                           re.I)
# Mail and PDF layouts are not served to browsers: mail clients need inline styles.
NOT_SERVED = ("email", "pdf")


def _templates():
    for folder in ("core", "modules"):
        for path in (ROOT / folder).rglob("templates/**/*.html"):
            if not any(word in path.name for word in NOT_SERVED):
                yield path


def test_templates_have_no_inline_style_or_script():
    offenders = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_STYLE, INLINE_HANDLER, INLINE_SCRIPT):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0).strip()}")
    assert list(_templates()), "no templates found"
    assert offenders == [], "\n".join(offenders)
