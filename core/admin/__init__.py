"""Administration: users, roles, teams, seats, modules, license, settings, audit log."""

from flask import Flask


def init_app(app: Flask) -> None:
    from core.admin import views

    app.register_blueprint(views.bp)
