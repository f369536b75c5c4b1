"""``flask crm license ...`` for vendors and resellers, and ``flask crm modules``."""

import json
import os
from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from core.cli import crm
from core.licensing import crypto, documents
from core.licensing.crypto import DocumentError

license_cli = AppGroup("license", help="Keys, reseller certificates and customer licenses.")


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from core.i18n import to_latin_digits

    try:
        return date.fromisoformat(to_latin_digits(value.strip()))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-20", param_hint=option) \
            from exc


def _known_modules(names: list[str], option: str) -> None:
    from core.modules import discover

    installed = discover()
    unknown = [name for name in names if name not in installed]
    if unknown:
        raise click.BadParameter(f"unknown module(s) {', '.join(unknown)}; installed: "
                                 f"{', '.join(sorted(installed))}", param_hint=option)


def parse_module_seats(text: str) -> dict[str, int]:
    """``sales:10,service:5`` → ``{"sales": 10, "service": 5}``."""
    result = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, seats = part.partition(":")
        if not seats.strip().isdigit():
            raise click.BadParameter(f"{part!r} must look like module:seats, e.g. sales:10",
                                     param_hint="--modules")
        result[name.strip()] = int(seats)
    if not result:
        raise click.BadParameter("name at least one module, e.g. sales:10", param_hint="--modules")
    return result


def _write(path: str, text: str, private: bool = False) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    if private:
        os.chmod(target, 0o600)


def _fail(exc: Exception):
    raise click.ClickException(str(exc)) from exc


@license_cli.command("keygen")
@click.option("--out", "out", required=True, help="Directory for key.private and key.public.")
def keygen(out):
    """Create an Ed25519 key pair: DIR/key.private and DIR/key.public (base64 raw)."""
    folder = Path(out)
    if (folder / "key.private").exists():
        raise click.ClickException(f"{folder / 'key.private'} exists; refusing to overwrite a key")
    key = crypto.generate_key()
    _write(str(folder / "key.private"), crypto.private_key_text(key) + "\n", private=True)
    _write(str(folder / "key.public"), crypto.public_key_text(key) + "\n")
    click.echo(f"Public key: {crypto.public_key_text(key)}")


@license_cli.command("certify-reseller")
@click.option("--root-key", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--reseller-public", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--reseller-id", required=True)
@click.option("--name", required=True)
@click.option("--modules", required=True, help="Modules the reseller may sell: a,b")
@click.option("--max-seats", required=True, type=int, help="Most seats per module per license.")
@click.option("--max-total-seats", type=int, default=None, help="Most seats in one license.")
@click.option("--valid-from", default=None, help="YYYY-MM-DD (default today)")
@click.option("--valid-until", required=True, help="YYYY-MM-DD")
@click.option("--out", required=True)
def certify_reseller(root_key, reseller_public, reseller_id, name, modules, max_seats,
                     max_total_seats, valid_from, valid_until, out):
    """Sign a reseller certificate with the vendor root key."""
    names = [m.strip() for m in modules.split(",") if m.strip()]
    _known_modules(names, "--modules")
    try:
        text = documents.certify_reseller(
            crypto.load_private_key(root_key), reseller_id=reseller_id, name=name,
            reseller_public=Path(reseller_public).read_text(encoding="ascii").strip(),
            modules=names, max_seats=max_seats, max_total_seats=max_total_seats,
            valid_from=_date(valid_from, "--valid-from"),
            valid_until=_date(valid_until, "--valid-until"))
    except DocumentError as exc:
        _fail(exc)
    _write(out, text)
    click.echo(f"Reseller certificate for {name} ({reseller_id}) written to {out}")


@license_cli.command("issue")
@click.option("--reseller-key", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--reseller-cert", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--licensee", required=True, help="The customer's legal name.")
@click.option("--national-id", default="", help="The customer's national id (شناسه ملی).")
@click.option("--economic-code", default="", help="The customer's economic code.")
@click.option("--deployment-id", required=True)
@click.option("--modules", required=True, help="module:seats,... e.g. sales:10,service:5")
@click.option("--kind", required=True, type=click.Choice(documents.KINDS))
@click.option("--expires", default=None, help="YYYY-MM-DD (not needed for perpetual)")
@click.option("--grace-days", default=14, show_default=True, type=int)
@click.option("--not-before", default=None, help="YYYY-MM-DD (default today)")
@click.option("--updates-until", default=None, help="YYYY-MM-DD, for perpetual licenses")
@click.option("--out", required=True)
def issue(reseller_key, reseller_cert, licensee, national_id, economic_code, deployment_id,
          modules, kind, expires, grace_days, not_before, updates_until, out):
    """Sign a customer license with the reseller's key, bound to one deployment."""
    seats = parse_module_seats(modules)
    _known_modules(list(seats), "--modules")
    try:
        text = documents.issue_license(
            crypto.load_private_key(reseller_key), Path(reseller_cert).read_text(encoding="utf-8"),
            licensee=licensee, national_id=national_id, economic_code=economic_code,
            deployment_id=deployment_id, modules=seats, kind=kind,
            expires=_date(expires, "--expires"), grace_days=grace_days,
            not_before=_date(not_before, "--not-before"),
            updates_until=_date(updates_until, "--updates-until"))
    except DocumentError as exc:
        _fail(exc)
    _write(out, text)
    click.echo(f"License for {licensee} written to {out}")


@license_cli.command("revoke-list")
@click.option("--root-key", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--sequence", required=True, type=int, help="Higher than the last list's number.")
@click.option("--license", "licenses", multiple=True, help="License id to revoke (repeatable).")
@click.option("--reseller", "resellers", multiple=True, help="Reseller id to revoke (repeatable).")
@click.option("--out", required=True)
def revoke_list(root_key, sequence, licenses, resellers, out):
    """Sign a revocation list with the vendor root key (install it like a license)."""
    try:
        text = documents.make_revocations(crypto.load_private_key(root_key), sequence=sequence,
                                          licenses=licenses, resellers=resellers)
    except DocumentError as exc:
        _fail(exc)
    _write(out, text)
    click.echo(f"Revocation list {sequence} written to {out}")


@license_cli.command("install")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def install(file):
    """Install a license (or a revocation list) on this deployment."""
    from core.licensing.services import install as install_document

    try:
        result = install_document(Path(file).read_bytes(), installed_by="cli")
    except DocumentError as exc:
        _fail(exc)
    click.echo(result.message)


@license_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(as_json):
    """Show the license in force, its stage and the seats per module."""
    from core.licensing.services import overview

    info = overview()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    licensee = (info["licensee"] or {}).get("legal_name") or "-"
    click.echo(f"Deployment id: {info['deployment_id']}")
    click.echo(f"Kind: {info['kind']}   stage: {info['stage']}   licensee: {licensee}")
    click.echo(f"Expires: {info['expires_at'] or 'never'}   grace until: "
               f"{info['grace_until'] or '-'}")
    if info["updates_until"]:
        click.echo(f"Updates until: {info['updates_until']}")
    for line in filter(None, (info["reason"], info["notice"])):
        click.echo(line)
    for name, row in info["modules"].items():
        click.echo(f"  {name:<16} seats {row['used']}/{row['licensed']}")


@crm.command("modules")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def modules_command(as_json):
    """Each module: name, version, loaded, active, reason, seats used/licensed."""
    from core.licensing.services import module_rows

    rows = module_rows()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']:<16} {row['version']:<8} "
                   f"{'loaded' if row['loaded'] else 'not loaded':<11} "
                   f"{'active' if row['active'] else 'inactive':<9} "
                   f"seats {row['seats_used']}/{row['seats_licensed']}  {row['reason']}")


def register() -> None:
    crm.add_command(license_cli)
