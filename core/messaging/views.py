"""Delivery reports from the generic SMS gateway: ``/messaging/sms/report?token=...``.

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


def init_app(app: Flask) -> None:
    csrf.exempt(sms_report)
    app.register_blueprint(bp)
