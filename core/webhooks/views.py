"""Admin pages for webhooks: list, add (the secret is shown once), disable, send a test event."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import URL, DataRequired, Length, Optional

from core.auth.permissions import require_permission
from core.extensions import db
from core.webhooks.models import WebhookEndpoint
from core.webhooks.services import create_endpoint, send_test_event, set_active

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


class WebhookForm(FlaskForm):
    """Add a webhook endpoint."""

    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=500),
                                             URL(require_tld=False)],
                      description=_l("The address Peyvand sends the events to (HTTPS)."))
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])
    events = SelectMultipleField(_l("Events"), validators=[DataRequired()],
                                 widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput())

    def __init__(self, *args, **kwargs):
        from core.webhooks import EVENTS

        super().__init__(*args, **kwargs)
        self.events.choices = [("*", _("All events"))] + [(k, str(v)) for k, v in EVENTS.items()]


class ActionForm(FlaskForm):
    """A CSRF-protected button."""


def _page(form: WebhookForm, created: WebhookEndpoint | None = None, status: int = 200):
    endpoints = db.session.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).scalars()
    response = make_response(render_template(
        "webhooks/index.html", form=form, action=ActionForm(), created=created,
        endpoints=list(endpoints), event_labels=dict(form.events.choices)), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@require_permission("admin.settings")
def index():
    """Webhook endpoints and their last delivery."""
    return _page(WebhookForm())


@bp.route("/", methods=["POST"])
@require_permission("admin.settings")
def create():
    """Add an endpoint and show its signing secret this one time."""
    form = WebhookForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    endpoint = create_endpoint(form.url.data, form.events.data, form.description.data or "")
    db.session.commit()
    return _page(WebhookForm(formdata=None), created=endpoint, status=201)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    if not ActionForm().validate_on_submit():
        abort(400)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


@bp.route("/<int:endpoint_id>/toggle", methods=["POST"])
@require_permission("admin.settings")
def toggle(endpoint_id: int):
    """Disable an endpoint (its pending deliveries are dropped) or enable it again."""
    endpoint = _endpoint(endpoint_id)
    set_active(endpoint, not endpoint.active)
    db.session.commit()
    flash(_("Webhook enabled.") if endpoint.active else _("Webhook disabled."), "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/<int:endpoint_id>/test", methods=["POST"])
@require_permission("admin.settings")
def test(endpoint_id: int):
    """Queue a signed "ping" event for one endpoint."""
    endpoint = _endpoint(endpoint_id)
    if not endpoint.active:
        flash(_("Enable the webhook before sending a test event."), "warning")
        return redirect(url_for("webhooks.index"))
    send_test_event(endpoint)
    db.session.commit()
    flash(_("Test event queued; the result appears under Last delivery."), "success")
    return redirect(url_for("webhooks.index"))
