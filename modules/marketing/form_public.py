"""Public lead form endpoints: the hosted page, its submission, and the embed script.

Why the submission is exempt from CSRF: the embed posts from a third-party page, where our
session cookie and its CSRF token are not available. The endpoint acts for no signed-in user
(a forged post can do nothing a visitor cannot do directly), so instead of the session token
it requires a signed per-render token (issued by the hosted page or the embed script, valid
a day, bound to the form), an empty honeypot field and a per-IP rate limit; cross-origin
posts must come from one of the form's allowed origins.
"""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from core.auth.permissions import public
from core.extensions import csrf, db, limiter
from modules.marketing import lead_forms

bp = Blueprint("marketing_forms", __name__, url_prefix="/marketing/f",
               template_folder="templates")

DEFAULT_LIMIT = "20 per 10 minutes"


def _limit() -> str:
    return current_app.config.get("CRM_MARKETING_FORM_LIMIT", DEFAULT_LIMIT)


def _cross_origin() -> str | None:
    """The Origin of a cross-origin request (None for our own pages)."""
    origin = request.headers.get("Origin")
    if not origin or origin.rstrip("/") == request.host_url.rstrip("/"):
        return None
    return origin


def _cors(response: Response, form) -> Response:
    origin = _cross_origin()
    if origin and lead_forms.origin_allowed(form, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


def _form_or_404(key: str):
    form = lead_forms.form_by_key(key)
    if form is None:
        abort(404)
    return form


def _labels() -> dict[str, str]:
    return {k: str(v) for k, v in lead_forms.FIELD_LABELS.items()}


@bp.route("/<key>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
@public
def hosted(key: str):
    """The hosted form page; a POST (from it or from the embed) captures the lead."""
    form = _form_or_404(key)
    if request.method == "GET":
        return render_template("marketing/form_public.html", form=form, labels=_labels(),
                               token=lead_forms.render_token(form), values={}, errors={},
                               honeypot=lead_forms.HONEYPOT, token_field=lead_forms.TOKEN_FIELD,
                               done=False)
    origin = _cross_origin()
    wants_json = origin is not None or request.accept_mimetypes.best == "application/json"
    if origin is not None and not lead_forms.origin_allowed(form, origin):
        return jsonify(ok=False, message=_("This site may not send this form.")), 403
    values = request.form.to_dict()
    errors: dict[str, str] = {}
    submission = None
    if not lead_forms.token_valid(form, values.get(lead_forms.TOKEN_FIELD)):
        errors["form"] = _("The form has expired; reload the page and send it again.")
    else:
        try:
            submission = lead_forms.submit(form, values, values.get("page_url")
                                           or request.referrer or "")
        except lead_forms.FormError as exc:
            db.session.rollback()
            errors = exc.errors
    if not errors:
        db.session.commit()
    thanks = form.thanks_message or _("Thank you, we will be in touch soon.")
    if wants_json:
        body = {"ok": not errors, "message": thanks if not errors else
                _("Please correct the marked fields."), "errors": errors}
        return _cors(jsonify(body), form), 422 if errors else 200
    current_app.logger.debug("lead form %s: submission %s", form.id, getattr(submission, "id",
                                                                             None))
    return render_template("marketing/form_public.html", form=form, labels=_labels(),
                           token=lead_forms.render_token(form), values=values, errors=errors,
                           honeypot=lead_forms.HONEYPOT, token_field=lead_forms.TOKEN_FIELD,
                           done=not errors, thanks=thanks), 422 if errors else 200


@bp.route("/<key>/embed.js")
@public
def embed(key: str):
    """The script that renders the form into ``<div data-peyvand-form="key">`` on any site."""
    form = _form_or_404(key)
    config = {
        "key": form.key, "action": url_for("marketing_forms.hosted", key=form.key,
                                           _external=True),
        "token": lead_forms.render_token(form), "tokenField": lead_forms.TOKEN_FIELD,
        "honeypot": lead_forms.HONEYPOT, "title": form.title, "intro": form.intro,
        "consent": form.consent_text, "send": _("Send"), "sending": _("Sending…"),
        "failed": _("Sending failed; please try again."),
        "required": _("This field is required."),
        "fields": [{"name": f["name"], "required": bool(f.get("required")),
                    "label": _labels().get(f["name"], f["name"])} for f in form.fields],
    }
    script = render_template("marketing/form_embed.js", config=json.dumps(config))
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-store"  # the token inside is per render
    return response


def register(app) -> None:
    """Register the public form blueprint (its POST needs no session CSRF token; see above)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
