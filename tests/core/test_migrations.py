"""One Alembic history: `crm init` builds exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from config import TestConfig
from core import create_app
from core.database import include_in_comparison
from core.extensions import db


@pytest.fixture
def empty_app(database_uri):
    uri, engine_options = database_uri
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri,
                     SQLALCHEMY_ENGINE_OPTIONS=engine_options)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_crm_init_migrates_an_empty_database_to_the_models(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["crm", "init"])
    assert result.exit_code == 0, result.output
    assert "Deployment id:" in result.output
    with empty_app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True,
                "include_object": include_in_comparison(conn)}), db.metadata)
        tables = set(inspect(db.engine).get_table_names())
    assert not diff, f"the migrations and the models disagree: {diff}"
    assert {"core_user", "core_license", "core_outbox", "core_tax_rate"} <= tables


def test_crm_init_twice_keeps_the_deployment_id(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["crm", "init"]).output.strip().split()[-1]
    second = runner.invoke(args=["crm", "init"]).output.strip().split()[-1]
    assert first == second and len(first) == 32


def test_crm_init_upgrades_a_database_at_the_first_migration_and_keeps_its_data(empty_app):
    """A deployment of the first release (revision 0001) with data is upgraded by `crm init`."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with empty_app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO core_customer (kind, display_name, first_name, last_name,"
                " legal_name, source, consent_email, consent_sms, custom, search_key,"
                " created_at, updated_at) VALUES ('person', 'مریم احمدی', 'مریم', 'احمدی',"
                " '', '', false, true, '{}', 'مریم احمدی', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"))
            before = set(inspect(conn).get_table_names())
        assert "loyalty_member" not in before and "accounting_link_entry" not in before
    result = empty_app.test_cli_runner().invoke(args=["crm", "init"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT display_name FROM core_customer")).scalars().all() \
                == ["مریم احمدی"]
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
                == "0003"
            diff = compare_metadata(MigrationContext.configure(conn, opts={
                "compare_type": True, "render_as_batch": True,
                "include_object": include_in_comparison(conn)}), db.metadata)
            tables = set(inspect(conn).get_table_names())
        assert not diff, f"the upgraded database and the models disagree: {diff}"
        assert {"loyalty_member", "loyalty_entry", "accounting_link_entry"} <= tables
        downgrade(revision="0001")  # and the way back leaves the first release's data alone
        with db.engine.connect() as conn:
            assert "loyalty_member" not in set(inspect(conn).get_table_names())
            assert conn.execute(text("SELECT count(*) FROM core_customer")).scalar() == 1
