"""The reseller's command line, end to end: keygen → certify → issue → install → show."""

import json

from core.licensing import crypto


def crm(runner, *args):
    result = runner.invoke(args=["crm", *map(str, args)])
    return result


def test_keygen_certify_issue_install_show(app, runner, tmp_path, deployment_id):
    vendor, reseller = tmp_path / "vendor", tmp_path / "reseller"
    assert crm(runner, "license", "keygen", "--out", vendor).exit_code == 0
    assert crm(runner, "license", "keygen", "--out", reseller).exit_code == 0
    public = (vendor / "key.public").read_text().strip()
    assert len(crypto.unb64(public, "key")) == 32
    assert (vendor / "key.private").stat().st_mode & 0o077 == 0
    again = crm(runner, "license", "keygen", "--out", vendor)
    assert again.exit_code != 0 and "refusing to overwrite" in again.output
    app.config["CRM_LICENSE_ROOT_KEYS"] = [public]

    cert = tmp_path / "reseller.cert"
    result = crm(runner, "license", "certify-reseller", "--root-key", vendor / "key.private",
                 "--reseller-public", reseller / "key.public", "--reseller-id", "r-7",
                 "--name", "Tehran Soft", "--modules", "sales,service", "--max-seats", 20,
                 "--valid-until", "2030-12-31", "--out", cert)
    assert result.exit_code == 0, result.output
    assert cert.read_text().startswith("-----BEGIN PEYVAND RESELLER CERTIFICATE-----")

    lic = tmp_path / "customer.lic"
    result = crm(runner, "license", "issue", "--reseller-key", reseller / "key.private",
                 "--reseller-cert", cert, "--licensee", "Pars Co", "--national-id", "10101234567",
                 "--deployment-id", deployment_id, "--modules", "sales:10,service:5",
                 "--kind", "subscription", "--expires", "2030-06-30", "--out", lic)
    assert result.exit_code == 0, result.output

    result = crm(runner, "license", "install", lic)
    assert result.exit_code == 0, result.output
    assert "License installed for Pars Co" in result.output

    shown = crm(runner, "license", "show", "--json")
    assert shown.exit_code == 0, shown.output
    info = json.loads(shown.output)
    assert info["kind"] == "subscription" and info["stage"] == "active"
    assert info["licensee"]["legal_name"] == "Pars Co"
    assert info["licensee"]["national_id"] == "10101234567"
    assert info["deployment_id"] == deployment_id
    assert info["issuer"] == {"id": "r-7", "name": "Tehran Soft"}
    assert info["modules"]["sales"]["licensed"] == 10
    assert info["modules"]["service"]["licensed"] == 5
    assert info["modules"]["marketing"]["licensed"] == 0
    assert info["expires_at"].startswith("2030-06-30T20:30")

    text = crm(runner, "license", "show")
    assert "Kind: subscription" in text.output and "sales" in text.output

    modules = json.loads(crm(runner, "modules", "--json").output)
    by_name = {row["name"]: row for row in modules}
    assert by_name["sales"]["active"] and by_name["sales"]["seats_licensed"] == 10
    assert not by_name["marketing"]["active"]
    assert "not licensed" in by_name["marketing"]["reason"]
    assert "needs sales" not in by_name["loyalty"]["reason"]
    assert set(by_name["sales"]) >= {"name", "version", "loaded", "active", "reason",
                                     "seats_used", "seats_licensed"}


def test_issue_refuses_more_than_the_certificate_allows(app, runner, tmp_path):
    vendor, reseller = tmp_path / "vendor", tmp_path / "reseller"
    crm(runner, "license", "keygen", "--out", vendor)
    crm(runner, "license", "keygen", "--out", reseller)
    cert = tmp_path / "r.cert"
    crm(runner, "license", "certify-reseller", "--root-key", vendor / "key.private",
        "--reseller-public", reseller / "key.public", "--reseller-id", "r-7", "--name", "TS",
        "--modules", "sales", "--max-seats", 5, "--valid-until", "2030-12-31", "--out", cert)
    common = ["--reseller-key", reseller / "key.private", "--reseller-cert", cert,
              "--licensee", "X", "--deployment-id", "abc", "--kind", "subscription",
              "--expires", "2030-01-01", "--out", tmp_path / "x.lic"]
    result = crm(runner, "license", "issue", *common, "--modules", "sales:6")
    assert result.exit_code != 0
    assert "may grant at most 5 seats per module, but sales has 6" in result.output
    result = crm(runner, "license", "issue", *common, "--modules", "sales:2,service:1")
    assert result.exit_code != 0 and "may not grant the module service" in result.output
    result = crm(runner, "license", "issue", *common, "--modules", "sales:two")
    assert result.exit_code != 0 and "must look like module:seats" in result.output
    assert not (tmp_path / "x.lic").exists()


def test_install_names_the_reason_for_another_deployment(app, runner, tmp_path):
    from tests.core.licensing.helpers import license_text

    path = tmp_path / "other.lic"
    path.write_text(license_text("91a0b2c3d4e5f60718293a4b5c6d7e8f"))
    result = crm(runner, "license", "install", path)
    assert result.exit_code != 0
    assert "this license is for deployment 91a0b2c3…, this deployment is" in result.output


def test_modules_plain_output(app, runner):
    result = crm(runner, "modules")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert any(line.startswith("sales") and "active" in line and "seats 0/3" in line
               for line in lines)
