"""Persian first: every string is translated, and fa pages show no Latin words or digits."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _source_msgids() -> set[str]:
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_source_string_has_a_persian_translation():
    with open(ROOT / "translations/fa/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}
    missing = sorted(m for m in _source_msgids() if not translated.get(m))
    assert not missing, (f"{len(missing)} strings have no Persian translation "
                         f"(run `make extract`, then translate): {missing[:20]}")


class _VisibleText(HTMLParser):
    """Text a reader sees, minus code, ids and left-to-right islands (emails, commands)."""

    SKIP = {"script", "style", "code", "bdi", "kbd", "pre", "option", "textarea"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in {"br", "img", "input", "meta", "link", "hr", "source"}:
            return
        attrs = dict(attrs)
        skip = (tag in self.SKIP or attrs.get("dir") == "ltr"
                or "lang" in attrs and attrs["lang"] != "fa")
        self.stack.append(skip or (self.stack[-1] if self.stack else False))

    def handle_endtag(self, tag):
        if tag in {"br", "img", "input", "meta", "link", "hr", "source"}:
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


ALLOWED_LATIN = {"SMTP", "SMS", "API", "TOTP", "CSV", "XLSX", "JSON", "HMAC", "Kavenegar",
                 "PNG", "JPEG", "Bearer", "Swagger", "OpenAPI", "HTTPS", "URL", "IP", "TLS",
                 "QR", "IMAP", "Sepidar", "Peyvand", "Moadian", "sha",
                 # acronyms and product names Persian business software writes in Latin
                 "REST", "RFM", "PDF", "SLA", "CSAT", "NPS", "FreeOTP", "Google", "Authenticator"}
EMAIL = re.compile(r"[\w.+-]+@[\w.-]+")


def latin_in(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    text = EMAIL.sub(" ", " ".join(parser.parts))
    words = re.findall(r"[A-Za-z][A-Za-z_-]{2,}", text)
    digits = re.findall(r"[0-9]+", text)
    return [w for w in words if w not in ALLOWED_LATIN] + digits


@pytest.fixture
def admin_client(client, make_user, login):
    make_user(name="مدیر سامانه",
              seats=["sales", "service", "marketing", "loyalty", "accounting_link"])
    return login()


def test_persian_pages_show_no_latin_words_or_digits(app, admin_client):
    pages = [
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(
            ("/api/", "/static", "/healthz", "/auth/logout", "/messaging/", "/jobs/"))
        and not rule.rule.endswith((".json", ".csv", ".xlsx"))
    ]
    offences = {}
    for path in sorted(pages):
        response = admin_client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        found = latin_in(response.get_data(as_text=True))
        if found:
            offences[path] = found[:10]
    assert not offences, "\n".join(f"{p}: {w}" for p, w in offences.items())
