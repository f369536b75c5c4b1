"""The message one recipient gets: personalised text and HTML, tracking, unsubscribe headers."""

from dataclasses import dataclass, field

from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from core.database import get_setting
from modules.marketing import personalise, tracking
from modules.marketing.models.campaigns import Campaign

RTL = {"fa", "ar", "he", "ur"}


@dataclass
class Content:
    """A campaign's content prepared once per send pass (links registered, base URL known)."""

    campaign: Campaign
    base: str
    links: dict
    language: str
    compiled: dict = field(default_factory=dict)

    def render(self, template: str, context: dict, html: bool = False) -> str:
        """``personalise.render`` with the template compiled once per send pass."""
        key = (template, html)
        if key not in self.compiled:
            env = personalise._html_env if html else personalise._env  # noqa: SLF001
            try:
                self.compiled[key] = env.from_string(template or "")
            except Exception:  # noqa: BLE001 - the fallback below handles it
                self.compiled[key] = None
        compiled = self.compiled[key]
        if compiled is not None:
            try:
                return compiled.render(**context)
            except Exception:  # noqa: BLE001, S110  # nosec B110  # forgiving render next
                pass
        return personalise.render(template, context, html=html)


def prepare(campaign: Campaign, base: str | None = None) -> Content:
    """Register the campaign's links and fix the base URL for this pass."""
    links = tracking.register_links(campaign, campaign.body_html) if campaign.body_html else {}
    language = get_setting("display.language") or "fa"
    return Content(campaign, base or tracking.base_url(), links, language)


def texts(campaign: Campaign, variant: str) -> tuple[str, str, str]:
    """(subject, text, html template) of a variant."""
    if variant == "b" and campaign.ab_test:
        return (campaign.subject_b or campaign.subject, campaign.body_text_b or campaign.body_text,
                "" if campaign.body_text_b else campaign.body_html)
    return campaign.subject, campaign.body_text, campaign.body_html


def _paragraphs(text: str) -> Markup:
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.split("\n")))
        for p in paragraphs)


def email_parts(content: Content, context: dict, variant: str, token: str | None
                ) -> tuple[str, str, str, dict]:
    """(subject, text, html, headers) of one campaign email; no token: a test send."""
    subject, text, html = texts(content.campaign, variant)
    subject = content.render(subject, context)
    text = content.render(text, context)
    body = Markup(content.render(html, context, html=True)) if html else _paragraphs(text)
    headers, unsubscribe, pixel = {}, None, None
    if token:
        body = Markup(tracking.rewrite(str(body), content.links, content.base, token))
        unsubscribe = tracking.unsubscribe_url(content.base, token)
        pixel = tracking.open_url(content.base, token)
        headers = {"List-Unsubscribe": f"<{unsubscribe}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                   "Precedence": "bulk"}
        text = f"{text}\n\n--\n{_unsubscribe_line(content.language)} {unsubscribe}"
    direction = "rtl" if content.language in RTL else "ltr"
    with force_locale(content.language):
        html_out = render_template("marketing/email_campaign.html", body=body,
                                   unsubscribe=unsubscribe, pixel=pixel, direction=direction,
                                   align="right" if direction == "rtl" else "left")
    return subject, text, html_out, headers


def _unsubscribe_line(language: str) -> str:
    from flask_babel import gettext as _

    with force_locale(language):
        return _("Unsubscribe:")


def sms_text(content: Content, context: dict, variant: str, token: str | None) -> str:
    """The personalised SMS with its opt-out link."""
    _subject, text, _html = texts(content.campaign, variant)
    text = content.render(text, context)
    if token:
        from flask_babel import gettext as _

        with force_locale(content.language):
            text = f"{text}\n{_('Opt out:')} {content.base}/marketing/t/s/{token}"
    return text
