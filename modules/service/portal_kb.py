"""The customer portal's knowledge base: search and read public articles, and suggestions
while a customer writes a ticket. Only ``public`` articles are ever shown here."""

from flask import abort, render_template, request
from sqlalchemy import select

from core.extensions import db
from core.i18n import current_locale
from core.pagination import request_page
from core.portal import portal_required
from modules.service import kb as kb_service
from modules.service.models.kb import KbArticle
from modules.service.portal import bp


@bp.route("/kb")
@portal_required
def kb():
    """Search the public help articles."""
    query = (request.args.get("q") or "").strip()
    stmt = kb_service.search_statement(query, public_only=True)
    page = request_page(stmt, [KbArticle.views.desc(), KbArticle.id.desc()], size=20)
    return render_template("service/portal_kb.html", page=page, q=query, kb=kb_service,
                           locale=current_locale())


@bp.route("/kb/<int:article_id>")
@portal_required
def kb_article(article_id: int):
    """Read one public article."""
    article = db.session.execute(select(KbArticle).where(
        KbArticle.id == article_id, KbArticle.public.is_(True))).scalar()
    if article is None:
        abort(404)
    kb_service.count_view(article)
    db.session.commit()
    return render_template("service/portal_kb_article.html", article=article, kb=kb_service,
                           locale=current_locale())


@bp.route("/kb/suggest")
@portal_required
def kb_suggest():
    """htmx: public articles that match the ticket subject being typed."""
    text = request.args.get("subject", "")
    articles = kb_service.suggest_for(text, limit=5) if len(text.strip()) >= 3 else []
    return render_template("service/portal_kb_suggestions.html", articles=articles, kb=kb_service,
                           locale=current_locale())

