"""``flask crm analytics``: fit the customer-value models on a purchase file."""

import json
from datetime import date

import click
from flask.cli import AppGroup, with_appcontext

from core.analytics.clv import FitError, fit_bgnbd, fit_gamma_gamma
from core.analytics.summary import UNITS, PurchaseFileError, parse_date, read_purchases, summarise

analytics_cli = AppGroup("analytics", help="Customer analytics: RFM, Pareto, lifetime value.")


def _until(ctx, param, value: str) -> date:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@analytics_cli.command("fit")
@click.option("--purchases", "path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="CSV with columns customer_id, date, amount.")
@click.option("--until", required=True, callback=_until,
              help="Last day of the calibration period, YYYY-MM-DD (Gregorian or Jalali).")
@click.option("--unit", type=click.Choice(sorted(UNITS)), default="day", show_default=True,
              help="Time unit of recency, age and the rate parameter alpha.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def fit_command(path: str, until: date, unit: str, as_json: bool) -> None:
    """Fit BG/NBD and Gamma-Gamma on a purchase history and print the parameters."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            summary = summarise(read_purchases(handle), until, unit)
        if len(summary) == 0:
            raise FitError(f"no purchases on or before {until.isoformat()}")
        bgnbd = fit_bgnbd(summary.x, summary.t_x, summary.T)
        gg = fit_gamma_gamma(summary.x, summary.m)
    except (PurchaseFileError, FitError) as exc:
        raise click.ClickException(str(exc)) from exc
    result = {
        "until": until.isoformat(),
        "unit": unit,
        "customers": len(summary),
        "repeat_customers": summary.repeat_customers,
        "repeat_transactions": int(summary.x.sum()),
        "bgnbd": {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b,
                  "loglik": bgnbd.loglik, "se": _se(("r", "alpha", "a", "b"), bgnbd.se)},
        "gamma_gamma": {"p": gg.p, "q": gg.q, "v": gg.v, "loglik": gg.loglik,
                        "customers": gg.customers, "se": _se(("p", "q", "v"), gg.se)},
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"Calibration up to {result['until']}, unit {unit}: {len(summary)} customers, "
               f"{summary.repeat_customers} with repeat purchases "
               f"({result['repeat_transactions']} repeat transactions).")
    click.echo(f"BG/NBD:      r={bgnbd.r:.3f} alpha={bgnbd.alpha:.3f} a={bgnbd.a:.3f} "
               f"b={bgnbd.b:.3f}  log-likelihood={bgnbd.loglik:.1f}")
    click.echo(f"Gamma-Gamma: p={gg.p:.2f} q={gg.q:.2f} v={gg.v:.2f}  "
               f"log-likelihood={gg.loglik:.1f}  ({gg.customers} customers)")


def _se(names, values):
    return None if values is None else dict(zip(names, values, strict=True))


@analytics_cli.command("recompute")
@click.option("--until", default=None, callback=lambda ctx, param, value:
              None if value is None else _until(ctx, param, value),
              help="Score as of this day, YYYY-MM-DD (default: today, Iran time).")
def recompute_command(until: date | None) -> None:
    """Recompute every customer's RFM segment and lifetime value from the purchases."""
    from core.analytics.jobs import recompute_scores

    summary = recompute_scores(until)
    click.echo(f"Scored {summary['customers']} customers as of {summary['until']}.")
    if summary["fit_error"]:
        click.echo(f"Lifetime value not fitted: {summary['fit_error']}")
    if summary["pareto"]:
        click.echo(f"Top {summary['pareto']['top']:.0%} of customers bring "
                   f"{summary['pareto']['top_share']:.1%} of revenue.")


@click.command("purchases")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every line and count; record nothing.")
def import_purchases_command(file: str, dry_run: bool) -> None:
    """Import a sales history (CSV: customer, date, amount[, reference]) into purchases."""
    import sys

    from core.analytics.history import HistoryFileError, check_file, import_history
    from core.extensions import db

    try:
        with open(file, encoding="utf-8-sig", newline="") as handle:
            total = check_file(handle)
    except HistoryFileError as exc:
        raise click.ClickException(f"{exc} Nothing was recorded.") from exc
    with (open(file, encoding="utf-8-sig", newline="") as handle,
          click.progressbar(length=total, label="Importing", file=sys.stderr) as bar):
        result = import_history(handle, dry_run=dry_run, on_progress=bar.update)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line, reason in result.rejected:
        click.echo(f"line {line}: {reason}", err=True)
    verb = "would be recorded" if dry_run else "recorded"
    click.echo(f"{result.recorded} purchases {verb}, {result.already} already there, "
               f"{len(result.rejected)} lines rejected.")
    if result.rejected:
        sys.exit(1)
