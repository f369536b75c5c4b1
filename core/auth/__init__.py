"""Authentication and authorisation: users, login, permissions, record scopes."""

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.extensions import db, login


def init_app(app: Flask) -> None:
    from core.auth import permissions, views
    from core.auth.models import User

    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = _l("Please sign in to open this page.")
    login.login_message_category = "info"
    login.session_protection = "strong"

    @login.user_loader
    def load_user(user_id: str):
        # One query for the user, role, team and seats (every module page looks at the seats).
        user = db.session.execute(
            select(User).options(joinedload(User.seats)).where(User.id == int(user_id))
        ).unique().scalar_one_or_none()
        return user if user is not None and user.active else None

    app.register_blueprint(views.bp)
    app.before_request(permissions.deny_undeclared)
