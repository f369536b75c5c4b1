"""Module system: manifests, discovery, dependency order, loading and runtime activation.

Two layers decide what runs (DESIGN §2). The deployment (``CRM_MODULES``) decides which
installed modules are *loaded*: their ``register(app)`` runs and their URLs exist. The
license decides, per request, which loaded modules are *active*.
"""

import importlib
import pkgutil
from dataclasses import dataclass, field

from flask import Flask, abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

import modules as modules_package


class ModuleError(RuntimeError):
    """A deployment's module list cannot be loaded; the message says why in plain words."""


@dataclass(frozen=True)
class MenuEntry:
    """One menu item: an endpoint, its label, an icon name and the permission it needs."""

    endpoint: str
    title: str
    icon: str = ""
    permission: str | None = None
    main: bool = False  # core entries: in the main bar (customers) rather than under Settings


@dataclass(frozen=True)
class Manifest:
    """What a module is and needs, readable without running it."""

    name: str
    title: str
    version: str
    description: str = ""
    depends: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    permissions: dict = field(default_factory=dict)
    menu: tuple[MenuEntry, ...] = ()
    scoped: bool = False  # records carry owner/team, so roles get own/team/all scope here


@dataclass
class Activation:
    """Whether one module runs now, and why not when it does not."""

    name: str
    loaded: bool
    active: bool
    reason: str = ""


def discover() -> dict[str, Manifest]:
    """Every installed module's manifest, by name (imports only the package, which runs nothing)."""
    found = {}
    for info in pkgutil.iter_modules(modules_package.__path__):
        if not info.ispkg:
            continue
        package = importlib.import_module(f"modules.{info.name}")
        manifest = getattr(package, "MANIFEST", None)
        if not isinstance(manifest, Manifest) or manifest.name != info.name:
            raise ModuleError(f"modules/{info.name} has no MANIFEST named {info.name!r}")
        found[info.name] = manifest
    return found


def resolve(requested, installed: dict[str, Manifest]) -> list[str]:
    """The modules to load in dependency order; raises ``ModuleError`` on a bad list."""
    if requested in (None, "all") or requested == ["all"]:
        names = list(installed)
    else:
        names = list(dict.fromkeys(requested))
    unknown = [name for name in names if name not in installed]
    if unknown:
        raise ModuleError(
            f"CRM_MODULES names unknown module(s): {', '.join(unknown)}; "
            f"installed: {', '.join(sorted(installed))}"
        )
    for name in names:
        for dep in installed[name].depends:
            if dep not in names:
                raise ModuleError(f"{name} needs {dep}, which is not enabled in CRM_MODULES")
    order, state = [], {}

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*path[path.index(name):], name])
            raise ModuleError(f"module dependency cycle: {cycle}")
        state[name] = "visiting"
        for dep in installed[name].depends:
            visit(dep, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(names):
        visit(name, [])
    return order


class Registry:
    """The deployment's modules: manifests, load order and which blueprint belongs to whom."""

    def __init__(self, installed: dict[str, Manifest], loaded: list[str]):
        self.installed = installed
        self.loaded = loaded
        self.blueprint_module: dict[str, str] = {}

    def manifest(self, name: str) -> Manifest:
        return self.installed[name]

    def activation(self) -> dict[str, Activation]:
        """Each installed module's state under the license in force right now."""
        from core import licensing

        state = licensing.current_state()
        result: dict[str, Activation] = {}
        for name in self.installed:
            if name not in self.loaded:
                result[name] = Activation(name, False, False,
                                          _("not loaded in this deployment"))
        for name in self.loaded:  # dependency order: deps are decided first
            reason = state.module_refusal(name)
            if not reason:
                inactive = [d for d in self.installed[name].depends if not result[d].active]
                if inactive:
                    reason = _("needs %(modules)s, which is not active",
                               modules=_list(str(self.installed[d].title) for d in inactive))
            result[name] = Activation(name, True, not reason, reason)
        return result

    def active(self) -> set[str]:
        """Names of the modules active right now (cached per request)."""
        if "crm_active_modules" not in g:
            g.crm_active_modules = {n for n, a in self.activation().items() if a.active}
        return g.crm_active_modules


def _list(items) -> str:
    """Items joined with the current language's list comma."""
    from core.i18n import is_rtl

    return ("، " if is_rtl() else ", ").join(items)


def title_of(name: str) -> str:
    """A module's title in the current language (its technical name if it is not installed)."""
    manifest = registry().installed.get(name)
    return str(manifest.title) if manifest else name


def registry(app: Flask | None = None) -> Registry:
    return (app or current_app).extensions["crm_modules"]


def is_active(name: str) -> bool:
    """Whether module ``name`` is loaded and licensed right now."""
    return name in registry().active()


def init_app(app: Flask) -> None:
    """Load the deployment's modules in dependency order and guard their URLs by license."""
    installed = discover()
    loaded = resolve(app.config.get("CRM_MODULES", "all"), installed)
    reg = Registry(installed, loaded)
    app.extensions["crm_modules"] = reg
    for name in loaded:
        before = set(app.blueprints)
        importlib.import_module(f"modules.{name}").register(app)
        for bp_name in set(app.blueprints) - before:
            reg.blueprint_module[bp_name] = name
    app.before_request(_require_active_module)
    app.jinja_env.globals["crm_menu"] = menu
    app.jinja_env.globals["crm_module_active"] = is_active
    app.jinja_env.globals["crm_module_title"] = title_of


def module_for_request() -> str | None:
    """The module whose blueprint serves this request, if any."""
    if not request.blueprint:
        return None
    top = request.blueprint.split(".")[0]
    return registry().blueprint_module.get(top)


def _require_active_module():
    """404 (API) or a "not licensed" page (UI) for inactive modules; a seat for active ones."""
    name = module_for_request()
    if name is None:
        return None
    api = request.path.startswith("/api/")
    if not is_active(name):
        if api:
            abort(404)
        if not current_user.is_authenticated:
            from core.auth.permissions import PUBLIC, request_permission

            # Nothing about the license to someone who has not signed in: the sign-in page,
            # or "not found" for the module's public pages (an unsubscribe link, say).
            if request_permission() == PUBLIC:
                abort(404)
            return current_app.login_manager.unauthorized()
        manifest = registry().manifest(name)
        reason = registry().activation()[name].reason
        return render_template("errors/not_licensed.html", manifest=manifest, reason=reason), 403
    if current_user.is_authenticated and name not in current_user.seat_modules:
        if api:
            abort(403)
        manifest = registry().manifest(name)
        return render_template("errors/no_seat.html", manifest=manifest), 403
    return None


def menu() -> list[MenuEntry]:
    """Menu entries of the active modules that the current user may open."""
    from core.auth.permissions import has_permission

    if not current_user.is_authenticated:
        return []
    reg = registry()
    entries = []
    for name in reg.loaded:
        if name in reg.active():
            entries.extend(
                e for e in reg.manifest(name).menu
                if e.permission is None or has_permission(e.permission)
            )
    return entries


def all_permissions(app: Flask | None = None) -> dict[str, str]:
    """Every permission the core and the loaded modules declare, with its label."""
    from core.auth.permissions import CORE_PERMISSIONS

    perms = dict(CORE_PERMISSIONS)
    reg = registry(app)
    for name in reg.loaded:
        perms.update(reg.manifest(name).permissions)
    return perms
