"""Portal pages of the core: sign in with a one-time code, sign out, home."""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from core.audit import record
from core.auth.permissions import public
from core.extensions import db, limiter
from core.portal import SESSION_KEY, current_customer, portal_required
from core.portal.codes import MAX_ATTEMPTS, issue_code, parse_destination, verify_code
from core.portal.forms import CodeForm, SignInForm

bp = Blueprint("portal", __name__, url_prefix="/portal")
PENDING = "portal_pending"


def _destination_key() -> str:
    typed = request.form.get("address", "")
    try:
        return "portal:" + parse_destination(typed)[1]
    except ValueError:
        return "portal:" + typed.strip().lower()


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/portal") and not target.startswith("//"):
        return target
    return url_for("portal.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CRM_PORTAL_LIMIT_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["CRM_PORTAL_LIMIT_DESTINATION"],
               key_func=_destination_key, methods=["POST"])
@public
def sign_in():
    """Ask for a mobile number or email and send a one-time code to it."""
    if current_customer() is not None:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            channel, destination = parse_destination(form.address.data)
        except ValueError:
            form.address.errors.append(_("Write a mobile number like 0912 345 6789 or an "
                                         "email address."))
        else:
            issue_code(channel, destination)  # nothing is sent when no customer has it
            db.session.commit()
            session[PENDING] = {"channel": channel, "destination": destination, "tries": 0}
            return redirect(url_for("portal.code", next=request.args.get("next")))
    return render_template("portal/sign_in.html", form=form)


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CRM_PORTAL_LIMIT_CODE"], methods=["POST"])
@public
def code():
    """Enter the code that was sent; the same answer whether or not the address is known."""
    pending = session.get(PENDING)
    if not pending:
        return redirect(url_for("portal.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        customer = verify_code(pending["destination"], form.code.data)
        if customer is not None:
            session.pop(PENDING, None)
            session[SESSION_KEY] = customer.id
            record("portal.sign_in", target=f"customer:{customer.id}",
                   detail={"channel": pending["channel"]})
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()  # the wrong guess is counted on the code
        pending["tries"] = pending.get("tries", 0) + 1
        if pending["tries"] >= MAX_ATTEMPTS:
            session.pop(PENDING, None)
            flash(_("Too many wrong codes. Ask for a new code."), "danger")
            return redirect(url_for("portal.sign_in"))
        session[PENDING] = pending
        form.code.errors.append(_("The code is wrong or has expired."))
        return render_template("portal/code.html", form=form, pending=pending), 401
    return render_template("portal/code.html", form=form, pending=pending)


@bp.route("/sign-out", methods=["POST"])
@public
def sign_out():
    """Leave the portal."""
    session.pop(SESSION_KEY, None)
    session.pop(PENDING, None)
    flash(_("You have signed out."), "info")
    return redirect(url_for("portal.sign_in"))


@bp.route("/")
@portal_required
def home():
    """The portal home: the pages the active modules offer."""
    return render_template("portal/home.html")
