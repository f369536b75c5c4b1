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
