"""Pipeline rules: pipelines and stages, deals, moving them, winning and losing them.

Functions take plain arguments and never touch ``request``; the caller commits (and checks
record scope: these functions act on the records they are given). Every change to a deal is
written to its history (``DealActivity``) besides the automatic audit log; moves and closes
also get an explicit audit entry naming the stages or the outcome.
"""

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from core import audit
from core.database import utcnow
from core.extensions import db
from core.i18n import normalize, parse_jalali_date, parse_number
from modules.sales.models.pipeline import (
    ACTIVITY_KINDS,
    Deal,
    DealActivity,
    DealLine,
    Pipeline,
    Stage,
)

DEAL_FIELDS = {"title", "customer_id", "pipeline_id", "stage_id", "value", "currency",
               "expected_close", "owner_id", "team_id", "source", "campaign"}
_TEXT = ("title", "source", "campaign")


class PipelineError(ValueError):
    """The pipeline or deal data is invalid; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# --- pipelines and stages ------------------------------------------------------------------

def pipelines() -> list[Pipeline]:
    """Every pipeline, in menu order."""
    return list(db.session.execute(
        select(Pipeline).order_by(Pipeline.position, Pipeline.id)).scalars())


def default_pipeline() -> Pipeline | None:
    return db.session.execute(
        select(Pipeline).order_by(Pipeline.position, Pipeline.id).limit(1)).scalar()


def _percent(value, name: str, errors: dict) -> int | None:
    try:
        pct = value if isinstance(value, int) else parse_number(str(value))
    except ValueError as exc:
        errors[name] = str(exc)
        return None
    if not 0 <= pct <= 100:
        errors[name] = _("A probability is between 0 and 100 percent.")
        return None
    return int(pct)


def save_pipeline(pipeline: Pipeline | None, name: str, stages: list[dict]) -> Pipeline:
    """Create or change a pipeline and its stages, in the given order.

    ``stages``: dicts with ``name``, ``probability`` (0-100) and, for an existing stage,
    ``id``. An existing stage left out is removed, unless deals are in it.
    """
    errors: dict[str, str] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("Give the pipeline a name.")
    elif db.session.execute(select(Pipeline.id).where(
            Pipeline.name == name, Pipeline.id != (pipeline.id if pipeline else 0))).first():
        errors["name"] = _("Another pipeline already has this name.")
    cleaned = []
    for i, stage in enumerate(stages):
        stage_name = " ".join((stage.get("name") or "").split())
        if not stage_name:
            continue
        pct = _percent(stage.get("probability", 0) or 0, f"stages-{i}-probability", errors)
        cleaned.append((stage.get("id"), stage_name, pct or 0))
    if not cleaned:
        errors["stages"] = _("A pipeline needs at least one stage.")
    if len({n for _i, n, _p in cleaned}) != len(cleaned):
        errors["stages"] = _("Two stages have the same name.")
    existing = {s.id: s for s in (pipeline.stages if pipeline else [])}
    kept = {int(i) for i, _n, _p in cleaned if i}
    if kept - set(existing):
        errors["stages"] = _("A stage does not belong to this pipeline.")
    removed = [s for sid, s in existing.items() if sid not in kept]
    if removed and db.session.execute(select(Deal.id).where(
            Deal.stage_id.in_([s.id for s in removed])).limit(1)).first():
        errors["stages"] = _("A stage with deals in it cannot be removed; move its deals first.")
    if errors:
        raise PipelineError(errors)
    if pipeline is None:
        position = db.session.execute(select(func.max(Pipeline.position))).scalar()
        pipeline = Pipeline(name=name, position=(position or 0) + 1)
        db.session.add(pipeline)
    pipeline.name = name
    for stage in removed:
        pipeline.stages.remove(stage)
    for position, (sid, stage_name, pct) in enumerate(cleaned):
        stage = existing.get(int(sid)) if sid else None
        if stage is None:
            stage = Stage(name=stage_name)
            pipeline.stages.append(stage)
        stage.name, stage.probability, stage.position = stage_name, pct, position
    db.session.flush()
    return pipeline


# --- deals ---------------------------------------------------------------------------------

def _date(value, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return parse_jalali_date(str(value))
    except ValueError as exc:
        errors["expected_close"] = str(exc)
        return None


def _apply(deal: Deal, fields: dict[str, Any], *, new: bool) -> dict[str, tuple]:
    """Validate and set ``fields``; returns {field: (old, new)} of what changed."""
    from core.auth.models import User
    from core.customers.models import Customer

    unknown = set(fields) - DEAL_FIELDS
    if unknown:
        raise TypeError(f"unknown deal fields: {', '.join(sorted(unknown))}")
    errors: dict[str, str] = {}
    values = {k: " ".join(str(v or "").split()) if k in _TEXT else v
              for k, v in fields.items()}
    if ("title" in values or new) and not values.get("title"):
        errors["title"] = _("Give the deal a title.")
    if "customer_id" in values or new:
        if not values.get("customer_id") or db.session.get(
                Customer, values["customer_id"]) is None:
            errors["customer_id"] = _("Choose the customer.")
    if "value" in values:
        raw = values["value"]
        try:
            values["value"] = 0 if raw in (None, "") else (
                raw if isinstance(raw, int) and not isinstance(raw, bool)
                else parse_number(str(raw)))
        except ValueError as exc:
            errors["value"] = str(exc)
        else:
            if values["value"] < 0:
                errors["value"] = _("Cannot be negative.")
    if "expected_close" in values:
        values["expected_close"] = _date(values["expected_close"], errors)
    if values.get("owner_id"):
        owner = db.session.get(User, values["owner_id"])
        if owner is None or not owner.active:
            errors["owner_id"] = _("Choose an active user as the owner.")
    pipeline_id = values.get("pipeline_id", deal.pipeline_id)
    pipeline = db.session.get(Pipeline, pipeline_id) if pipeline_id else default_pipeline()
    if pipeline is None:
        errors["pipeline_id"] = _("Create a pipeline first.")
    else:
        values["pipeline_id"] = pipeline.id
        stage_id = values.get("stage_id") or (
            deal.stage_id if deal.pipeline_id == pipeline.id else None)
        stage_ids = [s.id for s in pipeline.stages]
        if stage_id is None and stage_ids:
            stage_id = stage_ids[0]
        if stage_id not in stage_ids:
            errors["stage_id"] = _("Choose a stage of this pipeline.")
        values["stage_id"] = stage_id
    if errors:
        raise PipelineError(errors)
    changed = {}
    for name, value in values.items():
        old = getattr(deal, name)
        if old != value:
            changed[name] = (old, value)
            setattr(deal, name, value)
    deal.search_key = normalize(" ".join(
        p for p in (deal.title, deal.source, deal.campaign, deal.competitor) if p))
    return changed


def _log(deal: Deal, kind: str, body: str = "", detail: dict | None = None, by=None) -> None:
    db.session.add(DealActivity(deal_id=deal.id, kind=kind, body=body, detail=detail,
                                author_id=by.id if by is not None else None))
    deal.last_activity_at = utcnow()


def create_deal(*, by=None, **fields) -> Deal:
    """A new open deal; owner and team default to ``by`` (a User), stage to the first one."""
    if by is not None:
        fields.setdefault("owner_id", by.id)
        fields.setdefault("team_id", by.team_id)
    fields.setdefault("value", 0)
    deal = Deal(status="open", source="", campaign="", lost_reason="", competitor="",
                currency="IRR")
    _apply(deal, fields, new=True)
    now = utcnow()
    deal.stage_changed_at = deal.last_activity_at = now
    db.session.add(deal)
    db.session.flush()
    _log(deal, "created", detail={"stage_id": deal.stage_id}, by=by)
    db.session.flush()
    return deal


def update_deal(deal: Deal, *, by=None, **fields) -> Deal:
    """Change the given fields; the change (field names, stage) goes into the history.

    A new owner brings the deal into their team (for "team" record scope) unless a team is
    given.
    """
    if fields.get("owner_id") and fields["owner_id"] != deal.owner_id \
            and "team_id" not in fields:
        from core.auth.models import User

        owner = db.session.get(User, fields["owner_id"])
        if owner is not None:
            fields["team_id"] = owner.team_id
    old_stage = deal.stage_id
    changed = _apply(deal, fields, new=False)
    if deal.stage_id != old_stage:
        _stage_changed(deal, old_stage, by)
    rest = sorted(set(changed) - {"stage_id", "pipeline_id"})
    if rest:
        _log(deal, "update", detail={"fields": rest}, by=by)
    db.session.flush()
    return deal


def _stage_changed(deal: Deal, old_stage_id: int | None, by) -> None:
    old = db.session.get(Stage, old_stage_id) if old_stage_id else None
    new = db.session.get(Stage, deal.stage_id)
    detail = {"from": old_stage_id, "to": deal.stage_id,
              "from_name": old.name if old else "", "to_name": new.name}
    deal.stage_changed_at = utcnow()
    _log(deal, "stage", detail=detail, by=by)
    audit.record("sales.deal.stage", f"sales_deal:{deal.id}", detail)


def move_deal(deal: Deal, stage_id: int, *, by=None) -> Deal:
    """Put an open deal in another stage of its pipeline (the kanban drag)."""
    if deal.status != "open":
        raise PipelineError({"stage_id": _("Reopen the deal before moving it.")})
    stage = db.session.get(Stage, stage_id)
    if stage is None or stage.pipeline_id != deal.pipeline_id:
        raise PipelineError({"stage_id": _("Choose a stage of this pipeline.")})
    if stage.id == deal.stage_id:
        return deal
    old = deal.stage_id
    deal.stage_id = stage.id
    deal.stage = stage
    _stage_changed(deal, old, by)
    db.session.flush()
    return deal


def close_deal(deal: Deal, status: str, *, lost_reason: str = "", competitor: str = "",
               by=None) -> Deal:
    """Mark a deal won or lost; a lost deal needs the reason (and may name the competitor)."""
    lost_reason = " ".join((lost_reason or "").split())
    competitor = " ".join((competitor or "").split())
    if status not in ("won", "lost"):
        raise PipelineError({"status": _("A deal is closed as won or lost.")})
    if status == "lost" and not lost_reason:
        raise PipelineError({"lost_reason": _("Say why the deal was lost.")})
    deal.status = status
    deal.lost_reason = lost_reason if status == "lost" else ""
    deal.competitor = competitor if status == "lost" else ""
    deal.closed_at = utcnow()
    detail = {"status": status, "lost_reason": deal.lost_reason, "competitor": deal.competitor}
    _log(deal, "status", detail=detail, by=by)
    audit.record("sales.deal.close", f"sales_deal:{deal.id}", detail)
    db.session.flush()
    return deal


def reopen_deal(deal: Deal, *, by=None) -> Deal:
    """Put a won or lost deal back in the pipeline, in the stage it was in."""
    if deal.status == "open":
        return deal
    deal.status, deal.closed_at, deal.lost_reason, deal.competitor = "open", None, "", ""
    _log(deal, "status", detail={"status": "open"}, by=by)
    db.session.flush()
    return deal


def add_activity(deal: Deal, kind: str, body: str, *, by=None) -> DealActivity:
    """A note, call, meeting or email about the deal, written by a person."""
    body = (body or "").strip()
    errors = {}
    if kind not in ACTIVITY_KINDS:
        errors["kind"] = _("Choose what kind of activity it was.")
    if not body:
        errors["body"] = _("Write what happened.")
    if errors:
        raise PipelineError(errors)
    activity = DealActivity(deal_id=deal.id, kind=kind, body=body,
                            author_id=by.id if by is not None else None)
    db.session.add(activity)
    deal.last_activity_at = utcnow()
    db.session.flush()
    return activity


def set_lines(deal: Deal, lines: list[dict], customer=None, *, by=None) -> Deal:
    """Replace the deal's products: dicts of product_id, quantity and optional unit_price.

    A line without a unit price takes the customer's price (``catalog.price_for``). With
    lines, the deal's value becomes their total.
    """
    from modules.sales.catalog import price_for
    from modules.sales.models.catalog import Product

    errors: dict[str, str] = {}
    built = []
    for i, line in enumerate(lines):
        product = db.session.get(Product, line.get("product_id") or 0)
        if product is None:
            errors[f"lines-{i}-product_id"] = _("This product does not exist.")
            continue
        try:
            quantity = int(parse_number(str(line.get("quantity") or 1)))
            price = line.get("unit_price")
            price = price_for(product, customer or deal.customer) if price in (None, "") \
                else int(parse_number(str(price)))
        except ValueError as exc:
            errors[f"lines-{i}-quantity"] = str(exc)
            continue
        if quantity <= 0 or price < 0:
            errors[f"lines-{i}-quantity"] = _("Quantity must be positive and price not negative.")
            continue
        built.append(DealLine(product_id=product.id, quantity=quantity, unit_price=price))
    if errors:
        raise PipelineError(errors)
    deal.lines = built
    if built:
        total = sum(line.quantity * line.unit_price for line in built)
        if total != deal.value:
            deal.value = total
    _log(deal, "update", detail={"fields": ["lines"]}, by=by)
    db.session.flush()
    return deal


def history(deal: Deal, limit: int = 200) -> list[DealActivity]:
    """The deal's activities and changes, newest first."""
    return list(db.session.execute(
        select(DealActivity).where(DealActivity.deal_id == deal.id)
        .order_by(DealActivity.created_at.desc(), DealActivity.id.desc()).limit(limit)
    ).scalars())


def move_customer_deals(loser_id: int, survivor_id: int) -> int:
    """Give every deal of customer ``loser_id`` to ``survivor_id`` (a customer merge).

    One UPDATE (the merge writes its own audit entry); each deal's history notes the move.
    """
    ids = list(db.session.execute(select(Deal.id).where(Deal.customer_id == loser_id)).scalars())
    if not ids:
        return 0
    db.session.execute(update(Deal).where(Deal.id.in_(ids)).values(customer_id=survivor_id)
                       .execution_options(synchronize_session="fetch"))
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Deal) and obj.id in ids:
            db.session.expire(obj, ["customer"])
    db.session.add_all(DealActivity(deal_id=i, kind="update", detail={
        "fields": ["customer_id"], "merged_from": loser_id}) for i in ids)
    db.session.flush()
    return len(ids)
