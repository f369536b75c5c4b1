"""``flask crm import customers FILE [--dry-run] [--report F] [--owner EMAIL]``."""

import csv

from sqlalchemy import func, select

from core.customers.models import Customer
from core.extensions import db
from tests.core.customers.test_import import ROWS, write_csv


def customer_count(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Customer)).scalar()


def test_import_prints_progress_and_each_rejected_row(app, runner, tmp_path):
    path = write_csv(tmp_path, ROWS)
    report = tmp_path / "rejected.csv"
    result = runner.invoke(args=["crm", "import", "customers", str(path), "--report",
                                 str(report)])
    assert result.exit_code == 0, result.output
    assert "Checking and importing" in result.stderr  # the progress bar
    assert "نام -> First name" in result.stderr  # the guessed mapping
    lines = result.stdout.splitlines()
    assert "line 3: Mobile: 0912 is not an Iranian mobile number" in lines[1]
    assert [line.split(":")[0].strip() for line in lines[1:5]] == [
        "line 3", "line 4", "line 5", "line 6"]
    assert ("6 rows: 2 customers were created, 0 updated, 0 already up to date, "
            "4 rows rejected.") in result.stdout
    with open(report, newline="", encoding="utf-8-sig") as handle:
        assert [row[0] for row in csv.reader(handle)] == ["Line", "3", "4", "5", "6"]
    assert customer_count(app) == 2

    again = runner.invoke(args=["crm", "import", "customers", str(path)])
    assert "0 customers were created, 0 updated, 2 already up to date" in again.stdout
    assert customer_count(app) == 2


def test_dry_run_writes_nothing(app, runner, tmp_path):
    path = write_csv(tmp_path, ROWS)
    result = runner.invoke(args=["crm", "import", "customers", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 customers would be created" in result.stdout and "dry run" in result.stdout
    assert customer_count(app) == 0


def test_a_broken_file_exits_non_zero_and_imports_nothing(app, runner, tmp_path):
    path = write_csv(tmp_path, [*ROWS[:3], "بهرام,بهرامی,09120000000"])
    result = runner.invoke(args=["crm", "import", "customers", str(path)])
    assert result.exit_code != 0
    assert "Line 5 has 3 values but the first line names 9 columns" in result.stderr
    assert "Nothing was imported" in result.stderr
    assert customer_count(app) == 0


def test_owner_owns_the_new_customers(app, runner, tmp_path, make_user):
    owner = make_user("agent@example.ir", role="agent")
    path = write_csv(tmp_path, ROWS)
    result = runner.invoke(args=["crm", "import", "customers", str(path), "--owner",
                                 "agent@example.ir"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert set(db.session.execute(select(Customer.owner_id)).scalars()) == {owner}
    unknown = runner.invoke(args=["crm", "import", "customers", str(path), "--owner", "x@y.ir"])
    assert unknown.exit_code != 0 and "There is no user x@y.ir" in unknown.stderr
