"""Admin pages for users: list, invite, edit, seats, deactivate, TOTP reset, seats overview."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.admin import services
from core.admin.forms import ActionForm, InviteForm, SeatsForm, UserForm
from core.admin.views import bp
from core.auth.models import Role, Team, User
from core.auth.permissions import require_permission
from core.extensions import db
from core.pagination import request_page

PER_PAGE = 25


def _roles() -> list[Role]:
    return list(db.session.execute(select(Role).order_by(Role.builtin.desc(), Role.name))
                .scalars())


def _teams() -> list[Team]:
    return list(db.session.execute(select(Team).order_by(Team.name)).scalars())


def _fill_choices(form) -> None:
    form.role.choices = [(r.id, r.label) for r in _roles()]
    form.team.choices = [(0, _("No team"))] + [(t.id, t.name) for t in _teams()]


def _modules() -> list:
    from core.modules import registry

    reg = registry()
    return [reg.manifest(name) for name in reg.loaded]


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/users")
@require_permission("admin.users")
def users():
    """Users with search and filters by role, team and status."""
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    stmt = services.user_query(search=request.args.get("q", ""), role_id=_int_arg("role"),
                               team_id=_int_arg("team"), active=active)
    page = request_page(stmt, [User.email, User.id], size=PER_PAGE)
    return render_template("admin/users.html", page=page, roles=_roles(), teams=_teams(),
                           args=request.args)


def _send_invitation(user: User, link: str) -> bool:
    """Email the invitation when email is set up; whether it was queued."""
    from flask import current_app

    from core import messaging
    from core.database import get_setting

    send = getattr(messaging, "send_email", None)
    if send is None or not (get_setting("smtp.host") or current_app.config.get("MAIL_SERVER")):
        return False
    text = _("You have been invited to Peyvand CRM. Open this link to set your password:\n%(link)s",
             link=link)
    send(user.email, _("Your Peyvand invitation"), text=text)
    db.session.commit()
    return True


@bp.route("/users/invite", methods=["GET", "POST"])
@require_permission("admin.users")
def invite():
    """Invite a user by email; the one-time link is shown to the admin once."""
    form = InviteForm()
    _fill_choices(form)
    if form.validate_on_submit():
        role = db.session.get(Role, form.role.data)
        try:
            user, token = services.invite_user(
                email=form.email.data, role_name=role.name, name=form.name.data or "",
                team_id=form.team.data or None, locale=form.locale.data or None)
        except (services.AdminError, ValueError) as exc:
            flash(str(exc), "danger")
            return render_template("admin/invite.html", form=form), 422
        link = url_for("auth.accept_invite", token=token, _external=True)
        emailed = _send_invitation(user, link)
        return render_template("admin/invited.html", user=user, link=link, emailed=emailed)
    return render_template("admin/invite.html", form=form)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_permission("admin.users")
def user_edit(user_id: int):
    """Edit a user's name, role, team and language; the page also holds seats and actions."""
    user = _user_or_404(user_id)
    form = UserForm(data={"name": user.name, "role": user.role_id, "team": user.team_id or 0,
                          "locale": user.locale or ""})
    _fill_choices(form)
    status = 200
    if form.validate_on_submit():
        try:
            services.update_user(user, role=db.session.get(Role, form.role.data),
                                 team_id=form.team.data or None, locale=form.locale.data or None,
                                 name=form.name.data.strip(), by=current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
        except services.AdminError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            status = 422
    seats = SeatsForm(modules=sorted(user.seat_modules))
    seats.modules.choices = [(m.name, str(m.title)) for m in _modules()]
    return render_template("admin/user_edit.html", user=user, form=form, seats=seats,
                           action=ActionForm()), status


@bp.route("/users/<int:user_id>/seats", methods=["POST"])
@require_permission("admin.users")
def user_seats(user_id: int):
    """Give and take module seats; a seat beyond the license is refused with the reason."""
    user = _user_or_404(user_id)
    form = SeatsForm()
    form.modules.choices = [(m.name, str(m.title)) for m in _modules()]
    if not form.validate_on_submit():
        abort(400)
    refusals = services.set_seats(user, set(form.modules.data or ()))
    for message in refusals:
        flash(message, "danger")
    if not refusals:
        flash(_("Seats saved."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/<any(deactivate, reactivate, 'reset-totp'):action>",
          methods=["POST"])
@require_permission("admin.users")
def user_action(user_id: int, action: str):
    """Deactivate (frees seats), reactivate, or reset a user's one-time-password app."""
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if action == "deactivate":
            services.guarded_deactivate(user, by=current_user)
            flash(_("%(email)s is deactivated and their seats are free.", email=user.email),
                  "success")
        elif action == "reactivate":
            services.reactivate_user(user)
            flash(_("%(email)s can sign in again.", email=user.email), "success")
        else:
            services.reset_totp(user)
            flash(_("%(email)s now signs in without a one-time code.", email=user.email),
                  "success")
    except services.AdminError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/seats")
@require_permission("admin.users")
def seats():
    """Per module: seats used and licensed, and who holds them."""
    from core import licensing

    state = licensing.current_state()
    rows = [{"manifest": m, "used": services.seats_used(m.name),
             "licensed": state.seats_for(m.name), "holders": services.seat_holders(m.name)}
            for m in _modules()]
    return render_template("admin/seats.html", rows=rows)
