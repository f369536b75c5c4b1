"""Custom field admin pages: list, add, edit (label, choices, position), delete with a warning."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.auth.permissions import require_permission
from core.customers import field_admin
from core.customers.custom_fields import definitions
from core.customers.models import CustomField
from core.customers.views import bp
from core.extensions import db
from core.fields import DigitsIntegerField

TYPE_LABELS = {"text": _l("Text"), "number": _l("Numeric value"), "date": _l("Date (Jalali)"),
               "choice": _l("Choice from a list"), "bool": _l("Yes / no")}


class EditFieldForm(FlaskForm):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=120)],
                        description=_l("What forms, lists and filters call the field"))
    choices = TextAreaField(_l("Choices"), description=_l("For choice fields: one per line"),
                            render_kw={"rows": 4})
    position = DigitsIntegerField(_l("Position"), validators=[Optional()],
                                  description=_l("Fields are shown in increasing position"))


class NewFieldForm(EditFieldForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)],
                       render_kw={"dir": "ltr", "autocomplete": "off"},
                       description=_l("Lowercase Latin letters, digits and _; used in the API "
                                      "and imports; cannot be changed later"))
    type = SelectField(_l("Kind"), choices=list(TYPE_LABELS.items()), default="text")



class DeleteFieldForm(FlaskForm):
    """No fields: CSRF only."""


def _lines(text: str | None) -> list[str]:
    return [line for line in (text or "").splitlines() if line.strip()]


def _field_or_404(field_id: int) -> CustomField:
    field = db.session.get(CustomField, field_id)
    if field is None:
        abort(404)
    return field


def _show_errors(form: FlaskForm, exc: field_admin.FieldError) -> None:
    db.session.rollback()
    for name, message in exc.errors.items():
        target = getattr(form, name, None)
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)


@bp.route("/fields/")
@require_permission("admin.settings")
def fields():
    """The custom customer fields, in display order."""
    return render_template("customers/fields.html", fields=definitions(),
                           type_labels=TYPE_LABELS)


@bp.route("/fields/new", methods=["GET", "POST"])
@require_permission("admin.settings")
def new_field():
    """Add a custom customer field."""
    form = NewFieldForm()
    if form.validate_on_submit():
        try:
            field = field_admin.add_field(form.name.data, form.label.data, form.type.data,
                                          _lines(form.choices.data), form.position.data or 0)
        except field_admin.FieldError as exc:
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Field %(label)s added.", label=field.label), "success")
            return redirect(url_for("customers.fields"))
    return render_template("customers/field_form.html", form=form, field=None,
                           type_labels=TYPE_LABELS)


@bp.route("/fields/<int:field_id>/edit", methods=["GET", "POST"])
@require_permission("admin.settings")
def edit_field(field_id: int):
    """Change a field's label, choices or position (its name and kind stay)."""
    field = _field_or_404(field_id)
    form = EditFieldForm(data={"label": field.label, "choices": "\n".join(field.choices or []),
                               "position": field.position})
    if form.validate_on_submit():
        try:
            field_admin.change_field(field, form.label.data, _lines(form.choices.data),
                                     form.position.data or 0)
        except field_admin.FieldError as exc:
            _show_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("customers.fields"))
    return render_template("customers/field_form.html", form=form, field=field,
                           type_labels=TYPE_LABELS)


@bp.route("/fields/<int:field_id>/delete", methods=["GET", "POST"])
@require_permission("admin.settings")
def delete_field(field_id: int):
    """Confirm, then delete a field together with every customer's value for it."""
    field = _field_or_404(field_id)
    form = DeleteFieldForm()
    if form.validate_on_submit():
        label = field.label
        removed = field_admin.remove_field(field)
        db.session.commit()
        flash(_("Field %(label)s deleted; %(count)d customers' values removed.",
                label=label, count=removed), "success")
        return redirect(url_for("customers.fields"))
    return render_template("customers/field_delete.html", field=field, form=form,
                           count=field_admin.customers_with_value(field))
