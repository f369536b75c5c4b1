"""Marketing pages: scoring rules and assignment rules (marketing.manage)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.models import Team, User
from core.auth.permissions import require_permission
from core.extensions import db
from modules.marketing.models.leads import AssignmentRule, ScoringRule
from modules.marketing.views import bp
from modules.marketing.views.lead_wtforms import (
    EVENTS,
    OPS,
    AssignmentRuleForm,
    ScoringRuleForm,
    field_choices,
)


@bp.route("/leads/rules")
@require_permission("marketing.manage")
def lead_rules():
    """Scoring rules and assignment rules on one page."""
    scoring = db.session.execute(select(ScoringRule).order_by(ScoringRule.kind,
                                                              ScoringRule.id)).scalars().all()
    assignment = db.session.execute(select(AssignmentRule).order_by(
        AssignmentRule.position, AssignmentRule.id)).scalars().all()
    users = {u.id: u.name or u.email for u in db.session.execute(select(User)).scalars()}
    teams = {t.id: t.name for t in db.session.execute(select(Team)).scalars()}
    return render_template("marketing/lead_rules.html", scoring=scoring,
                           assignment=assignment, users=users, teams=teams,
                           fields=dict(field_choices()), ops=dict(OPS), events=dict(EVENTS))


@bp.route("/leads/rules/scoring/new", methods=["GET", "POST"], endpoint="scoring_rule_new")
@bp.route("/leads/rules/scoring/<int:rule_id>", methods=["GET", "POST"])
@require_permission("marketing.manage")
def scoring_rule(rule_id: int | None = None):
    """Add or change a scoring rule (profile fact or behaviour, with an optional cap)."""
    rule = db.get_or_404(ScoringRule, rule_id) if rule_id else None
    form = ScoringRuleForm(obj=rule)
    form.field.choices = field_choices()
    if form.validate_on_submit():
        if form.kind.data == "profile" and form.op.data != "set" and not form.value.data:
            form.value.errors = [_("Give the value to compare with.")]
        else:
            rule = rule or ScoringRule()
            form.populate_obj(rule)
            rule.value = (rule.value or "").strip()
            db.session.add(rule)
            db.session.commit()
            flash(_("Rule saved; scores change as leads are updated."), "success")
            return redirect(url_for("marketing.lead_rules"))
    return render_template("marketing/lead_rule_form.html", form=form, rule=rule,
                           scoring=True)


@bp.route("/leads/rules/assignment/new", methods=["GET", "POST"],
          endpoint="assignment_rule_new")
@bp.route("/leads/rules/assignment/<int:rule_id>", methods=["GET", "POST"])
@require_permission("marketing.manage")
def assignment_rule(rule_id: int | None = None):
    """Add or change an assignment rule (the first matching one by order wins)."""
    rule = db.get_or_404(AssignmentRule, rule_id) if rule_id else None
    form = AssignmentRuleForm(obj=rule)
    form.field.choices = [("", _("Any lead"))] + field_choices()
    form.user_id.choices = [(0, _("Nobody"))] + [
        (u.id, u.name or u.email) for u in db.session.execute(
            select(User).where(User.active.is_(True)).order_by(User.name)).scalars()]
    form.team_id.choices = [(0, _("No team"))] + [
        (t.id, t.name) for t in db.session.execute(select(Team).order_by(Team.name)).scalars()]
    if rule is not None and form.user_id.data is None:
        form.user_id.data, form.team_id.data = rule.user_id or 0, rule.team_id or 0
    if form.validate_on_submit():
        if not form.user_id.data and not form.team_id.data:
            form.user_id.errors = [_("Choose a person or a team.")]
        else:
            rule = rule or AssignmentRule()
            form.populate_obj(rule)
            rule.user_id, rule.team_id = form.user_id.data or None, form.team_id.data or None
            rule.position = form.position.data or 0
            db.session.add(rule)
            db.session.commit()
            flash(_("Rule saved; it applies to new leads."), "success")
            return redirect(url_for("marketing.lead_rules"))
    return render_template("marketing/lead_rule_form.html", form=form, rule=rule,
                           scoring=False)
