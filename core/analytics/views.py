"""The analytics dashboard: RFM segments, Pareto curve, top customers, recompute on demand."""

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, select

from core import jobs
from core.analytics import rfm
from core.analytics.jobs import KIND, SUMMARY_KEY, recompute_scores
from core.analytics.models import CustomerScore
from core.auth.permissions import has_permission, require_permission
from core.extensions import db
from core.i18n import current_locale, localize_digits
from core.jobs.progress import JobProgress, JobRecord
from core.models import Setting
from core.replica import read_session

bp = Blueprint("analytics", __name__, url_prefix="/analytics")
TOP = 20


@bp.app_template_filter("analytics_percent")
def percent(fraction: float | None) -> str:
    """0.8 -> "۸۰٪" in fa, "80%" in en."""
    whole = round(100 * (fraction or 0))
    return f"{localize_digits(whole)}٪" if current_locale() == "fa" else f"{whole}%"


class RecomputeForm(FlaskForm):
    """No fields: CSRF only."""


def segment_counts() -> list[dict]:
    """Every segment in grid order with its name in the current language and its count."""
    counts = dict(read_session().execute(
        select(CustomerScore.segment, func.count()).group_by(CustomerScore.segment)).all())
    total = sum(counts.values())
    locale = current_locale()
    return [{"key": key, "name": segment.name(locale), "count": int(counts.get(key, 0)),
             "share": counts.get(key, 0) / total if total else 0}
            for key, segment in rfm.SEGMENTS.items()]


def _pareto_chart(pareto: dict) -> dict:
    labels = [percent(x) for x, _y in pareto["curve"]]
    return {
        "type": "line",
        "data": {"labels": labels, "datasets": [
            {"label": _("Share of revenue, percent"),
             "data": [round(y * 100, 1) for _x, y in pareto["curve"]], "fill": True},
            {"label": _("Equal shares"),
             "data": [round(x * 100, 1) for x, _y in pareto["curve"]], "borderDash": [4, 4]},
        ]},
        "options": {"scales": {"y": {"min": 0, "max": 100}}},
    }


def _segment_chart(segments: list[dict]) -> dict:
    return {"type": "bar", "data": {
        "labels": [s["name"] for s in segments],
        "datasets": [{"label": _("Customers"), "data": [s["count"] for s in segments]}]}}


@bp.route("/")
@require_permission("analytics.view")
def dashboard():
    """Segments, revenue concentration and the customers to call first."""
    segments = segment_counts()
    summary = dict(read_session().execute(
        select(Setting.value).where(Setting.key == SUMMARY_KEY)).scalar() or {})
    if summary.get("computed_at"):
        summary["computed_at"] = datetime.fromisoformat(summary["computed_at"])
        summary["until"] = date.fromisoformat(summary["until"])
    pareto = summary.get("pareto")
    top = read_session().execute(
        select(CustomerScore).where(CustomerScore.priority.is_not(None))
        .order_by(CustomerScore.priority.desc(), CustomerScore.customer_id).limit(TOP)).scalars()
    names = {key: s["name"] for key, s in zip(rfm.SEGMENTS, segments, strict=True)}
    job = None
    if request.args.get("job", "").isdigit():
        job = db.session.get(JobRecord, int(request.args["job"]))
        if job is None or job.kind != KIND:
            job = None
    return render_template(
        "analytics/dashboard.html", segments=segments, summary=summary, pareto=pareto,
        pareto_chart=_pareto_chart(pareto) if pareto else None,
        segment_chart=_segment_chart(segments), top=list(top), segment_names=names, job=job,
        scored=sum(s["count"] for s in segments), form=RecomputeForm())


@bp.route("/recompute", methods=["POST"])
@require_permission("admin.settings")
def recompute():
    """Start a recompute of every customer's scores; the dashboard shows its progress."""
    if not RecomputeForm().validate_on_submit():
        abort(400)
    job_id = JobProgress.create(KIND, total=4, created_by=current_user.id).id
    jobs.enqueue(recompute_scores, job_id=job_id)  # runs (or is queued) once this commits
    db.session.commit()
    flash(_("Recomputing the scores; this page shows the progress."), "info")
    return redirect(url_for("analytics.dashboard", job=job_id))


def render_widget() -> Markup:
    """The dashboard card: customers per segment."""
    if not has_permission("analytics.view"):
        return Markup("")
    return Markup(render_template("analytics/_widget.html", segments=segment_counts()))
