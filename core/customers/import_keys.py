"""Search keys for imported customers: ``keys.search_key_for``'s string, made quickly.

``search_key_for`` normalises all of a customer's names, codes and contacts joined by spaces
(``core.i18n.normalize``). Here each part is normalised on its own (names repeat, so through a
cache; ASCII parts need only lower case and single spaces) and the results are joined. That is
the same string unless a separable affix meets a part boundary: a part whose last word is «می»
or «نمی» followed by another part, or a part whose first word is «ها», «تر»... after another
(``normalize`` would join them across the space). Joining only merges words, so looking at a
part's first and last words before its affixes join is enough; then the whole is normalised.
"""

import re
import unicodedata
from functools import lru_cache

from core.i18n import _CHAR_MAP, _SUFFIX_GAP, normalize, to_latin_digits

PREFIXES = frozenset({"می", "نمی"})
SUFFIXES = frozenset(re.search(r"\(([^()]+)\)\(\?!", _SUFFIX_GAP.pattern).group(1).split("|"))
KEY_FIELDS = ("display_name", "first_name", "last_name", "legal_name", "national_code",
              "national_id", "economic_code")
NOTHING = ("", "", "")


def search_key(state: dict, contacts: list, canonical: bool = False) -> str:
    """The key of a customer with ``state``'s fields and ``contacts`` in the order the ORM
    loads them. ``canonical``: mobiles and phones are as the import rules wrote them
    (+989..., digits and "+"), so their own key."""
    parts = [p for p in (state[n] for n in KEY_FIELDS) if p]
    pieces = [_of(p) for p in parts]
    for contact in contacts:
        value = contact.value
        values = [value, "0" + value[3:]] if (contact.kind == "mobile"
                                              and value.startswith("+98")) else [value]
        parts += values
        if canonical and contact.kind != "email":
            pieces += [(v, "", "") for v in values]
        else:
            pieces += [_of(v) for v in values]
    pieces = [p for p in pieces if p[0]]
    for before, after in zip(pieces, pieces[1:], strict=False):
        if before[2] in PREFIXES or after[1] in SUFFIXES:
            return normalize(" ".join(parts))
    return " ".join(p[0] for p in pieces)


def _of(part: str) -> tuple[str, str, str]:
    if part.isascii():  # no Persian letters: lower case and single spaces is all normalize does
        return " ".join(part.lower().split()), "", ""
    return _piece(part)


@lru_cache(maxsize=65_536)
def _piece(text: str) -> tuple[str, str, str]:
    """``normalize(text)``, and its first and last words before any affix joined them."""
    words = to_latin_digits(
        unicodedata.normalize("NFKC", text).casefold().translate(_CHAR_MAP)).split()
    return (normalize(text), words[0], words[-1]) if words else NOTHING
