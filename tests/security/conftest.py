"""Security suite: one app and one database per test file, demo data, a signed-in client per role.

Built once per file (not per test) so the endpoint matrix stays fast: the demo data gives real
rows to open, a full license gives every role a seat in every module, and each role keeps its
own test client (UI, session cookie) and personal access token (API, bearer).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import template_rendered

from config import TestConfig
from core import create_app
from core.extensions import db
from core.licensing import crypto, documents
from tests.conftest import PG_URL, _drop_schema, _fresh_postgres_schema, csrf_from

PASSWORD = "correct horse battery"
ROOT = crypto.generate_key()
RESELLER = crypto.generate_key()
ALL_MODULES = ("sales", "service", "marketing", "loyalty", "accounting_link")
# The principals of the matrix: the three built-in roles, a user without any seat, anonymous.
ROLES = ("admin", "manager", "agent")
PRINCIPALS = (*ROLES, "noseat", "anonymous")


def license_for(deployment_id: str, modules) -> str:
    """A license valid today for ``modules`` (50 seats each), signed by our test reseller."""
    today = datetime.now(UTC).date()
    cert = documents.certify_reseller(
        ROOT, reseller_id="r-sec", name="Security Suite", modules=list(ALL_MODULES),
        reseller_public=crypto.public_key_text(RESELLER), max_seats=50,
        valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=3 * 365))
    return documents.issue_license(
        RESELLER, cert, licensee="شرکت آزمون امنیت", national_id="10101234567",
        economic_code="411111111111", deployment_id=deployment_id,
        modules={name: 50 for name in modules}, kind="subscription",
        expires=date.today() + timedelta(days=365))


@dataclass
class Principal:
    name: str
    client: object
    user_id: int | None = None
    token: str | None = None

    def api_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class World:
    """The shared app of one test file and its signed-in principals."""

    app: object
    principals: dict = field(default_factory=dict)
    templates: list = field(default_factory=list)

    def install(self, modules) -> None:
        """Install a license covering exactly ``modules`` (the others become inactive)."""
        from core.bootstrap import deployment_id
        from core.licensing.services import install

        with self.app.app_context():
            install(license_for(deployment_id(), modules), installed_by="security suite")

    def get(self, who: str, url: str, **kwargs):
        """GET as a principal: the bearer token on /api/, the session cookie elsewhere."""
        principal = self.principals[who]
        headers = principal.api_headers() if url.startswith("/api/") else {}
        del self.templates[:]
        return principal.client.get(url, headers=headers, **kwargs)


def build_world(tmp_path_factory, request, demo=True, setup=None, **overrides) -> World:
    """The app of one test file; ``setup(app)`` runs before its first request."""
    tmp = tmp_path_factory.mktemp("security")
    if PG_URL:
        url, schema = _fresh_postgres_schema(PG_URL)
        request.addfinalizer(lambda: _drop_schema(url, schema))
        uri, options = url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        uri, options = f"sqlite:///{tmp / 'crm.db'}", {}
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                     CRM_UPLOAD_DIR=str(tmp / "uploads"),
                     CRM_LICENSE_ROOT_KEYS=[crypto.public_key_text(ROOT)], **overrides)
    if setup is not None:
        setup(app)
    world = World(app)
    world.upload_dir = tmp / "uploads"
    with app.app_context():
        db.create_all()
        from core.bootstrap import ensure_deployment

        ensure_deployment()
    world.install(ALL_MODULES)
    with app.app_context():
        if demo:
            from core.demo import load_demo

            load_demo(app)
        from core.admin.services import create_or_update_user
        from core.api.tokens import create_token

        for name in (*ROLES, "noseat"):
            role = "agent" if name == "noseat" else name
            seats = () if name == "noseat" else ALL_MODULES
            user = create_or_update_user(email=f"{name}@security.example.ir", password=PASSWORD,
                                         role_name=role, seats=list(seats), locale="en")
            _token, secret = create_token(user, name="security", scopes=("read", "write"))
            db.session.commit()
            world.principals[name] = Principal(name, app.test_client(), user.id, secret)
    world.principals["anonymous"] = Principal("anonymous", app.test_client())
    for name in (*ROLES, "noseat"):
        sign_in(world.principals[name].client, f"{name}@security.example.ir")

    def remember(sender, template, context, **extra):
        world.templates.append(template.name)

    template_rendered.connect(remember, app)
    request.addfinalizer(lambda: template_rendered.disconnect(remember, app))

    def dispose():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    request.addfinalizer(dispose)
    return world


def sign_in(client, email: str, password: str = PASSWORD):
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={
        "email": email, "password": password, "csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture(scope="module")
def world(tmp_path_factory, request) -> World:
    """One app per test file with demo data, a full license and a client per principal."""
    return build_world(tmp_path_factory, request)
