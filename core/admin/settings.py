"""Deployment settings: one definition of each key, its validation and how it is stored.

The settings page, ``crm deploy`` and ``crm demo`` all go through ``clean`` and ``apply``,
so a value the page refuses is refused by the deploy file too, with the same reason.
"""

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from core import validators
from core.database import get_setting, set_setting

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
LOGO_MAX_BYTES = 1024 * 1024
SMTP_TLS = ("starttls", "ssl", "none")


class SettingsError(ValueError):
    """Some values are wrong; ``errors`` maps each key to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {reason}" for key, reason in errors.items()))


def _digits(value) -> str:
    from core.i18n import to_latin_digits

    return to_latin_digits(str(value)).strip()


def _str(max_len: int = 200):
    def clean(value):
        text = str(value).strip()
        if len(text) > max_len:
            raise ValueError(_("is longer than %(n)d characters", n=max_len))
        return text
    return clean


def _national_id(value):
    text = _digits(value)
    if text and not validators.is_valid_legal_national_id(text):
        raise ValueError(_("%(value)s is not a valid national id (11 digits with a check digit)",
                           value=value))
    return text


def _economic_code(value):
    text = _digits(value)
    return validators.check_economic_code(text) if text else text  # ValueError says why


def _postal_code(value):
    text = _digits(value).replace("-", "").replace(" ", "")
    return validators.check_postal_code(text) if text else text


def _choice(*choices):
    def clean(value):
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(_("%(value)s is not one of %(choices)s", value=value,
                               choices=", ".join(choices)))
        return text
    return clean


def _int_range(low: int, high: int):
    def clean(value):
        if isinstance(value, bool):
            raise ValueError(_("must be a whole number from %(low)d to %(high)d",
                               low=low, high=high))
        try:
            number = int(_digits(value))
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValueError(_("%(value)s is not a whole number from %(low)d to %(high)d",
                               value=value, low=low, high=high))
        return number
    return clean


def _currency(value):
    text = str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValueError(_("%(value)s is not a three-letter currency code such as IRR",
                           value=value))
    return text


def _tls(value):
    if value is True:
        return "starttls"
    if value is False:
        return "none"
    return _choice(*SMTP_TLS)(value)


def _email_from(value):
    text = str(value).strip()
    address = text[text.find("<") + 1:text.rfind(">")] if "<" in text else text
    if text and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
        raise ValueError(_("%(value)s is not an email address", value=value))
    return text


def _sms_config(value):
    if not isinstance(value, dict):
        raise ValueError(_("must be a table of provider settings"))
    return {str(k): v for k, v in value.items()}


FIELDS: dict[str, Callable] = {
    "company.legal_name": _str(200),
    "company.national_id": _national_id,
    "company.economic_code": _economic_code,
    "company.address": _str(500),
    "company.postal_code": _postal_code,
    "company.logo": _str(200),
    "display.language": _choice("fa", "en"),
    "display.currency": _currency,
    "display.unit": _choice("rial", "toman"),
    "fiscal.year_start_month": _int_range(1, 12),
    "smtp.host": _str(200),
    "smtp.port": _int_range(1, 65535),
    "smtp.username": _str(200),
    "smtp.password": _str(500),
    "smtp.tls": _tls,
    "smtp.from": _email_from,
    "sms.provider": _str(50),
    "sms.config": _sms_config,
}
DEFAULTS = {
    "display.language": "fa", "display.currency": "IRR", "display.unit": "rial",
    "fiscal.year_start_month": 1, "smtp.port": 587, "smtp.tls": "starttls",
}


SMS_REQUIRED = {"generic": ("url",), "kavenegar": ("api_key",)}
SMS_CHOICES = {"method": ("GET", "POST"), "body": ("form", "json"),
               "to_format": ("international", "plain", "local")}


def sms_problems(provider: str, config: dict) -> dict[str, str]:
    """What is wrong with an SMS gateway choice and its settings, by setting key."""
    try:
        from core.messaging.sms import PROVIDERS
    except ImportError:
        return {}
    if provider not in PROVIDERS:
        return {"sms.provider": _("%(value)s is not an SMS gateway Peyvand knows (known: "
                                  "%(known)s)", value=provider,
                                  known=", ".join(sorted(PROVIDERS)))}
    missing = [key for key in SMS_REQUIRED.get(provider, ()) if not config.get(key)]
    if missing:
        return {"sms.config": _("the %(provider)s gateway needs %(keys)s", provider=provider,
                                keys=", ".join(missing))}
    url = str(config.get("url", "") or config.get("base_url", "") or "http://")
    if not url.startswith(("http://", "https://")):
        return {"sms.config": _("%(value)s is not an http:// or https:// address", value=url)}
    for key, allowed in SMS_CHOICES.items():
        value = config.get(key)
        if value is not None and str(value) not in allowed and str(value).upper() not in allowed:
            return {"sms.config": _("%(key)s = %(value)s is not one of %(choices)s", key=key,
                                    value=value, choices=", ".join(allowed))}
    return {}


def _check_sms(values: dict, errors: dict[str, str]) -> None:
    provider = values.get("sms.provider")
    if provider and "sms.provider" not in errors and "sms.config" not in errors:
        errors.update(sms_problems(provider, values.get("sms.config") or {}))


def clean(values: dict) -> dict:
    """Normalised values, or ``SettingsError`` naming every wrong key and why."""
    cleaned, errors = {}, {}
    for key, value in values.items():
        if key not in FIELDS:
            errors[key] = _("is not a setting Peyvand knows")
            continue
        try:
            cleaned[key] = FIELDS[key](value)
        except ValueError as exc:
            errors[key] = str(exc)
    _check_sms(cleaned, errors)
    if errors:
        raise SettingsError(errors)
    return cleaned


def apply(values: dict) -> list[str]:
    """Store cleaned values in the current transaction; returns the keys that changed."""
    return [key for key, value in values.items() if set_setting(key, value)]


def current() -> dict:
    """Every known setting with its stored value (or default)."""
    return {key: get_setting(key, DEFAULTS.get(key)) for key in FIELDS}


def upload_dir() -> Path:
    path = Path(current_app.config["CRM_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_logo(data: bytes) -> str:
    """The file extension for a PNG or JPEG logo, or ``ValueError`` saying what is wrong."""
    limit = current_app.config.get("CRM_LOGO_MAX_BYTES", LOGO_MAX_BYTES)
    if len(data) > limit:
        raise ValueError(_("the logo is larger than %(kb)d KB", kb=limit // 1024))
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpg"
    raise ValueError(_("the logo must be a PNG or JPEG image"))


def store_logo(data: bytes) -> str:
    """Save a checked logo under the upload directory; returns its file name (content-named)."""
    ext = check_logo(data)
    name = f"logo-{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
    target = upload_dir() / name
    if not target.exists():
        target.write_bytes(data)
    return name
