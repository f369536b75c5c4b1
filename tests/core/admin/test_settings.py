"""Settings page: validation names the field and reason, secrets are never echoed, logo checks."""

import io
import json

import pytest

from tests.conftest import csrf_from

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

VALID = {
    "legal_name": "شرکت نمونه", "national_id": "۱۰۱۰۰۸۳۴۴۶۰", "economic_code": "411111111111",
    "address": "تهران", "postal_code": "1598714711", "language": "fa", "unit": "toman",
    "year_start_month": "1", "smtp_host": "127.0.0.1", "smtp_port": "2525",
    "smtp_username": "crm", "smtp_password": "s3cret-smtp", "smtp_tls": "none",
    "smtp_from": "crm@example.ir", "sms_provider": "", "sms_config": "",
}


@pytest.fixture
def admin_client(client, make_user, login):
    """An admin whose pages are in English, so messages can be asserted word for word."""
    make_user(locale="en")
    login()
    return client


def _post(client, **changes):
    page = client.get("/admin/settings")
    data = {**VALID, **changes, "csrf_token": csrf_from(page)}
    return client.post("/admin/settings", data=data, content_type="multipart/form-data")


def _stored(app, key):
    from core.database import get_setting

    with app.app_context():
        return get_setting(key)


def test_valid_settings_are_saved_and_password_never_echoed(app, admin_client):
    response = _post(admin_client)
    assert response.status_code == 302
    assert _stored(app, "company.national_id") == "10100834460"
    assert _stored(app, "display.unit") == "toman"
    assert _stored(app, "smtp.password") == "s3cret-smtp"
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert "s3cret-smtp" not in page
    # an empty password field keeps the stored password
    assert _post(admin_client, smtp_password="").status_code == 302
    assert _stored(app, "smtp.password") == "s3cret-smtp"


@pytest.mark.parametrize("field, value, message", [
    ("national_id", "1234", "1234 is not a valid national id (11 digits with a check digit)"),
    ("postal_code", "12345", "12345 is not a postal code: it must have 10 digits"),
    ("economic_code", "abc", "abc is not an economic code"),
    ("smtp_port", "99999", "99999 is not a whole number from 1 to 65535"),
    ("smtp_from", "not-an-address", "not-an-address is not an email address"),
    ("sms_config", "{broken", "is not valid JSON"),
])
def test_wrong_values_are_named_and_nothing_is_saved(app, admin_client, field, value, message):
    response = _post(admin_client, **{field: value})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _stored(app, "company.legal_name") is None


def test_wrong_value_is_named_in_persian_for_the_default_language(app, client, make_user,
                                                                  login):
    make_user()  # no language of their own: the deployment default, Persian
    login()
    response = _post(client, postal_code="12345")
    assert response.status_code == 422
    assert "12345 کد پستی نیست: باید ۱۰ رقم داشته باشد" in response.get_data(as_text=True)
    assert _stored(app, "company.legal_name") is None


def test_logo_is_checked_by_content_and_size(app, admin_client):
    fake = _post(admin_client, logo=(io.BytesIO(b"GIF89a not really"), "logo.png"))
    assert fake.status_code == 422
    assert "the logo must be a PNG or JPEG image" in fake.get_data(as_text=True)
    app.config["CRM_LOGO_MAX_BYTES"] = 16
    big = _post(admin_client, logo=(io.BytesIO(PNG), "logo.png"))
    assert big.status_code == 422 and "larger than" in big.get_data(as_text=True)
    app.config["CRM_LOGO_MAX_BYTES"] = 1024
    ok = _post(admin_client, logo=(io.BytesIO(PNG), "logo.png"))
    assert ok.status_code == 302
    name = _stored(app, "company.logo")
    assert name.endswith(".png")
    served = admin_client.get("/admin/logo")
    assert served.status_code == 200 and served.data == PNG


def test_sms_secrets_are_masked(app, admin_client):
    config = {"url": "http://127.0.0.1:9/send", "api_key": "k-123"}
    assert _post(admin_client, sms_provider="generic",
                 sms_config=json.dumps(config)).status_code == 302
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert "k-123" not in page and "127.0.0.1:9/send" in page
    masked = json.dumps({"url": "http://127.0.0.1:9/other", "api_key": "********"})
    assert _post(admin_client, sms_provider="generic",
                 sms_config=masked).status_code == 302
    assert _stored(app, "sms.config") == {"url": "http://127.0.0.1:9/other", "api_key": "k-123"}
