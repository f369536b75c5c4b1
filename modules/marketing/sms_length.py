"""How many SMS parts a text takes: GSM-7 texts 160 per part (153 when split), anything
else (Persian) UCS-2 with 70 per part (67 when split)."""

from dataclasses import dataclass

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "gsm" | "ucs2"
    units: int  # characters as the network counts them
    parts: int
    per_part: int  # capacity of one part for this text (70/67 or 160/153)
    remaining: int  # units left in the last part


def is_gsm(text: str) -> bool:
    """Whether ``text`` fits the GSM-7 alphabet (with its extension table)."""
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def sms_length(text: str) -> SmsLength:
    """Parts and remaining characters of ``text`` as a gateway would count them."""
    text = text or ""
    if is_gsm(text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "gsm"
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP (emoji) take two
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "ucs2"
    if units <= single:
        parts, per = (1 if units else 0), single
        remaining = single - units
    else:
        per = multi
        parts = -(-units // multi)
        remaining = parts * multi - units
    return SmsLength(encoding=encoding, units=units, parts=parts, per_part=per,
                     remaining=remaining)
