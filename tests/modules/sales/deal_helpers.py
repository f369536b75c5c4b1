"""Helpers for the catalogue and pipeline tests: a pipeline, customers, products and deals
made through the services (plain functions; each opens its own request context)."""

from core.extensions import db

STAGES = (("سرنخ", 10), ("تماس اولیه", 25), ("ارائه", 50), ("مذاکره", 75))


def _user(email):
    from core.auth.models import User

    return db.session.query(User).filter_by(email=email).one() if email else None


def seed_pipeline(app, name="فروش", stages=STAGES) -> dict:
    """A pipeline; returns {"pipeline": id, "stages": [ids in order]}."""
    from modules.sales.pipeline import save_pipeline

    with app.test_request_context():
        pipeline = save_pipeline(None, name, [{"name": n, "probability": p} for n, p in stages])
        db.session.commit()
        return {"pipeline": pipeline.id, "stages": [s.id for s in pipeline.stages]}


def make_customer(app, owner_email=None, **fields) -> int:
    from core.customers.services import create_customer

    with app.test_request_context():
        fields.setdefault("kind", "person")
        fields.setdefault("last_name", "مشتری")
        customer = create_customer(by=_user(owner_email), **fields)
        db.session.commit()
        return customer.id


def make_product(app, **fields) -> int:
    from modules.sales.catalog import create_product

    with app.test_request_context():
        fields.setdefault("name", "کالا " + str(fields.get("code", "")))
        product = create_product(**fields)
        db.session.commit()
        return product.id


def make_deal(app, owner_email, customer_id, stage_id=None, **fields) -> int:
    from modules.sales.pipeline import create_deal

    with app.test_request_context():
        fields.setdefault("title", "معامله")
        if stage_id is not None:
            from modules.sales.models.pipeline import Stage

            fields["stage_id"] = stage_id
            fields["pipeline_id"] = db.session.get(Stage, stage_id).pipeline_id
        deal = create_deal(by=_user(owner_email), customer_id=customer_id, **fields)
        db.session.commit()
        return deal.id


def deal_row(app, deal_id):
    """The deal as stored (a fresh read, detached values as a dict)."""
    from modules.sales.models.pipeline import Deal

    with app.app_context():
        deal = db.session.get(Deal, deal_id)
        return None if deal is None else {**deal.to_dict(), "stage_name": deal.stage.name}


def bearer_for(app, email) -> dict:
    """An Authorization header with a new personal API token of ``email``."""
    from core.api.tokens import create_token

    with app.app_context():
        _token, secret = create_token(_user(email), "test", "read,write", None)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}
