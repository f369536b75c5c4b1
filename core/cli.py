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


@crm.command("backup")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Folder for the archive (default: CRM_BACKUP_DIR).")
def backup_command(out_dir):
    """Back up the database, uploaded files and secret key into one archive."""
    from core.backup import BackupError, make_backup

    try:
        make_backup(out_dir, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@crm.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
def restore_command(archive, yes):
    """Verify a backup archive, then replace this deployment's data with it."""
    from core.backup import BackupError
    from core.restore import restore

    def confirm(manifest):
        return yes or click.confirm(
            f"Replace this deployment's database and files with the backup made "
            f"{manifest['created_at']} (deployment {manifest['deployment_id']})?")

    try:
        restore(archive, echo=click.echo, confirm=confirm)
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was changed" if "nothing was changed"
                                   not in str(exc) else str(exc)) from exc


def init_app(app: Flask) -> None:
    app.cli.add_command(crm)
