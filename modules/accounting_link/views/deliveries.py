"""Accounting-link pages: deliveries — connectors, each entry's delivery state, dead letters."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from core import jobs
from core.audit import record
from core.auth.permissions import require_permission
from core.extensions import db
from core.fields import DigitsIntegerField
from core.outbox import STATUSES, relay_job
from core.pagination import request_page
from modules.accounting_link import delivery
from modules.accounting_link.models.delivery import Connector, Delivery
from modules.accounting_link.views import bp

DEAD_SHOWN = 50


class ConnectorForm(FlaskForm):
    """Add or change a REST connector."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("How the accounting system is called here, e.g. "
                                      "\"Sepidar head office\"."))
    url = StringField(_l("Endpoint URL"), validators=[DataRequired(), Length(max=500)],
                      render_kw={"dir": "ltr"},
                      description=_l("Peyvand POSTs each journal entry here as JSON (http "
                                     "or https)."))
    timeout = DigitsIntegerField(
        _l("Timeout (seconds)"), default=10,
        validators=[DataRequired(), NumberRange(min=delivery.MIN_TIMEOUT,
                                                max=delivery.MAX_TIMEOUT)],
        description=_l("A delivery with no answer within this time is retried later."))
    enabled = BooleanField(_l("Enabled"), default=True,
                           description=_l("Only enabled connectors receive new entries."))

    def validate_url(self, field):
        problem = delivery.url_problem(field.data)
        if problem:
            from wtforms.validators import ValidationError

            raise ValidationError(problem)


class ActionForm(FlaskForm):
    """A CSRF-protected button."""


def _connectors() -> list[Connector]:
    return list(db.session.execute(select(Connector).order_by(Connector.id)).scalars())


def _filters() -> tuple[str, int | None]:
    status = request.args.get("status", "")
    connector = request.args.get("connector", "")
    return (status if status in STATUSES else ""), (int(connector) if connector.isdigit()
                                                    else None)


def _state_context() -> dict:
    status, connector_id = _filters()
    page = request_page(delivery.states(status or None, connector_id),
                        [Delivery.id.desc()], size=50)
    return {"page": page, "rows": [delivery.state_dict(*row) for row in page.items],
            "health": delivery.health(), "status": status, "connector_id": connector_id,
            "statuses": STATUSES}


def _page(created: Connector | None = None, secret: str | None = None, status: int = 200):
    dead = [delivery.state_dict(*row) for row in db.session.execute(
        delivery.states("dead").limit(DEAD_SHOWN)).all()]
    response = make_response(render_template(
        "accounting_link/deliveries.html", connectors=_connectors(), action=ActionForm(),
        dead=dead, created=created, secret=secret, **_state_context()), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/deliveries")
@require_permission("accounting_link.view")
def deliveries():
    """Connectors, the delivery state of recent entries, and the dead letters."""
    return _page()


@bp.route("/deliveries/state")
@require_permission("accounting_link.view")
def deliveries_state():
    """The counts and the filtered state table (htmx; polls itself while some are pending)."""
    return render_template("accounting_link/deliveries_state.html", action=ActionForm(),
                           **_state_context())


def _save(form: ConnectorForm, connector: Connector | None) -> Connector | None:
    if not form.validate_on_submit():
        return None
    try:
        return delivery.save_connector(connector, name=form.name.data, url=form.url.data,
                                       timeout=form.timeout.data, enabled=form.enabled.data)
    except delivery.ConnectorError as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        db.session.rollback()
        return None


@bp.route("/deliveries/connectors/new", methods=["GET", "POST"])
@require_permission("accounting_link.manage")
def connector_new():
    """Add a REST connector; its signing secret is shown this one time."""
    form = ConnectorForm()
    connector = _save(form, None)
    if connector is None:
        return render_template("accounting_link/connector_form.html", form=form,
                               connector=None), 400 if request.method == "POST" else 200
    secret = connector.secret
    db.session.commit()
    flash(_("Connector %(name)s added. Entries posted from now on are delivered to it.",
            name=connector.name), "success")
    return _page(created=connector, secret=secret, status=201)


def _connector(connector_id: int) -> Connector:
    connector = db.session.get(Connector, connector_id)
    if connector is None:
        abort(404)
    return connector


@bp.route("/deliveries/connectors/<int:connector_id>/edit", methods=["GET", "POST"])
@require_permission("accounting_link.manage")
def connector_edit(connector_id: int):
    """Change a connector's name, address, timeout or state (the secret stays)."""
    connector = _connector(connector_id)
    form = ConnectorForm(obj=connector)
    if request.method == "GET":
        form.timeout.data = max(delivery.MIN_TIMEOUT, round(connector.timeout))
    if _save(form, connector) is not None:
        db.session.commit()
        flash(_("Connector saved."), "success")
        return redirect(url_for("accounting_link.deliveries"))
    return render_template("accounting_link/connector_form.html", form=form,
                           connector=connector), 400 if request.method == "POST" else 200


def _acted_on(connector_id: int) -> Connector:
    if not ActionForm().validate_on_submit():
        abort(400)
    return _connector(connector_id)


@bp.route("/deliveries/connectors/<int:connector_id>/toggle", methods=["POST"])
@require_permission("accounting_link.manage")
def connector_toggle(connector_id: int):
    """Enable or disable a connector."""
    connector = _acted_on(connector_id)
    connector.enabled = not connector.enabled
    db.session.commit()
    if connector.enabled:
        flash(_("Connector %(name)s enabled: new entries are delivered to it.",
                name=connector.name), "success")
    else:
        flash(_("Connector %(name)s disabled: new entries are not queued for it, and what is "
                "still pending for it ends in the dead letters.", name=connector.name),
              "warning")
    return redirect(url_for("accounting_link.deliveries"))


@bp.route("/deliveries/connectors/<int:connector_id>/ping", methods=["POST"])
@require_permission("accounting_link.manage")
def connector_ping(connector_id: int):
    """POST a signed test message to the connector now and say what happened."""
    connector = _acted_on(connector_id)
    ok, result = delivery.ping(connector)
    db.session.commit()
    if ok:
        flash(_("Test message accepted by %(name)s. %(result)s", name=connector.name,
                result=result), "success")
    else:
        flash(_("Test message to %(name)s failed: %(result)s", name=connector.name,
                result=result), "danger")
    return redirect(url_for("accounting_link.deliveries"))


@bp.route("/deliveries/connectors/<int:connector_id>/secret", methods=["POST"])
@require_permission("accounting_link.manage")
def connector_secret(connector_id: int):
    """Give the connector a new signing secret, shown this one time."""
    connector = _acted_on(connector_id)
    secret = delivery.renew_secret(connector)
    record("accounting_link.connector_secret", target=f"accounting_link_connector:{connector.id}")
    db.session.commit()
    return _page(created=connector, secret=secret)


@bp.route("/deliveries/<int:message_id>/retry", methods=["POST"])
@require_permission("accounting_link.manage")
def delivery_retry(message_id: int):
    """Deliver one dead (or waiting) entry again, its attempts reset."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if delivery.retry(message_id):
        record("accounting_link.retry", target=f"core_outbox:{message_id}")
        db.session.commit()
        jobs.enqueue(relay_job)
        flash(_("The entry will be delivered again."), "success")
    else:
        flash(_("This delivery was already made or does not exist."), "warning")
    return redirect(request.referrer or url_for("accounting_link.deliveries"))


@bp.route("/deliveries/retry-dead", methods=["POST"])
@require_permission("accounting_link.manage")
def deliveries_retry_dead():
    """Deliver every dead entry again."""
    if not ActionForm().validate_on_submit():
        abort(400)
    count = delivery.retry_all_dead()
    record("accounting_link.retry_all_dead", detail={"count": count})
    db.session.commit()
    if count:
        jobs.enqueue(relay_job)
        flash(_("%(count)s dead deliveries will be delivered again.", count=count), "success")
    else:
        flash(_("There are no dead deliveries to retry."), "info")
    return redirect(url_for("accounting_link.deliveries"))
