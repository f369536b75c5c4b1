"""Accounting-link pages: the chart of accounts, the mapping of posting roles to accounts (for
all years or one fiscal year), and the Jalali fiscal years (create, close)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from core.auth.permissions import require_permission
from core.database import utcnow
from core.extensions import db
from core.i18n import fiscal_year_of, local_date, to_latin_digits
from modules.accounting_link import journal as services
from modules.accounting_link.models.journal import (
    ACCOUNT_KINDS,
    ROLES,
    Account,
    AccountMapping,
    FiscalYear,
    JournalEntry,
    JournalLine,
)
from modules.accounting_link.views import bp


def kind_labels() -> dict[str, str]:
    return {"asset": _("Asset"), "liability": _("Liability"), "equity": _("Equity"),
            "income": _("Income"), "expense": _("Expense")}


def role_labels() -> dict[str, str]:
    """Every role the CRM posts to, in plain words, with one revenue role per category."""
    labels = {
        "receivables": _("Trade receivables (what customers owe)"),
        "revenue": _("Sales revenue (products without a category)"),
        "vat_payable": _("VAT payable"),
        "discounts": _("Sales discounts (and club points spent)"),
        "bank:cash": _("Cash box (cash payments)"),
        "bank:card": _("Bank: card reader payments"),
        "bank:transfer": _("Bank: transfers"),
        "bank:cheque": _("Bank: cleared cheques"),
        "cheques_in_hand": _("Cheques in hand (received, not yet cleared)"),
        "points_liability": _("Club points owed to members"),
        "points_expense": _("Cost of club points given"),
        "points_breakage": _("Income from expired club points"),
    }
    from modules.sales.services import product_categories

    for category_id, name in product_categories():
        labels[f"revenue:{category_id}"] = _("Sales revenue: %(category)s", category=name)
    return {role: labels[role] for role in (*ROLES, *sorted(
        (r for r in labels if r not in ROLES), key=lambda r: labels[r]))}


class AccountForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)],
                       description=_l("As the accounting package numbers it, e.g. 1104."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[])
    active = SelectField(_l("In use"), choices=[])


class FiscalYearForm(FlaskForm):
    year = IntegerField(_l("Jalali year it starts in"),
                        validators=[DataRequired(), NumberRange(min=1300, max=1600)])


def _known_years() -> list[int]:
    years = set(db.session.execute(select(FiscalYear.year)).scalars())
    years |= set(db.session.execute(select(JournalEntry.fiscal_year).distinct()).scalars())
    years.add(fiscal_year_of(local_date(utcnow())))
    return sorted(years, reverse=True)


def _year_arg() -> int | None:
    try:
        return int(to_latin_digits(request.values.get("year") or "")) or None
    except ValueError:
        return None


def effective_accounts(year: int | None) -> dict[str, tuple[Account | None, str]]:
    """role → (account, where it comes from: "own", "all", "fallback", "standard")."""
    rows = list(db.session.execute(select(AccountMapping)).scalars())
    by = {(row.role, row.fiscal_year): row.account for row in rows}
    result = {}
    for role in role_labels():
        found: tuple[Account | None, str] = (None, "standard")
        chain = services._fallbacks(role)
        for candidate in chain:
            for scope in ((year, None) if year else (None,)):
                account = by.get((candidate, scope))
                if account is not None:
                    origin = ("own" if candidate == role and scope == year else
                              "all" if candidate == role else "fallback")
                    found = (account, origin)
                    break
            if found[0] is not None:
                break
        result[role] = found
    return result


def _scope(year: int | None):
    return AccountMapping.fiscal_year.is_(None) if year is None else \
        AccountMapping.fiscal_year == year


def _active_accounts() -> list[Account]:
    return list(db.session.execute(
        select(Account).where(Account.active.is_(True)).order_by(Account.code)).scalars())


@bp.route("/mapping")
@require_permission("accounting_link.view")
def mapping():
    """Which account each posting role goes to, for all years or one fiscal year."""
    year = _year_arg()
    own = {row.role: row.account_id for row in db.session.execute(
        select(AccountMapping).where(_scope(year))).scalars()}
    return render_template("accounting_link/mapping.html", form=FlaskForm(),
                           labels=role_labels(), accounts=_active_accounts(), own=own,
                           year=year, years=_known_years(),
                           effective=effective_accounts(year),
                           standard=services.DEFAULT_CHART)


@bp.route("/mapping", methods=["POST"])
@require_permission("accounting_link.manage")
def mapping_save():
    """Save the mapping of every role for the chosen scope (empty = inherit)."""
    year = _year_arg()
    if not FlaskForm().validate_on_submit():
        flash(_("The form expired; send it again."), "danger")
        return redirect(url_for("accounting_link.mapping", year=year))
    ids = {a.id for a in _active_accounts()}
    existing = {row.role: row for row in db.session.execute(
        select(AccountMapping).where(_scope(year))).scalars()}
    changed = 0
    for role in role_labels():
        raw = to_latin_digits((request.form.get(f"role-{role}") or "").strip())
        account_id = int(raw) if raw.isdigit() and int(raw) in ids else None
        row = existing.get(role)
        if account_id is None and row is not None:
            db.session.delete(row)
            changed += 1
        elif account_id is not None and row is None:
            db.session.add(AccountMapping(role=role, fiscal_year=year, account_id=account_id))
            changed += 1
        elif account_id is not None and row.account_id != account_id:
            row.account_id = account_id
            changed += 1
    db.session.commit()
    flash(_("Mapping saved (%(n)s changes). Entries already posted keep their accounts; new "
            "entries use the new mapping.", n=changed), "success")
    return redirect(url_for("accounting_link.mapping", year=year))


# --- the chart of accounts -----------------------------------------------------------------

@bp.route("/accounts")
@require_permission("accounting_link.view")
def accounts():
    """The chart of accounts, by code, with how many lines each carries."""
    rows = list(db.session.execute(select(Account).order_by(Account.code)).scalars())
    used = dict(db.session.execute(select(JournalLine.account_id, func.count())
                                   .group_by(JournalLine.account_id)).all())
    return render_template("accounting_link/accounts.html", accounts=rows, used=used,
                           kinds=kind_labels())


def _account_form(account: Account | None) -> AccountForm:
    form = AccountForm(obj=account)
    form.kind.choices = list(kind_labels().items())
    form.active.choices = [("1", _("Yes")), ("0", _("No, hide it from the mapping"))]
    if request.method == "GET":
        form.active.data = "0" if account is not None and not account.active else "1"
    return form


def _save_account(account: Account | None):
    form = _account_form(account)
    if form.validate_on_submit():
        code = to_latin_digits(" ".join(form.code.data.split()))
        clash = db.session.execute(select(Account).where(
            Account.code == code, Account.id != getattr(account, "id", None))).scalar()
        if clash is not None:
            form.code.errors = [_("Account %(code)s already exists: %(name)s.", code=code,
                                  name=clash.name)]
        elif form.kind.data not in ACCOUNT_KINDS:
            form.kind.errors = [_("Choose a kind.")]
        else:
            account = account or Account()
            account.code, account.name = code, " ".join(form.name.data.split())
            account.kind, account.active = form.kind.data, form.active.data != "0"
            db.session.add(account)
            db.session.commit()
            flash(_("Account %(code)s saved.", code=code), "success")
            return redirect(url_for("accounting_link.accounts"))
    return render_template("accounting_link/accounts_form.html", form=form, account=account)


@bp.route("/accounts/new", methods=["GET", "POST"])
@require_permission("accounting_link.manage")
def account_new():
    """Add an account to the chart."""
    return _save_account(None)


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@require_permission("accounting_link.manage")
def account_edit(account_id: int):
    """Rename an account, change its code or kind, or take it out of use."""
    return _save_account(db.session.get(Account, account_id) or abort(404))


@bp.route("/accounts/<int:account_id>/delete", methods=["POST"])
@require_permission("accounting_link.manage")
def account_delete(account_id: int):
    """Delete an account that no entry and no mapping uses."""
    account = db.session.get(Account, account_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    lines = db.session.execute(select(func.count()).select_from(JournalLine).where(
        JournalLine.account_id == account.id)).scalar()
    mapped = db.session.execute(select(func.count()).select_from(AccountMapping).where(
        AccountMapping.account_id == account.id)).scalar()
    if lines or mapped:
        flash(_("Account %(code)s is used by %(lines)s journal lines and %(mapped)s mappings; "
                "take it out of use instead.", code=account.code, lines=lines,
                mapped=mapped), "danger")
    else:
        db.session.delete(account)
        db.session.commit()
        flash(_("Account %(code)s deleted.", code=account.code), "success")
    return redirect(url_for("accounting_link.accounts"))


# --- fiscal years --------------------------------------------------------------------------

def _fiscal_page(form: FiscalYearForm):
    rows = list(db.session.execute(select(FiscalYear).order_by(FiscalYear.year.desc()))
                .scalars())
    counts = dict(db.session.execute(select(JournalEntry.fiscal_year, func.count())
                                     .group_by(JournalEntry.fiscal_year)).all())
    return render_template("accounting_link/fiscal_years.html", form=form, rows=rows,
                           counts=counts, close_form=FlaskForm())


@bp.route("/fiscal-years")
@require_permission("accounting_link.view")
def fiscal_years():
    """The Jalali fiscal years: create one from the fiscal start month, close one."""
    form = FiscalYearForm()
    form.year.data = fiscal_year_of(local_date(utcnow()))
    return _fiscal_page(form)


@bp.route("/fiscal-years", methods=["POST"])
@require_permission("accounting_link.manage")
def fiscal_year_create():
    """Open the fiscal year named by the Jalali year it starts in."""
    form = FiscalYearForm()
    if form.validate_on_submit():
        try:
            row = services.create_fiscal_year(form.year.data)
        except services.JournalError as exc:
            form.year.errors = [str(exc)]
        else:
            db.session.commit()
            flash(_("Fiscal year %(year)s is open.", year=row.year), "success")
            return redirect(url_for("accounting_link.fiscal_years"))
    return _fiscal_page(form), 422


@bp.route("/fiscal-years/<int:year>/close", methods=["POST"])
@require_permission("accounting_link.manage")
def fiscal_year_close(year: int):
    """Close a fiscal year: later events dated in it post on the first day of the next."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    row = db.session.execute(select(FiscalYear).where(FiscalYear.year == year)).scalar()
    if row is None:
        abort(404)
    services.close_fiscal_year(year)
    db.session.commit()
    flash(_("Fiscal year %(year)s is closed. Events dated in it are now posted on the first "
            "day of the next open year.", year=year), "success")
    return redirect(url_for("accounting_link.fiscal_years"))
