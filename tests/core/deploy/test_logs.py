"""Request ids and JSON logs: one line per request, carrying the id the response echoes."""

import json

import pytest

from core import logs


@pytest.fixture
def app_overrides():
    return {"CRM_LOG_JSON": True}


@pytest.fixture(autouse=True)
def _no_json_handler_afterwards():
    yield
    logs.remove_json_handler()


def _lines(capsys) -> list[dict]:
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_request_writes_one_json_line_with_the_response_request_id(app, client, capsys):
    capsys.readouterr()
    response = client.get("/healthz")
    rid = response.headers["X-Request-ID"]
    assert len(rid) == 32
    lines = [line for line in _lines(capsys) if line.get("request_id") == rid]
    assert len(lines) == 1
    line = lines[0]
    assert line["logger"] == "peyvand.request" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert line["message"] == "GET /healthz 200"
    assert line["remote_addr"] == "127.0.0.1" and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00") and "user_id" not in line


def test_the_line_names_the_signed_in_user(app, client, make_user, login, capsys):
    user_id = make_user()
    login()
    capsys.readouterr()
    response = client.get("/admin/", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert response.headers["X-Request-ID"] == "lb-7f3a9c21-0001"
    (line,) = [line for line in _lines(capsys) if line.get("request_id") == "lb-7f3a9c21-0001"]
    assert line["user_id"] == str(user_id) and line["status"] == 200


def test_garbage_request_ids_are_replaced(client, capsys):
    for garbage in ("short", "x" * 200, "abc def ghi jkl", "id;Set-Cookie:a=b",
                    "<script>alert(1)</script>"):
        response = client.get("/healthz", headers={"X-Request-ID": garbage})
        rid = response.headers["X-Request-ID"]
        assert rid != garbage and logs.VALID_REQUEST_ID.fullmatch(rid)
        assert [line["request_id"] for line in _lines(capsys)
                if line["logger"] == "peyvand.request"] == [rid]


def test_log_lines_inside_a_request_carry_its_id(app, capsys):
    with app.test_request_context("/x", headers={"X-Request-ID": "req-123456789"}):
        app.preprocess_request()
        app.logger.warning("something odd with %s", "Sara")
    (line,) = _lines(capsys)
    assert line["message"] == "something odd with Sara" and line["level"] == "WARNING"
    assert line["request_id"] == "req-123456789" and line["path"] == "/x"


def test_json_logs_are_off_unless_asked(database_uri, tmp_path, capsys):
    from config import TestConfig
    from core import create_app

    logs.remove_json_handler()
    uri, options = database_uri
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options)
    assert app.config["CRM_LOG_JSON"] is False
    response = app.test_client().get("/healthz")
    assert response.headers["X-Request-ID"]
    assert capsys.readouterr().out == ""


def test_removing_the_handler_puts_the_log_levels_back(app):
    import logging

    root = logging.getLogger()
    (handler,) = [h for h in root.handlers if getattr(h, "crm_json", False)]
    before = handler.crm_previous_levels[""]
    assert root.level == logging.INFO
    assert logging.getLogger("weasyprint").level == logging.WARNING
    logs.remove_json_handler()
    assert not any(getattr(h, "crm_json", False) for h in root.handlers)
    assert root.level == before and logging.getLogger("weasyprint").level == logging.NOTSET
