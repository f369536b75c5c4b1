"""SLA policy and escalation rule pages (create, edit, delete) under /service/sla."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.models import Team, User
from core.auth.permissions import require_permission
from core.customers.models import Tag
from core.extensions import db
from core.modules import is_active
from modules.service.escalation import ACTION_LABELS, TRIGGER_LABELS
from modules.service.models.sla import Calendar, EscalationRule, SlaPolicy
from modules.service.tickets import PRIORITY_LABELS
from modules.service.views import bp
from modules.service.views.sla_forms import DeleteForm, PolicyForm, RuleForm


def recompute_note() -> str:
    """Said after a change that moves the targets of open tickets."""
    return _("Open tickets follow the change at the next SLA recompute (within minutes).")


def _priorities(any_label: str) -> list[tuple[str, str]]:
    return [("", any_label)] + [(k, str(v)) for k, v in PRIORITY_LABELS.items()]


def _policy_form() -> PolicyForm:
    form = PolicyForm()
    form.priority.choices = _priorities(_("Any priority"))
    form.customer_tag_id.choices = [("", _("Any customer"))] + [
        (str(t.id), t.name) for t in db.session.scalars(select(Tag).order_by(Tag.name))]
    form.calendar_id.choices = [("", _("The default calendar"))] + [
        (str(c.id), c.name) for c in db.session.scalars(select(Calendar).order_by(Calendar.name))]
    if not is_active("loyalty"):
        del form.loyalty_tier  # the club tier only matters while the club module is active
    return form


def _save_policy(policy: SlaPolicy | None):
    form = _policy_form()
    if policy is not None and not form.is_submitted():
        form.fill(policy)
    if form.validate_on_submit():
        policy = policy or SlaPolicy()
        form.apply(policy)
        db.session.add(policy)
        db.session.commit()
        flash(_("SLA policy saved.") + " " + recompute_note(), "success")
        return redirect(url_for("service.sla"))
    return render_template("service/sla_policy.html", form=form, policy=policy), (
        400 if form.is_submitted() else 200)


@bp.route("/sla/policies/new", methods=["GET", "POST"])
@require_permission("service.manage")
def sla_policy_new():
    """A new SLA policy."""
    return _save_policy(None)


@bp.route("/sla/policies/<int:policy_id>", methods=["GET", "POST"])
@require_permission("service.manage")
def sla_policy_edit(policy_id: int):
    """Edit an SLA policy."""
    return _save_policy(db.get_or_404(SlaPolicy, policy_id))


@bp.route("/sla/policies/<int:policy_id>/delete", methods=["POST"])
@require_permission("service.manage")
def sla_policy_delete(policy_id: int):
    """Delete an SLA policy (tickets it matched take the next best one)."""
    policy = db.get_or_404(SlaPolicy, policy_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    db.session.delete(policy)
    db.session.commit()
    flash(_("SLA policy deleted.") + " " + recompute_note(), "success")
    return redirect(url_for("service.sla"))


def _rule_form() -> RuleForm:
    form = RuleForm()
    form.trigger.choices = [(k, str(v)) for k, v in TRIGGER_LABELS.items()]
    form.action.choices = [(k, str(v)) for k, v in ACTION_LABELS.items()]
    form.priority.choices = _priorities(_("Any priority"))
    form.target_user_id.choices = [("", _("The ticket's agent"))] + [
        (str(u.id), u.name or u.email) for u in db.session.scalars(
            select(User).where(User.active.is_(True)).order_by(User.name, User.email))]
    form.target_team_id.choices = [("", _("No team"))] + [
        (str(t.id), t.name) for t in db.session.scalars(select(Team).order_by(Team.name))]
    return form


def _save_rule(rule: EscalationRule | None):
    form = _rule_form()
    if rule is not None and not form.is_submitted():
        form.fill(rule)
    if form.validate_on_submit():
        rule = rule or EscalationRule()
        form.apply(rule)
        db.session.add(rule)
        db.session.commit()
        flash(_("Escalation rule saved."), "success")
        return redirect(url_for("service.sla"))
    return render_template("service/sla_rule.html", form=form, rule=rule), (
        400 if form.is_submitted() else 200)


@bp.route("/sla/rules/new", methods=["GET", "POST"])
@require_permission("service.manage")
def sla_rule_new():
    """A new escalation rule."""
    return _save_rule(None)


@bp.route("/sla/rules/<int:rule_id>", methods=["GET", "POST"])
@require_permission("service.manage")
def sla_rule_edit(rule_id: int):
    """Edit an escalation rule."""
    return _save_rule(db.get_or_404(EscalationRule, rule_id))


@bp.route("/sla/rules/<int:rule_id>/delete", methods=["POST"])
@require_permission("service.manage")
def sla_rule_delete(rule_id: int):
    """Delete an escalation rule (what it already did stays in the tickets' history)."""
    rule = db.get_or_404(EscalationRule, rule_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    db.session.delete(rule)
    db.session.commit()
    flash(_("Escalation rule deleted."), "success")
    return redirect(url_for("service.sla"))
