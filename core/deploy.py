"""``crm deploy --config deployment.toml``: configure a deployment in one idempotent step.

Everything in the file is checked first; only then is it applied, in one transaction.
A second run with the same file changes nothing and says so. Every wrong value is reported
with its key and the reason.
"""

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, inspect, select

from core.cli import crm
from core.extensions import db

SECTIONS: dict[str, set[str]] = {
    "company": {"legal_name", "national_id", "economic_code", "address", "postal_code", "logo"},
    "display": {"language", "currency", "unit"},
    "fiscal": {"year_start_month"},
    "modules": {"load"},
    "license": {"file"},
    "admin": {"email", "name", "password", "password_env", "seats"},
    "smtp": {"host", "port", "username", "password", "password_env", "tls", "from"},
    "sms": {"provider", "config"},
}
SETTING_SECTIONS = ("company", "display", "fiscal", "smtp", "sms")
MIN_PASSWORD = 10


class DeployError(ValueError):
    """The deployment file is wrong; ``problems`` lists every "key: reason"."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Plan:
    """What a checked deployment file asks for, ready to apply."""

    settings: dict = field(default_factory=dict)
    logo: bytes | None = None
    modules: list[str] | None = None
    license_text: str | None = None
    admin: dict | None = None


def deployment_file(app: Flask | None = None) -> Path:
    """Where deploy-time config (the modules to load) is written; ``create_app`` reads it."""
    app = app or current_app
    return Path(app.config.get("CRM_DEPLOYMENT_FILE")
                or Path(app.instance_path) / "deployment.json")


def load(path: Path) -> dict:
    """The TOML file as a dict, or ``DeployError`` saying where it is malformed."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise DeployError([f"{path}: no such file"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise DeployError([f"{path}: not valid TOML ({exc})"]) from exc


def _secret(section: dict, key: str, problems: list[str], prefix: str) -> str | None:
    """A password given inline or through ``<key>_env`` (the name of an environment variable)."""
    if key in section and f"{key}_env" in section:
        problems.append(f"{prefix}.{key}: give either {key} or {key}_env, not both")
        return None
    if f"{key}_env" in section:
        name = str(section[f"{key}_env"])
        if not os.environ.get(name):
            problems.append(f"{prefix}.{key}_env: the environment variable {name} is not set")
            return None
        return os.environ[name]
    return None if key not in section else str(section[key])


def _check_structure(raw: dict, problems: list[str]) -> None:
    for name, value in raw.items():
        if name not in SECTIONS:
            problems.append(f"{name}: unknown section (known: {', '.join(SECTIONS)})")
        elif not isinstance(value, dict):
            problems.append(f"{name}: must be a [{name}] table")
        else:
            for key in value:
                if key not in SECTIONS[name]:
                    problems.append(f"{name}.{key}: unknown key (known in [{name}]: "
                                    f"{', '.join(sorted(SECTIONS[name]))})")


def _check_settings(raw: dict, base: Path, plan: Plan, problems: list[str]) -> None:
    from core.admin import settings

    values = {}
    for section in SETTING_SECTIONS:
        for key, value in raw.get(section, {}).items():
            if key in ("logo", "password", "password_env"):
                continue
            values[f"{section}.{key}"] = value
    smtp = raw.get("smtp", {})
    password = _secret(smtp, "password", problems, "smtp")
    if password is not None:
        values["smtp.password"] = password
    try:
        plan.settings = settings.clean(values)
    except settings.SettingsError as exc:
        problems.extend(f"{key}: {reason}" for key, reason in exc.errors.items())
    logo = raw.get("company", {}).get("logo")
    if logo:
        path = base / str(logo)
        try:
            plan.logo = path.read_bytes()
            settings.check_logo(plan.logo)
        except OSError:
            problems.append(f"company.logo: cannot read {path}")
        except ValueError as exc:
            problems.append(f"company.logo: {exc}")


def _check_modules(raw: dict, plan: Plan, problems: list[str]) -> None:
    from core.modules import ModuleError, discover, resolve

    if "load" not in raw.get("modules", {}):
        return
    load_list = raw["modules"]["load"]
    if load_list == "all":
        load_list = ["all"]
    if not isinstance(load_list, list) or not all(isinstance(n, str) for n in load_list):
        problems.append('modules.load: must be a list of module names, e.g. ["sales", "service"]')
        return
    try:
        resolve(load_list, discover())
    except ModuleError as exc:
        problems.append(f"modules.load: {exc}")
        return
    plan.modules = load_list


def _check_license(raw: dict, base: Path, plan: Plan, problems: list[str]) -> None:
    name = raw.get("license", {}).get("file")
    if not name:
        return
    path = base / str(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        problems.append(f"license.file: cannot read {path}")
        return
    from core.database import get_setting
    from core.licensing import crypto, current_state, now, services
    from core.licensing.documents import LicenseError, verify_license

    if crypto.detect(text) != crypto.LICENSE:
        problems.append(f"license.file: {path} is not a Peyvand license (it must start with "
                        "-----BEGIN PEYVAND LICENSE-----)")
        return
    moment = now()
    try:
        lic = verify_license(text, root_keys=current_app.config["CRM_LICENSE_ROOT_KEYS"],
                             deployment_id=get_setting("deployment.id"), now=moment,
                             revocations=services._current_revocations())
    except LicenseError as exc:
        problems.append(f"license.file: {exc}")
        return
    if lic.grace_until is not None and moment >= lic.grace_until:
        problems.append(f"license.file: this license expired on {lic.expires_at.date()}; ask "
                        "your reseller for a current one")
        return
    installed = current_state().license
    if installed is None or installed.text.strip() != lic.text.strip():
        plan.license_text = text


def _check_admin(raw: dict, plan: Plan, problems: list[str]) -> None:
    import re

    section = raw.get("admin")
    if not section:
        return
    email = str(section.get("email", "")).strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        problems.append(f"admin.email: {email or '(empty)'} is not an email address")
    password = _secret(section, "password", problems, "admin")
    if password is not None and len(password) < MIN_PASSWORD:
        problems.append(f"admin.password: is shorter than {MIN_PASSWORD} characters")
    seats = section.get("seats", [])
    if not isinstance(seats, list):
        problems.append("admin.seats: must be a list of module names")
        seats = []
    if password is None and "password_env" not in section and not _user_exists(email):
        problems.append(f"admin.password: {email} has no account yet, so it needs a password "
                        "(or password_env)")
    plan.admin = {"email": email, "name": str(section.get("name", "")).strip(),
                  "password": password, "seats": [str(s) for s in seats]}
    _check_admin_seats(plan, problems)


def _user_exists(email: str) -> bool:
    from core.auth.models import User

    return db.session.execute(select(User.id).where(func.lower(User.email) == email)
                              ).scalar() is not None


def _check_admin_seats(plan: Plan, problems: list[str]) -> None:
    from core import licensing
    from core.admin.services import seats_used
    from core.auth.models import User
    from core.modules import discover

    if not plan.admin["seats"]:
        return
    installed = discover()
    wanted = plan.modules if plan.modules and plan.modules != ["all"] else list(installed)
    user = db.session.execute(select(User).where(func.lower(User.email) == plan.admin["email"])
                              ).scalar()
    held = {s.module for s in user.seats} if user and user.active else set()
    state = licensing.current_state()
    for module in plan.admin["seats"]:
        if module not in installed:
            problems.append(f"admin.seats: there is no module called {module}")
        elif module not in wanted:
            problems.append(f"admin.seats: {module} is not in modules.load")
        elif module not in held and seats_used(module) >= state.seats_for(module):
            problems.append(f"admin.seats: no free seat in {module} (all "
                            f"{state.seats_for(module)} seats of the license are taken)")


def check(raw: dict, base: Path) -> Plan:
    """Check every section and value; ``DeployError`` lists everything that is wrong."""
    problems: list[str] = []
    _check_structure(raw, problems)
    plan = Plan()
    if not problems:
        _check_settings(raw, base, plan, problems)
        _check_modules(raw, plan, problems)
        _check_license(raw, base, plan, problems)
        _check_admin(raw, plan, problems)
    if problems:
        raise DeployError(problems)
    return plan


def _apply_admin(spec: dict, changes: list[str]) -> None:
    from core.admin.services import role_by_name
    from core.auth.models import Seat, User
    from core.auth.passwords import hash_password, verify_password
    from core.database import lock

    user = db.session.execute(select(User).where(func.lower(User.email) == spec["email"])
                              ).scalar()
    admin = role_by_name("admin")
    if user is None:
        user = User(email=spec["email"], name=spec["name"] or spec["email"].split("@")[0],
                    role=admin, active=True)
        db.session.add(user)
        changes.append(f"admin {spec['email']}: created")
    else:
        if user.role_id != admin.id or not user.active:
            user.role, user.active = admin, True
            changes.append(f"admin {spec['email']}: made an active admin")
        if spec["name"] and user.name != spec["name"]:
            user.name = spec["name"]
            changes.append(f"admin {spec['email']}: name set")
    if spec["password"] and not verify_password(user.password_hash, spec["password"]):
        user.password_hash = hash_password(spec["password"])
        user.invite_token_hash = None
        changes.append(f"admin {spec['email']}: password set")
    db.session.flush()
    held = {s.module for s in user.seats}
    for module in spec["seats"]:
        if module not in held:
            lock(f"seats:{module}")
            db.session.add(Seat(user_id=user.id, module=module))
            changes.append(f"admin {spec['email']}: seat in {module}")


def _install_license(text: str) -> None:
    """Install the license; its install commits, so it also commits everything before it."""
    from core.licensing import services
    from core.licensing.documents import LicenseError

    try:
        services.install(text, installed_by="deploy")
    except LicenseError as exc:
        raise DeployError([f"license.file: {exc}"]) from exc


def _modules_change(plan: Plan, changes: list[str]) -> dict | None:
    """The new deployment.json content when the module list changes, else None."""
    if plan.modules is None:
        return None
    path = deployment_file()
    current = json.loads(path.read_text()) if path.exists() else {}
    if current.get("CRM_MODULES") == plan.modules:
        return None
    changes.append(f"modules to load: {', '.join(plan.modules)} (restart the app to load them)")
    return {**current, "CRM_MODULES": plan.modules}


def apply(plan: Plan) -> list[str]:
    """Apply a checked plan in one transaction; returns what changed (empty: nothing)."""
    from core.admin import settings
    from core.audit import record

    changes: list[str] = []
    try:
        values = dict(plan.settings)
        if plan.logo is not None:
            values["company.logo"] = settings.store_logo(plan.logo)
        changes.extend(f"{key}: set" for key in settings.apply(values))
        if plan.admin:
            _apply_admin(plan.admin, changes)
        deployment = _modules_change(plan, changes)
        if plan.license_text:
            changes.append("license: installed")
        if changes:
            record("deploy.apply", target="deployment", detail={"changes": changes})
        if plan.license_text:
            _install_license(plan.license_text)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if deployment is not None:
        path = deployment_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(deployment, indent=2) + "\n")
        tmp.replace(path)
    return changes


def deploy(path: Path) -> list[str]:
    """Check and apply a deployment file; returns the changes."""
    from core.bootstrap import deployment_id, ensure_deployment

    if "core_setting" not in inspect(db.engine).get_table_names():
        raise DeployError(["database: it is empty; run `flask --app wsgi crm init` first"])
    if deployment_id() is None:
        ensure_deployment()
    plan = check(load(path), path.resolve().parent)
    return apply(plan)


@crm.command("deploy")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="The deployment.toml to apply.")
def deploy_command(config_path: Path):
    """Configure this deployment from a TOML file (idempotent)."""
    try:
        changes = deploy(config_path)
    except DeployError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise click.ClickException(
            f"{len(exc.problems)} problem(s) in {config_path}; nothing was changed") from exc
    if not changes:
        click.echo("nothing to change")
        return
    for change in changes:
        click.echo(f"changed: {change}")
