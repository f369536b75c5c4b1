"""bench/load.py (benchmarks are not tests): its command line answers and its ceiling keeps
the page's data statements only."""

import pytest


def test_load_help_and_ceiling_statements(capsys):
    from bench import load

    with pytest.raises(SystemExit) as done:
        load.main(["--help"])
    assert done.value.code == 0
    assert "--smoke" in capsys.readouterr().out

    seen = [("SELECT core_user.id FROM core_user WHERE core_user.id = %(pk)s", {"pk": 1}),
            ("SELECT core_setting.value FROM core_setting WHERE key = %(k)s", {"k": "x"}),
            ("SELECT core_customer.id FROM core_customer LIMIT 26", {}),
            ("UPDATE core_user SET last_seen_at = now()", {}),
            ("WITH cards AS (SELECT 1) SELECT * FROM cards", {})]
    assert [s for s, _p in load._data_statements(seen)] == [
        "SELECT core_customer.id FROM core_customer LIMIT 26",
        "WITH cards AS (SELECT 1) SELECT * FROM cards"]


def test_floor_app_signs_in_runs_the_statements_and_renders(tmp_path, monkeypatch):
    """bench/floor.py's stack floor: Flask-Login user from the session, the recorded
    statements through Flask-SQLAlchemy, a page rendered with a CSRF token or JSON."""
    import pickle
    import sqlite3

    from bench import floor, load
    from bench.seed import ADMIN_EMAIL

    database = tmp_path / "floor.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE core_user (id INTEGER PRIMARY KEY, email TEXT, name TEXT)")
        conn.execute("INSERT INTO core_user VALUES (7, ?, 'مدیر')", (ADMIN_EMAIL,))
    queries = tmp_path / "q.pickle"
    statements = [[("SELECT 41 + 1 AS answer, 'x' AS word", {})]]
    queries.write_bytes(pickle.dumps({"0": statements, "1": statements}))
    monkeypatch.setenv(load.QUERIES_ENV, str(queries))
    monkeypatch.setenv("BENCH_FLOOR_KINDS", "0=page,1=api")
    monkeypatch.setenv("SECRET_KEY", "floor-test")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")

    client = floor.floor().test_client()
    assert client.get("/0/0").status_code == 401
    assert client.get("/login").status_code == 200
    page = client.get("/0/0").get_data(as_text=True)
    assert 'dir="rtl"' in page and "<td>42</td><td>x</td>" in page and "مدیر" in page
    assert 'name="csrf_token"' in page
    assert client.get("/1/0").get_json() == [[{"answer": "42", "word": "x"}]]
