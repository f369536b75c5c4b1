"""SMS gateways behind one interface: ``SmsProvider.send(to, text) -> provider_message_id``.

The deployment chooses one with the settings ``sms.provider`` ("generic" or "kavenegar") and
``sms.config`` (a dict; app config ``SMS_PROVIDER``/``SMS_CONFIG`` are the fallback).

Generic HTTP gateway, ``sms.config`` keys:
  url (required); method "GET" or "POST" (default POST); body "form" or "json" (POST);
  to_param ("to"), text_param ("text"), sender_param ("from"), sender;
  to_format "international" (+989...), "plain" (989...) or "local" (09...);
  headers (dict), auth_header + auth_value (e.g. "Authorization", "Bearer ..."),
  api_key_param + api_key; params (dict of static extra parameters);
  success_status (code or list, default 200); success_json_path ("return.status") with
  success_value; success_substring; message_id_json_path; timeout (seconds, default 15).
Kavenegar-style, ``sms.config`` keys: api_key (required), sender, base_url
  (default https://api.kavenegar.com), timeout.
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from flask import current_app

from core.database import get_setting


class SmsError(RuntimeError):
    """The gateway refused or could not be reached; the message says what it answered."""


class SmsProvider:
    """An SMS gateway. ``send`` raises ``SmsError`` on failure."""

    name = "base"

    def __init__(self, config: dict):
        self.config = dict(config or {})

    def send(self, to: str, text: str) -> str:
        raise NotImplementedError


def format_number(canonical: str, style: str) -> str:
    """+989123456789 as "international" (unchanged), "plain" (989...) or "local" (0912...)."""
    if style == "plain":
        return canonical.removeprefix("+")
    if style == "local":
        return "0" + canonical.removeprefix("+98")
    return canonical


def json_path(data: Any, path: str) -> Any:
    """``data["a"]["b"][0]`` for the path "a.b.0"; None when any step is missing."""
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def http_request(url: str, *, method: str = "POST", data: bytes | None = None,
                 headers: dict | None = None, timeout: float = 15) -> tuple[int, str]:
    """One HTTP request; returns (status, body text) for any status, raises only on no answer."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SmsError(f"the SMS gateway at {url} could not be reached: {exc}") from exc


class GenericHttpProvider(SmsProvider):
    """Any HTTP gateway, described by configuration (see the module docstring)."""

    name = "generic"

    def send(self, to: str, text: str) -> str:
        c = self.config
        if not c.get("url"):
            raise SmsError("the generic SMS gateway has no url in sms.config")
        params = dict(c.get("params") or {})
        params[c.get("to_param", "to")] = format_number(to, c.get("to_format", "international"))
        params[c.get("text_param", "text")] = text
        if c.get("sender"):
            params[c.get("sender_param", "from")] = c["sender"]
        if c.get("api_key_param"):
            params[c["api_key_param"]] = c.get("api_key", "")
        headers = dict(c.get("headers") or {})
        if c.get("auth_header"):
            headers[c["auth_header"]] = c.get("auth_value", "")
        method = str(c.get("method", "POST")).upper()
        url, data = c["url"], None
        if method == "GET":
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        elif c.get("body") == "json":
            data = json.dumps(params, ensure_ascii=False).encode("utf-8")
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        else:
            data = urllib.parse.urlencode(params).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
        status, body = http_request(url, method=method, data=data, headers=headers,
                                    timeout=float(c.get("timeout", 15)))
        return self._check(status, body)

    def _check(self, status: int, body: str) -> str:
        c = self.config
        allowed = c.get("success_status", 200)
        allowed = {int(x) for x in (allowed if isinstance(allowed, list | tuple) else [allowed])}
        if status not in allowed:
            raise SmsError(f"the SMS gateway answered HTTP {status}: {body[:300]}")
        if c.get("success_substring") and c["success_substring"] not in body:
            raise SmsError(f"the SMS gateway's answer lacks {c['success_substring']!r}: "
                           f"{body[:300]}")
        data = None
        if c.get("success_json_path") or c.get("message_id_json_path"):
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise SmsError(f"the SMS gateway did not answer JSON: {body[:300]}") from exc
        if c.get("success_json_path"):
            found = json_path(data, c["success_json_path"])
            if str(found) != str(c.get("success_value", True)):
                raise SmsError(f"the SMS gateway answered {c['success_json_path']}={found!r}: "
                               f"{body[:300]}")
        if c.get("message_id_json_path"):
            found = json_path(data, c["message_id_json_path"])
            return "" if found is None else str(found)
        return ""


class KavenegarProvider(SmsProvider):
    """Kavenegar's REST API: POST {base}/v1/{api_key}/sms/send.json."""

    name = "kavenegar"

    def send(self, to: str, text: str) -> str:
        c = self.config
        if not c.get("api_key"):
            raise SmsError("the Kavenegar gateway has no api_key in sms.config")
        base = str(c.get("base_url", "https://api.kavenegar.com")).rstrip("/")
        url = f"{base}/v1/{urllib.parse.quote(c['api_key'], safe='')}/sms/send.json"
        params = {"receptor": format_number(to, "local"), "message": text}
        if c.get("sender"):
            params["sender"] = c["sender"]
        status, body = http_request(
            url, method="POST", data=urllib.parse.urlencode(params).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            timeout=float(c.get("timeout", 15)),
        )
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SmsError(f"Kavenegar answered HTTP {status} without JSON: {body[:300]}") from exc
        result = json_path(data, "return.status")
        if status != 200 or result != 200:
            message = json_path(data, "return.message") or body[:300]
            raise SmsError(f"Kavenegar refused the message (status {result}): {message}")
        message_id = json_path(data, "entries.0.messageid")
        return "" if message_id is None else str(message_id)


PROVIDERS: dict[str, type[SmsProvider]] = {
    "generic": GenericHttpProvider,
    "kavenegar": KavenegarProvider,
}


def register_provider(cls: type[SmsProvider]) -> type[SmsProvider]:
    """Make another gateway available under ``cls.name`` (usable as a class decorator)."""
    PROVIDERS[cls.name] = cls
    return cls


def current_provider() -> SmsProvider:
    """The gateway the deployment settings choose; raises ``SmsError`` when none is set."""
    name = get_setting("sms.provider") or current_app.config.get("SMS_PROVIDER")
    config = get_setting("sms.config") or current_app.config.get("SMS_CONFIG") or {}
    if not name:
        raise SmsError("SMS is not configured: choose a gateway in the deployment settings "
                       "(sms.provider)")
    if name not in PROVIDERS:
        raise SmsError(f"unknown SMS gateway {name!r}; available: {', '.join(sorted(PROVIDERS))}")
    return PROVIDERS[name](config)
