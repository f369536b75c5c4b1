"""``crm deploy``: one idempotent step, every wrong value named, nothing half-applied."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.core.licensing.helpers import BASE, ROOT_PUBLIC, Clock, license_text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def app_overrides(tmp_path):
    return {"CRM_LICENSE_ROOT_KEYS": [ROOT_PUBLIC], "CRM_NOW": Clock(BASE),
            "CRM_DEPLOYMENT_FILE": str(tmp_path / "instance" / "deployment.json")}


@pytest.fixture
def deployment_id(app):
    from core.bootstrap import deployment_id as current
    from core.database import set_setting
    from core.extensions import db

    with app.app_context():
        set_setting("deployment.initialised_at", BASE.isoformat())
        db.session.commit()
        return current()


GOOD = """
[company]
legal_name = "شرکت بازرگانی نمونه پیوند"
national_id = "10100834460"
economic_code = "411111111111"
address = "تهران، خیابان ولیعصر"
postal_code = "۱۵۹۸۷۱۴۷۱۱"
logo = "logo.png"

[display]
language = "fa"
currency = "IRR"
unit = "toman"

[fiscal]
year_start_month = 1

[modules]
load = ["sales", "service"]

[license]
file = "customer.license"

[admin]
email = "Admin@Peyvand.local"
name = "مدیر سامانه"
password_env = "DEPLOY_TEST_ADMIN_PASSWORD"
seats = ["sales"]

[smtp]
host = "127.0.0.1"
port = 2525
username = "crm"
password = "smtp-secret"
tls = false
from = "Peyvand <crm@peyvand.local>"

[sms]
provider = "generic"

[sms.config]
url = "http://127.0.0.1:9/send"
"""


@pytest.fixture
def deploy_file(tmp_path, deployment_id, monkeypatch):
    monkeypatch.setenv("DEPLOY_TEST_ADMIN_PASSWORD", "a long admin password")
    (tmp_path / "logo.png").write_bytes(PNG)
    (tmp_path / "customer.license").write_text(license_text(deployment_id,
                                                            modules={"sales": 5, "service": 2}))

    def write(text=GOOD, name="deployment.toml"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def _audit_count(app) -> int:
    from core.audit import AuditLog
    from core.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count(AuditLog.id))).scalar_one()


def test_deploy_applies_everything_then_changes_nothing(app, runner, deploy_file, tmp_path):
    path = deploy_file()
    first = runner.invoke(args=["crm", "deploy", "--config", str(path)])
    assert first.exit_code == 0, first.output
    assert "company.national_id: set" in first.output
    assert "license: installed" in first.output
    assert "admin admin@peyvand.local: created" in first.output
    with app.app_context():
        from core.admin.settings import current
        from core.auth.models import User
        from core.auth.passwords import verify_password
        from core.extensions import db
        from core.licensing import current_state

        values = current()
        assert values["company.legal_name"] == "شرکت بازرگانی نمونه پیوند"
        assert values["company.postal_code"] == "1598714711"  # Persian digits accepted
        assert values["display.unit"] == "toman"
        assert values["smtp.tls"] == "none" and values["smtp.port"] == 2525
        assert values["sms.config"] == {"url": "http://127.0.0.1:9/send"}
        assert (Path(app.config["CRM_UPLOAD_DIR"]) / values["company.logo"]).read_bytes() == PNG
        admin = db.session.execute(select(User).where(User.email == "admin@peyvand.local")
                                   ).scalar_one()
        assert admin.role.name == "admin" and admin.seat_modules == {"sales"}
        assert verify_password(admin.password_hash, "a long admin password")
        assert current_state().kind == "subscription"
    written = json.loads((tmp_path / "instance" / "deployment.json").read_text())
    assert written == {"CRM_MODULES": ["sales", "service"]}

    entries = _audit_count(app)
    second = runner.invoke(args=["crm", "deploy", "--config", str(path)])
    assert second.exit_code == 0, second.output
    assert second.output.strip() == "nothing to change"
    assert _audit_count(app) == entries


def test_deployment_file_is_read_by_create_app(tmp_path):
    from config import from_deployment_file

    path = tmp_path / "deployment.json"
    assert from_deployment_file(path) == {}
    path.write_text('{"CRM_MODULES": ["sales"]}')
    assert from_deployment_file(path) == {"CRM_MODULES": ["sales"]}


def test_a_changed_value_is_applied_alone(app, runner, deploy_file):
    runner.invoke(args=["crm", "deploy", "--config", str(deploy_file())])
    changed = deploy_file(GOOD.replace('unit = "toman"', 'unit = "rial"'))
    result = runner.invoke(args=["crm", "deploy", "--config", str(changed)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "changed: display.unit: set"


@pytest.mark.parametrize("replace, message", [
    (('national_id = "10100834460"', 'national_id = "1234"'),
     "company.national_id: 1234 is not a valid national id (11 digits with a check digit)"),
    (('national_id = "10100834460"', 'national_id = "10100834461"'),
     "company.national_id: 10100834461 is not a valid national id"),
    (('unit = "toman"', 'unit = "dollar"'), "display.unit: dollar is not one of rial, toman"),
    (("year_start_month = 1", "year_start_month = 13"),
     "fiscal.year_start_month: 13 is not a whole number from 1 to 12"),
    (('load = ["sales", "service"]', 'load = ["sales", "crystal_ball"]'),
     "modules.load: CRM_MODULES names unknown module(s): crystal_ball"),
    (('load = ["sales", "service"]', 'load = ["loyalty"]'),
     "modules.load: loyalty needs sales"),
    (("[fiscal]", "[fiscal]\nyear_end_month = 12"), "fiscal.year_end_month: unknown key"),
    (("[sms]", "[printer]\nmodel = 1\n[sms]"), "printer: unknown section"),
    (('password_env = "DEPLOY_TEST_ADMIN_PASSWORD"', 'password = "short"'),
     "admin.password: is shorter than 10 characters"),
    (('password_env = "DEPLOY_TEST_ADMIN_PASSWORD"', 'password_env = "NOT_SET_ANYWHERE_42"'),
     "admin.password_env: the environment variable NOT_SET_ANYWHERE_42 is not set"),
    (('logo = "logo.png"', 'logo = "customer.license"'),
     "company.logo: the logo must be a PNG or JPEG image"),
    (('file = "customer.license"', 'file = "logo.png"'), "license.file:"),
    (('seats = ["sales"]', 'seats = ["loyalty"]'), "admin.seats: loyalty is not in modules.load"),
    (('password_env = "DEPLOY_TEST_ADMIN_PASSWORD"', ''),
     "admin.password: admin@peyvand.local has no account yet, so it needs a password"),
    (('provider = "generic"', 'provider = "pigeon"'),
     "sms.provider: pigeon is not an SMS gateway Peyvand knows"),
    (('url = "http://127.0.0.1:9/send"', 'method = "PUT"'), "sms.config: the generic gateway "
     "needs url"),
    (("tls = false", 'tls = "maybe"'), "smtp.tls: maybe is not one of starttls, ssl, none"),
])
def test_a_wrong_value_is_named_and_nothing_is_applied(app, runner, deploy_file, tmp_path,
                                                       replace, message):
    entries = _audit_count(app)
    result = runner.invoke(args=["crm", "deploy", "--config",
                                 str(deploy_file(GOOD.replace(*replace)))])
    assert result.exit_code != 0
    assert message in result.output
    assert "nothing was changed" in result.output
    assert _audit_count(app) == entries
    with app.app_context():
        from core.database import get_setting

        assert get_setting("company.legal_name") is None
    assert not (tmp_path / "instance" / "deployment.json").exists()


def test_every_problem_is_reported_at_once(runner, deploy_file):
    text = GOOD.replace('unit = "toman"', 'unit = "x"').replace('postal_code = "۱۵۹۸۷۱۴۷۱۱"',
                                                                 'postal_code = "12"')
    result = runner.invoke(args=["crm", "deploy", "--config", str(deploy_file(text))])
    assert "display.unit:" in result.output and "company.postal_code:" in result.output
    assert "2 problem(s)" in result.output


def test_a_license_for_another_deployment_is_refused(app, runner, deploy_file, tmp_path):
    (tmp_path / "other.license").write_text(license_text("f" * 32))
    result = runner.invoke(args=["crm", "deploy", "--config", str(
        deploy_file(GOOD.replace('file = "customer.license"', 'file = "other.license"')))])
    assert result.exit_code != 0
    assert "license.file:" in result.output and "deployment" in result.output
    with app.app_context():
        from core.licensing import current_state

        assert current_state().kind == "trial"


def test_malformed_toml_names_the_file(runner, deploy_file):
    result = runner.invoke(args=["crm", "deploy", "--config", str(deploy_file("[company\n"))])
    assert result.exit_code != 0 and "not valid TOML" in result.output
