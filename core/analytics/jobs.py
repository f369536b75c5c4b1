"""The recompute job: RFM, lifetime value and Pareto for every customer, nightly and on demand."""

from datetime import date

from core.analytics import sql
from core.database import get_setting, lock, set_setting, utcnow
from core.jobs.progress import JobProgress

KIND = "analytics.recompute"
SUMMARY_KEY = "analytics.summary"
STEPS = 4


def recompute_scores(until: date | str | None = None, job_id: int | None = None) -> dict:
    """Recompute every customer's scores as of ``until`` (default today, Iran time).

    Reports progress on the job ``job_id`` (creates one when None); replaces the scores table
    in one transaction and stores the fit and Pareto summary in the setting
    ``analytics.summary``. Returns that summary.
    """
    if isinstance(until, str):
        until = date.fromisoformat(until)
    progress = JobProgress.get(job_id) if job_id else JobProgress.create(KIND)
    progress.start(total=STEPS, message="")
    try:
        table = sql.rfm_table(until)
        progress.advance(1)
        fit = sql.fit_models(table)
        progress.advance(1)
        computed_at = utcnow()
        scores, fit = sql.score_columns(table, fit, computed_at)
        progress.advance(1)
        lock(KIND)  # one recompute writes at a time
        sql.write_scores(scores)
        summary = {
            "until": table.until.isoformat(), "computed_at": computed_at.isoformat(),
            "customers": len(table), "fit_error": fit.error,
            "bgnbd": None if fit.bgnbd is None else dict(
                zip(("r", "alpha", "a", "b"), fit.bgnbd.as_tuple(), strict=True)),
            "gamma_gamma": None if fit.gg is None else dict(
                zip(("p", "q", "v"), fit.gg.as_tuple(), strict=True)),
            "pareto": sql.pareto(),
        }
        set_setting(SUMMARY_KEY, summary)
        progress.record.done = STEPS
        progress.finish(result={"customers": len(table), "fit_error": fit.error})
    except Exception as exc:
        progress.fail(f"{exc.__class__.__name__}: {exc}")
        raise
    return summary


def nightly_recompute() -> dict:
    """The periodic job: recompute as of today."""
    return recompute_scores()


def last_summary() -> dict | None:
    """What the last recompute stored (None before the first one)."""
    return get_setting(SUMMARY_KEY)
