"""deploy/gunicorn.conf.py: settings from the environment and JSON access lines."""

import importlib.util
import json
import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

CONF = Path(__file__).resolve().parents[3] / "deploy" / "gunicorn.conf.py"


def _load(monkeypatch, **env):
    for name in ("BIND", "PORT", "GUNICORN_WORKERS", "WEB_CONCURRENCY", "GUNICORN_THREADS",
                 "GUNICORN_MAX_REQUESTS",
                 "CRM_LOG_JSON"):
        monkeypatch.setenv(name, "")  # records the value to put back, even "not set"
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("peyvand_gunicorn_conf", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_come_from_the_environment(monkeypatch):
    import os

    conf = _load(monkeypatch, PORT="9100", GUNICORN_WORKERS="3", GUNICORN_THREADS="8")
    assert (conf.bind, conf.workers, conf.threads) == ("127.0.0.1:9100", 3, 8)
    assert conf.worker_class == "gthread" and conf.preload_app is False
    assert conf.forwarded_allow_ips == "127.0.0.1,::1" and conf.accesslog == "-"
    assert os.environ["CRM_LOG_JSON"] == "1"
    assert conf.max_requests == 50000  # recycled now and then, not every few minutes
    conf = _load(monkeypatch, BIND="0.0.0.0:80", CRM_LOG_JSON="0", GUNICORN_MAX_REQUESTS="900")
    assert conf.bind == "0.0.0.0:80" and conf.workers == 2 * (os.cpu_count() or 1) + 1
    assert conf.max_requests == 900
    assert os.environ["CRM_LOG_JSON"] == "0"


def test_access_lines_are_json_with_the_request_id(monkeypatch):
    from gunicorn.config import Config

    conf = _load(monkeypatch)
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf.JsonAccessLogger(cfg)
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger.access_log.addHandler(handler)
    response = SimpleNamespace(status="404 NOT FOUND", sent=12,
                               headers=[("Content-Type", "text/html"),
                                        ("X-Request-ID", "abc-12345678")])
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/customers/7", "QUERY_STRING": "q=x",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": 'evil"}, "x": {"'}
    logger.access(response, SimpleNamespace(headers=[]), environ,
                  timedelta(milliseconds=42))
    (line,) = [json.loads(message) for message in seen]
    assert line["request_id"] == "abc-12345678" and line["status"] == 404
    assert (line["method"], line["path"], line["query"]) == ("GET", "/customers/7", "q=x")
    assert line["duration_ms"] == 42.0 and line["bytes"] == 12
    assert line["user_agent"] == 'evil"}, "x": {"'


def test_a_worker_freezes_what_building_the_app_made(monkeypatch):
    import gc

    conf = _load(monkeypatch)
    before = gc.get_freeze_count()
    try:
        conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > before + 10_000  # full collections skip the app
    finally:
        gc.unfreeze()
