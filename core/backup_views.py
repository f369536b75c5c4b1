"""Administration → Backups: the archives in the backup folder and the schedule (read-only)."""

from flask import Blueprint, current_app, render_template

from core.auth.permissions import require_permission

bp = Blueprint("backups", __name__, url_prefix="/admin/backups")


@bp.route("/")
@require_permission("admin.settings")
def index():
    """The backups kept on this server, newest first, and how often the worker makes one."""
    from core.backup import list_backups

    config = current_app.config
    backups = [{**entry, "kb": max(1, -(-entry["size"] // 1024))} for entry in list_backups()]
    return render_template("admin/backups.html", backups=backups,
                           folder=config["CRM_BACKUP_DIR"],
                           every_hours=int(config.get("CRM_BACKUP_EVERY_HOURS") or 0),
                           keep=int(config.get("CRM_BACKUP_KEEP") or 0))
