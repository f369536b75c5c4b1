"""Lead services: capture with de-duplication, activity and scoring, assignment, conversion.

Functions take plain arguments and never touch ``request``; the caller commits. A lead is
matched by its canonical mobile or email, so a second form or import row updates the same
person instead of adding a duplicate.
"""

import csv
import io
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core.database import utcnow
from core.extensions import db
from core.i18n import normalize
from core.messaging.addresses import canonical_email
from core.validators import canonical_mobile
from modules.marketing.models.leads import (
    STATUSES,
    AssignmentRule,
    Lead,
    LeadActivity,
    ScoringRule,
)

TEXT_FIELDS = ("name", "company", "job_title", "city", "notes")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
RULE_FIELDS = ("name", "email", "mobile", "company", "job_title", "city", "source",
               *UTM_FIELDS, "rfm_segment")
STATUS_LABELS = {"new": _l("New"), "working": _l("Working"), "qualified": _l("Qualified"),
                 "converted": _l("Converted"), "disqualified": _l("Disqualified")}
SOURCE_LABELS = {"form": _l("Form"), "import": _l("Import"), "api": _l("API"),
                 "manual": _l("Entered by hand"), "campaign": _l("Campaign")}
ACTIVITY_LABELS = {"created": _l("Lead created"), "form": _l("Sent a form"),
                   "open": _l("Opened an email"), "click": _l("Clicked a link"),
                   "visit": _l("Visited the site"), "note": _l("Note"),
                   "score": _l("Score changed"), "assigned": _l("Assigned"),
                   "status": _l("Status changed"), "converted": _l("Converted to a customer")}


class LeadError(ValueError):
    """The lead's data is invalid; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def clean_contacts(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """The canonical mobile and email of ``values`` (raises ``LeadError`` when malformed)."""
    errors, mobile, email = {}, None, None
    if str(values.get("mobile") or "").strip():
        try:
            mobile = canonical_mobile(values["mobile"])
        except ValueError as exc:
            errors["mobile"] = str(exc)
    if str(values.get("email") or "").strip():
        try:
            email = canonical_email(str(values["email"]))
        except ValueError:
            errors["email"] = _("%(value)s is not an email address", value=values["email"])
    if errors:
        raise LeadError(errors)
    return mobile, email


def find_lead(mobile: str | None, email: str | None) -> Lead | None:
    """The newest lead with this canonical mobile or email (not converted ones first)."""
    conditions = [c for c in (Lead.mobile == mobile if mobile else None,
                              Lead.email == email if email else None) if c is not None]
    if not conditions:
        return None
    stmt = select(Lead).where(or_(*conditions)).order_by(
        (Lead.status == "converted").asc(), Lead.id.desc()).limit(1)
    return db.session.execute(stmt).scalar()


def search_key(lead: Lead) -> str:
    """The normalised text the lead list searches (name, contacts, company, city)."""
    local = "0" + lead.mobile[3:] if lead.mobile else ""
    return normalize(" ".join(p for p in (lead.name, lead.email, lead.mobile, local,
                                          lead.company, lead.city, lead.job_title) if p))


def create_or_update_lead(values: dict[str, Any], source: str = "manual",
                          utm: dict[str, str] | None = None, form=None, by=None
                          ) -> tuple[Lead, bool]:
    """Create a lead or update the one with the same mobile/email; returns (lead, created).

    Blank values never overwrite known ones; UTM stays first-touch; consent only turns on.
    """
    mobile, email = clean_contacts(values)
    name = " ".join(str(values.get("name") or "").split())
    if not (mobile or email or name):
        raise LeadError({"mobile": _("Give a mobile number or an email address.")})
    lead = find_lead(mobile, email)
    created = lead is None
    if created:
        lead = Lead(source=source, status="new", score=0, custom={}, notes="",
                    form_id=getattr(form, "id", None),
                    campaign_id=getattr(form, "campaign_id", None))
        db.session.add(lead)
    lead.mobile = mobile or lead.mobile
    lead.email = email or lead.email
    for field in TEXT_FIELDS:
        text = str(values.get(field) or "").strip()
        if text:
            setattr(lead, field, text[:200] if field != "notes" else text)
    for field in UTM_FIELDS:
        text = str((utm or {}).get(field) or "").strip()[:120]
        if text and (created or not getattr(lead, field)):
            setattr(lead, field, text)
    for field in ("consent_email", "consent_sms"):
        if values.get(field):
            setattr(lead, field, True)
    if values.get("message"):
        lead.custom = {**(lead.custom or {}), "message": str(values["message"])[:2000]}
    lead.search_key = search_key(lead)
    db.session.flush()
    if created:
        _activity(lead, "created", {"source": source}, by=by)
        if values.get("owner_id"):
            lead.owner_id = values["owner_id"]
            lead.team_id = values.get("team_id")
        else:
            assign(lead)
    rescore(lead)
    return lead, created


def _activity(lead: Lead, kind: str, data: dict | None = None, points: int = 0,
              by=None) -> LeadActivity:
    activity = LeadActivity(lead=lead, kind=kind, data=data or {}, points=points,
                            at=utcnow(), actor_id=getattr(by, "id", None))
    db.session.add(activity)
    lead.last_activity_at = activity.at
    return activity


def _rules(kind: str) -> list[ScoringRule]:
    return list(db.session.execute(select(ScoringRule).where(
        ScoringRule.kind == kind, ScoringRule.active.is_(True)).order_by(ScoringRule.id))
        .scalars())


def record_activity(lead: Lead, kind: str, data: dict | None = None, by=None) -> LeadActivity:
    """Log what the lead did; behaviour rules for ``kind`` add points up to their cap."""
    earned, applied = 0, []
    for rule in _rules("behaviour"):
        if rule.event != kind:
            continue
        times = sum(1 for a in lead.activities if rule.id in (a.data or {}).get("rules", ()))
        if rule.max_times is not None and times >= rule.max_times:
            continue
        earned += rule.points
        applied.append(rule.id)
    activity = _activity(lead, kind, {**(data or {}), "rules": applied}, earned, by=by)
    rescore(lead)
    return activity


def profile_matches(rule: ScoringRule, lead: Lead) -> bool:
    """Whether the lead's ``rule.field`` satisfies ``rule.op`` ``rule.value``."""
    if rule.field == "rfm_segment":
        have = _rfm_segment(lead)
    else:
        have = normalize(str(getattr(lead, rule.field, "") or "")) if rule.field in RULE_FIELDS \
            else ""
    want = normalize(rule.value or "")
    if rule.op == "set":
        return bool(have)
    if rule.op == "contains":
        return bool(want) and want in have
    if rule.op == "in":
        return have in {normalize(v) for v in rule.value.replace("،", ",").split(",") if v}
    return have == want


def _rfm_segment(lead: Lead) -> str:
    """The RFM segment key of the customer the lead became (or matches), else empty."""
    from core.analytics.models import CustomerScore

    if lead.customer_id is None:
        return ""
    return db.session.scalar(select(CustomerScore.segment).where(
        CustomerScore.customer_id == lead.customer_id)) or ""


def leads_of_recipient(customer_id: int, address: str) -> list[Lead]:
    """Leads that are this campaign recipient: converted into the customer, or same address."""
    conditions = [Lead.customer_id == customer_id]
    if address:
        conditions += [Lead.email == address.lower(), Lead.mobile == address]
    return list(db.session.scalars(select(Lead).where(or_(*conditions))))


def rescore(lead: Lead) -> int:
    """The lead's score: profile rules that match now plus the points its activities earned."""
    profile = sum(r.points for r in _rules("profile") if profile_matches(r, lead))
    behaviour = sum(a.points or 0 for a in lead.activities)
    lead.score = profile + behaviour
    return lead.score


def assign(lead: Lead) -> AssignmentRule | None:
    """Give the lead to the first active rule (by position) that matches; else leave it."""
    from core.auth.models import User

    rules = db.session.execute(select(AssignmentRule).where(AssignmentRule.active.is_(True))
                               .order_by(AssignmentRule.position, AssignmentRule.id)).scalars()
    for rule in rules:
        if rule.field and normalize(str(getattr(lead, rule.field, "") or "")) != normalize(
                rule.value or ""):
            continue
        user = db.session.get(User, rule.user_id) if rule.user_id else None
        lead.owner_id = user.id if user else None
        lead.team_id = rule.team_id or (user.team_id if user else None)
        _activity(lead, "assigned", {"rule": rule.id, "user_id": lead.owner_id,
                                     "team_id": lead.team_id})
        return rule
    return None


def set_status(lead: Lead, status: str, by=None) -> None:
    """Move the lead to another status (conversion has its own function)."""
    if status not in STATUSES or status == "converted":
        raise LeadError({"status": _("Choose a status.")})
    if lead.status != status:
        _activity(lead, "status", {"from": lead.status, "to": status}, by=by)
        lead.status = status


def convert(lead: Lead, by=None, create_deal: bool = False):
    """Turn the lead into a customer (an existing one with its mobile/email, else a new one).

    Consent is copied, the history stays on the lead, and with ``create_deal`` (sales active)
    a deal is opened for the customer. Returns the customer.
    """
    from core.customers import services as customers
    from core.modules import is_active

    if lead.status == "converted":
        raise LeadError({"status": _("This lead is already a customer.")})
    found = customers.find_duplicates_for(mobile=lead.mobile, email=lead.email)
    if found:
        customer = found[0]
        changes = {k: True for k in ("consent_email", "consent_sms")
                   if getattr(lead, k) and not getattr(customer, k)}
        if changes:
            customers.update_customer(customer, **changes)
    else:
        fields = {"display_name": lead.name or lead.company or lead.email or lead.mobile,
                  "mobiles": [lead.mobile] if lead.mobile else [],
                  "emails": [lead.email] if lead.email else [], "source": _("Lead"),
                  "consent_email": lead.consent_email, "consent_sms": lead.consent_sms}
        if lead.city:
            fields["address"] = {"city": lead.city}
        if lead.owner_id:
            fields.update(owner_id=lead.owner_id, team_id=lead.team_id)
        try:
            customer = customers.create_customer(by=by, **fields)
        except customers.CustomerError as exc:
            raise LeadError(exc.errors) from exc
    lead.customer_id = customer.id
    lead.status = "converted"
    lead.converted_at = utcnow()
    data: dict[str, Any] = {"customer_id": customer.id, "existing": bool(found)}
    if create_deal and is_active("sales"):
        from modules.sales import services as sales

        try:
            deal = sales.create_deal(by=by, customer_id=customer.id, source="lead",
                                     title=_("Deal with %(name)s", name=customer.display_name),
                                     campaign=lead.utm_campaign or "",
                                     **({"owner_id": lead.owner_id} if lead.owner_id else {}))
        except sales.PipelineError as exc:
            raise LeadError(exc.errors) from exc
        lead.deal_id = deal.id
        data["deal_id"] = deal.id
    _activity(lead, "converted", data, by=by)
    db.session.flush()
    return customer


def import_leads(text: str, by=None) -> tuple[int, int, list[tuple[int, str]]]:
    """Leads from CSV text (header row names the fields); returns (created, updated, errors).

    Errors are (line number, reason); a bad line is skipped and the others go in.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    known = {"name", "email", "mobile", "company", "job_title", "city", "notes", *UTM_FIELDS}
    if not reader.fieldnames or not known & {f.strip().lower() for f in reader.fieldnames}:
        return 0, 0, [(1, _("The first line must name the columns, e.g. name,mobile,email."))]
    created = updated = 0
    errors: list[tuple[int, str]] = []
    for row in reader:
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()
                  if isinstance(v, str)}
        try:
            with db.session.begin_nested():
                _lead, new = create_or_update_lead(
                    values, "import", {k: values.get(k, "") for k in UTM_FIELDS}, by=by)
        except LeadError as exc:
            errors.append((reader.line_num, "; ".join(exc.errors.values())))
            continue
        created += new
        updated += not new
    return created, updated, errors
