"""Campaign tracking: open pixel, signed click redirects, one-click unsubscribe, SMS opt-out.

Each recipient has a random token (128 bits). Click and unsubscribe URLs also carry an HMAC
of the token (and link) under the app's secret key, so a changed URL is refused (400) and a
redirect only ever goes to a link stored with the campaign (never an open redirect).
"""

import hashlib
import hmac
import re
from base64 import b64decode
from html import unescape

from flask import (
    Blueprint,
    abort,
    current_app,
    has_request_context,
    redirect,
    render_template,
    request,
)
from flask_babel import gettext as _
from sqlalchemy import select, update

from core.auth.permissions import public
from core.database import get_setting, set_setting, utcnow
from core.extensions import csrf, db
from core.messaging import opt_out
from modules.marketing.models.campaigns import Campaign, CampaignLink, Recipient, TrackingEvent

bp = Blueprint("marketing_tracking", __name__, url_prefix="/marketing/t",
               template_folder="templates")
PIXEL = b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
HREF = re.compile(r"""(href\s*=\s*)(["'])(https?://[^"'\s<>]+)\2""", re.IGNORECASE)
def sign(*parts: object) -> str:
    """A short HMAC of ``parts`` under the app's secret key."""
    key = current_app.config["SECRET_KEY"].encode()
    data = ":".join(str(p) for p in parts).encode()
    return hmac.new(key, b"marketing:" + data, hashlib.sha256).hexdigest()[:20]


def _valid(signature: str, *parts: object) -> bool:
    return hmac.compare_digest(signature.encode(), sign(*parts).encode())


def base_url() -> str:
    """Where the deployment answers (remembered from the last request that started a send)."""
    if has_request_context():
        here = request.host_url.rstrip("/")
        if get_setting("marketing.base_url") != here:
            set_setting("marketing.base_url", here)
        return here
    return (get_setting("marketing.base_url") or current_app.config.get("MARKETING_BASE_URL")
            or "http://localhost").rstrip("/")


def open_url(base: str, token: str) -> str:
    return f"{base}/marketing/t/o/{token}.gif"


def click_url(base: str, token: str, link_id: int) -> str:
    return f"{base}/marketing/t/c/{token}/{link_id}/{sign(token, link_id)}"


def unsubscribe_url(base: str, token: str) -> str:
    return f"{base}/marketing/t/u/{token}/{sign(token)}"


def links_of(html: str) -> list[str]:
    """The http(s) links of an HTML text, in order, once each."""
    return list(dict.fromkeys(unescape(m.group(3)) for m in HREF.finditer(html or "")))


def register_links(campaign: Campaign, html: str) -> dict[str, int]:
    """Store the campaign's links (once each); returns url → link id."""
    known = {link.url: link.id for link in db.session.execute(
        select(CampaignLink).where(CampaignLink.campaign_id == campaign.id)).scalars()}
    for url in links_of(html):
        if url not in known and len(url) <= 1000:
            link = CampaignLink(campaign_id=campaign.id, url=url, clicks=0)
            db.session.add(link)
            db.session.flush()
            known[url] = link.id
    return known


def rewrite(html: str, links: dict[str, int], base: str, token: str) -> str:
    """``html`` with each known link replaced by its signed, counting redirect."""
    def replace(match: re.Match) -> str:
        link_id = links.get(unescape(match.group(3)))
        if link_id is None:
            return match.group(0)
        quote = match.group(2)
        return f"{match.group(1)}{quote}{click_url(base, token, link_id)}{quote}"

    return HREF.sub(replace, html or "")


def _recipient(token: str) -> Recipient:
    found = db.session.execute(select(Recipient).where(Recipient.token == token)).scalar()
    if found is None:
        abort(404)
    return found


def _event(recipient: Recipient, kind: str, link_id: int | None = None) -> None:
    db.session.add(TrackingEvent(recipient_id=recipient.id, kind=kind, link_id=link_id))


def _lead_behaviour(recipient: Recipient, kind: str) -> None:
    """An open or click scores the leads this recipient is (behaviour rules, with their caps)."""
    from modules.marketing.leads import leads_of_recipient, record_activity

    for lead in leads_of_recipient(recipient.customer_id, recipient.address):
        record_activity(lead, kind, {"campaign": recipient.campaign_id})


@bp.route("/o/<token>.gif")
@public
def pixel(token: str):
    """The open pixel: counts an open, always answers with a transparent GIF."""
    recipient = db.session.execute(select(Recipient).where(Recipient.token == token)).scalar()
    if recipient is not None:
        first = recipient.opened_at is None
        db.session.execute(update(Recipient).where(Recipient.id == recipient.id).values(
            opens=Recipient.opens + 1, opened_at=recipient.opened_at or utcnow()))
        _event(recipient, "open")
        if first:  # the first open scores; reloads of the pixel do not
            _lead_behaviour(recipient, "open")
        db.session.commit()
    response = current_app.response_class(PIXEL, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store, private"
    return response


@bp.route("/c/<token>/<int:link_id>/<signature>")
@public
def click(token: str, link_id: int, signature: str):
    """A tracked link: checks the signature, counts the click, redirects to the stored URL."""
    if not _valid(signature, token, link_id):
        abort(400)
    recipient = _recipient(token)
    link = db.session.get(CampaignLink, link_id)
    if link is None or link.campaign_id != recipient.campaign_id:
        abort(404)
    if not link.url.lower().startswith(("http://", "https://")):
        abort(404)
    now = utcnow()
    db.session.execute(update(Recipient).where(Recipient.id == recipient.id).values(
        clicks=Recipient.clicks + 1, clicked_at=recipient.clicked_at or now,
        opened_at=recipient.opened_at or now))
    db.session.execute(update(CampaignLink).where(CampaignLink.id == link.id).values(
        clicks=CampaignLink.clicks + 1))
    _event(recipient, "click", link.id)
    _lead_behaviour(recipient, "click")
    db.session.commit()
    return redirect(link.url, code=302)


def unsubscribe_recipient(recipient: Recipient, reason: str = "campaign unsubscribe") -> bool:
    """Opt the address out in messaging and clear the customer's consent (caller commits)."""
    campaign = db.session.get(Campaign, recipient.campaign_id)
    channel = campaign.channel if campaign else "email"
    from core.customers.models import Customer

    customer = db.session.get(Customer, recipient.customer_id)
    changed = False
    if recipient.address:
        try:
            changed = opt_out(channel, recipient.address, reason=reason)
        except ValueError:
            pass
    if customer is not None:
        flag = "consent_email" if channel == "email" else "consent_sms"
        changed = changed or getattr(customer, flag)
        setattr(customer, flag, False)
    if recipient.unsubscribed_at is None:
        recipient.unsubscribed_at = utcnow()
        _event(recipient, "unsubscribe")
    return changed


@bp.route("/u/<token>/<signature>", methods=["GET", "POST"])
@public
def unsubscribe(token: str, signature: str):
    """GET: a page with a confirm button; POST (also RFC 8058 one-click): unsubscribe."""
    if not _valid(signature, token):
        abort(400)
    recipient = _recipient(token)
    done = False
    if request.method == "POST":
        unsubscribe_recipient(recipient)
        db.session.commit()
        done = True
    return render_template("marketing/unsubscribe.html", done=done, address=recipient.address,
                           title=_("Unsubscribe"))


@bp.route("/s/<token>", methods=["GET", "POST"])
@public
def sms_opt_out(token: str):
    """The short opt-out link at the end of a campaign SMS."""
    recipient = _recipient(token)
    done = False
    if request.method == "POST":
        unsubscribe_recipient(recipient, reason="sms opt-out link")
        db.session.commit()
        done = True
    return render_template("marketing/unsubscribe.html", done=done, address=recipient.address,
                           title=_("Unsubscribe"))


def handle_sms_keyword(number: str, text: str) -> bool:
    """An inbound SMS: an opt-out keyword ("لغو", "11", "STOP") opts the number out (core's
    ``/messaging/sms/inbound`` does this for the gateway's replies)."""
    from core.messaging.views import is_opt_out_keyword, opt_out_by_sms

    if not is_opt_out_keyword(text):
        return False
    opt_out_by_sms(number)
    return True


def init_app(app) -> None:
    """Register the public tracking endpoints (one-click POST has no CSRF token by design)."""
    csrf.exempt(unsubscribe)
    csrf.exempt(sms_opt_out)
    app.register_blueprint(bp)
