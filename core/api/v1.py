"""Core API endpoints: who am I, and which modules run."""

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from core.auth.permissions import authenticated

bp = Blueprint("core_api", __name__, url_prefix="/api/v1",
               description="The signed-in user and the deployment's modules.")


class MeSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    team = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    permissions = ma.fields.List(ma.fields.String())
    seats = ma.fields.List(ma.fields.String())
    token_scopes = ma.fields.List(ma.fields.String())


class ModuleSchema(ma.Schema):
    name = ma.fields.String()
    title = ma.fields.String()
    version = ma.fields.String()
    loaded = ma.fields.Boolean()
    active = ma.fields.Boolean()
    reason = ma.fields.String(metadata={"description": "Why the module is not active"})


@bp.route("/me")
class Me(MethodView):
    @authenticated
    @bp.response(200, MeSchema)
    def get(self):
        """The user of this token: role, effective permissions and module seats."""
        from core.api.auth import current_token
        from core.modules import all_permissions

        granted = current_user.role.permissions or []
        permissions = sorted(all_permissions()) if "*" in granted else sorted(granted)
        token = current_token()
        return {
            "id": current_user.id, "email": current_user.email, "name": current_user.name,
            "role": current_user.role.name,
            "team": current_user.team.name if current_user.team else None,
            "locale": current_user.locale, "permissions": permissions,
            "seats": sorted(current_user.seat_modules),
            "token_scopes": list(token.scopes) if token else [],
        }


@bp.route("/modules")
class Modules(MethodView):
    @authenticated
    @bp.response(200, ModuleSchema(many=True))
    def get(self):
        """Every installed module: loaded, active under the license, and why not."""
        from core.modules import registry

        reg = registry()
        return [
            {"name": name, "title": str(reg.manifest(name).title),
             "version": reg.manifest(name).version, "loaded": state.loaded,
             "active": state.active, "reason": state.reason}
            for name, state in reg.activation().items()
        ]
