"""Forms for personal access tokens."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class TokenForm(FlaskForm):
    """Create a personal access token."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("What uses this token, e.g. \"accounting sync\"."))
    read = BooleanField(_l("Read"), default=True)
    write = BooleanField(_l("Write"))
    permissions = StringField(
        _l("Limit to permissions"), validators=[Optional(), Length(max=1000)],
        description=_l("Optional: permission names separated by commas (see the list below). "
                       "Empty: everything your role allows."))
    expires_days = IntegerField(_l("Expires after (days)"),
                                validators=[Optional(), NumberRange(min=1, max=3650)],
                                description=_l("Empty: never expires."))

    def scopes(self) -> list[str]:
        chosen = [name for name in ("read", "write") if getattr(self, name).data]
        extra = (self.permissions.data or "").replace("،", ",").split(",")
        return chosen + [p.strip() for p in extra if p.strip()]


class ActionForm(FlaskForm):
    """A CSRF-protected button (revoke, disable, test)."""

