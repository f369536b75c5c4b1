"""The ``flask crm`` command group. Subsystems and modules add their commands to ``crm``."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup

crm = AppGroup("crm", help="Peyvand CRM administration.")
user_cli = AppGroup("user", help="Manage users.")
crm.add_command(user_cli)
import_cli = AppGroup("import", help="Import records from files.")
crm.add_command(import_cli)


@crm.command("init")
def init_command():
    """Create or upgrade the database; print the deployment id."""
    from flask_migrate import upgrade

    from core.bootstrap import ensure_deployment

    upgrade()
    ident = ensure_deployment()
    click.echo(f"Database is up to date. Deployment id: {ident}")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", default="agent", show_default=True)
@click.option("--name", default="")
@click.option("--seat", "seats", multiple=True, help="Module to give a seat in (repeatable).")
def user_create(email, password, role, name, seats):
    """Create a user (or update an existing one's password, role and seats)."""
    from core.admin.services import SeatError, create_or_update_user

    try:
        user = create_or_update_user(email=email, password=password, role_name=role, name=name,
                                     seats=list(seats))
    except (SeatError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    seats = ", ".join(sorted(user.seat_modules)) or "-"
    click.echo(f"User {user.email} ({user.role.name}) seats: {seats}")


@crm.command("check")
def check_command():
    """Say in plain words what is wrong with this deployment."""
    from core.checks import run_checks

    problems = run_checks(current_app)
    for level, message in problems:
        click.echo(f"{level.upper()}: {message}")
    if any(level == "error" for level, _ in problems):
        raise SystemExit(1)
    click.echo("Deployment looks fine." if not problems else "No errors.")


def init_app(app: Flask) -> None:
    app.cli.add_command(crm)
