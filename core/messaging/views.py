"""Delivery reports and replies from the SMS gateway: ``/messaging/sms/report?token=...`` and
``/messaging/sms/inbound?token=...``.

A reply that is an opt-out keyword ("لغو", "11", "STOP"...) opts the number out of SMS and
clears the SMS consent of the customers with that mobile; the gateway's inbound webhook is
pointed at ``/messaging/sms/inbound`` with the ``inbound_token`` of ``sms.config``.

The gateway calls it (GET or POST) with the message id and a status. ``sms.config`` keys:
``dlr_token`` (required; without it the endpoint does not answer), ``dlr_id_param`` ("id"),
``dlr_status_param`` ("status"), ``dlr_delivered`` and ``dlr_failed`` (lists of status
values, compared case-insensitively).
"""

import hmac

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from sqlalchemy import select

from core.auth.permissions import public
from core.database import get_setting
from core.extensions import csrf, db
from core.i18n import to_latin_digits
from core.messaging.models import MessageLog

bp = Blueprint("messaging", __name__, url_prefix="/messaging")

DELIVERED = ("delivered", "deliver", "delivrd", "1", "10")
FAILED = ("failed", "undelivered", "undeliv", "rejected", "expired", "2", "11", "14")


@bp.route("/sms/report", methods=["GET", "POST"])
@public
def sms_report():
    """A gateway reports that an SMS was delivered or failed."""
    config = get_setting("sms.config") or current_app.config.get("SMS_CONFIG") or {}
    token = config.get("dlr_token")
    if not token or not hmac.compare_digest(str(token), request.args.get("token", "")):
        abort(404)
    values = {**(request.get_json(silent=True) or {}), **request.values.to_dict()}
    provider_id = str(values.get(config.get("dlr_id_param", "id"), "")).strip()
    status = str(values.get(config.get("dlr_status_param", "status"), "")).strip().lower()
    delivered = [str(v).lower() for v in config.get("dlr_delivered", DELIVERED)]
    failed = [str(v).lower() for v in config.get("dlr_failed", FAILED)]
    if not provider_id or status not in delivered + failed:
        return jsonify(ok=False, error="need a message id and a known status"), 400
    entry = db.session.execute(
        select(MessageLog).where(MessageLog.channel == "sms",
                                 MessageLog.provider_id == provider_id)
    ).scalar()
    if entry is None:
        return jsonify(ok=False, error="unknown message id"), 404
    entry.status = "delivered" if status in delivered else "failed"
    if entry.status == "failed":
        entry.error = f"gateway reported {status}"
    db.session.commit()
    return jsonify(ok=True, status=entry.status)


OPT_OUT_KEYWORDS = {"لغو", "لغو11", "11", "stop", "unsubscribe", "cancel"}


def is_opt_out_keyword(text: str) -> bool:
    """Whether an inbound SMS asks to stop (any digits, spacing or case)."""
    return "".join(to_latin_digits(text or "").split()).lower() in OPT_OUT_KEYWORDS


def opt_out_by_sms(number: str) -> None:
    """Opt ``number`` out of SMS and clear the SMS consent of the customers who have it."""
    from core.customers.models import ContactPoint, Customer
    from core.messaging.addresses import canonical, opt_out

    address = canonical("sms", number)
    opt_out("sms", address, reason="sms keyword")
    owners = select(ContactPoint.customer_id).where(ContactPoint.kind == "mobile",
                                                    ContactPoint.value == address)
    for customer in db.session.scalars(select(Customer).where(Customer.id.in_(owners))):
        customer.consent_sms = False


@bp.route("/sms/inbound", methods=["GET", "POST"])
@public
def sms_inbound():
    """A customer replied by SMS: an opt-out keyword stops further SMS to that number."""
    config = get_setting("sms.config") or current_app.config.get("SMS_CONFIG") or {}
    token = config.get("inbound_token")
    if not token or not hmac.compare_digest(str(token), request.args.get("token", "")):
        abort(404)
    values = {**(request.get_json(silent=True) or {}), **request.values.to_dict()}
    number = str(values.get(config.get("inbound_from_param", "from"), "")).strip()
    text = str(values.get(config.get("inbound_text_param", "message"), ""))
    if not number:
        return jsonify(ok=False, error="need the sender's number"), 400
    if not is_opt_out_keyword(text):
        return jsonify(ok=True, opted_out=False)
    try:
        opt_out_by_sms(number)
    except ValueError:
        return jsonify(ok=False, error="not a mobile number"), 400
    db.session.commit()
    return jsonify(ok=True, opted_out=True)


def init_app(app: Flask) -> None:
    csrf.exempt(sms_report)
    csrf.exempt(sms_inbound)
    app.register_blueprint(bp)
