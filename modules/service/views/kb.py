"""Knowledge base pages for agents: categories, articles (search, public/internal), editing."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.auth.permissions import require_permission
from core.extensions import db
from core.fields import DigitsIntegerField
from core.i18n import current_locale
from core.pagination import request_page, sort_columns
from modules.service import kb
from modules.service.models.kb import KbArticle, KbCategory
from modules.service.views import bp

SORTS = {"updated": KbArticle.updated_at, "views": KbArticle.views}


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "", "0", 0) else None
    except (TypeError, ValueError):
        return None


class ArticleForm(FlaskForm):
    title_fa = StringField(_l("Title in Persian"), validators=[Length(max=250)])
    body_fa = TextAreaField(_l("Text in Persian"), render_kw={"rows": 10, "dir": "rtl"})
    title_en = StringField(_l("Title in English"), validators=[Length(max=250)],
                           render_kw={"dir": "ltr"})
    body_en = TextAreaField(_l("Text in English"), render_kw={"rows": 10, "dir": "ltr"})
    category_id = SelectField(_l("Category"), coerce=_int, validate_choice=False)
    public = BooleanField(_l("Public: customers see it in the portal"),
                          description=_l("Internal articles are for agents only."))


class CategoryForm(FlaskForm):
    name_fa = StringField(_l("Name in Persian"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=120)],
                          render_kw={"dir": "ltr"})
    position = DigitsIntegerField(_l("Position"), validators=[Optional()])


def _category_counts() -> dict:
    return dict(db.session.execute(
        select(KbArticle.category_id, func.count()).group_by(KbArticle.category_id)).all())


@bp.route("/kb", endpoint="kb")
@require_permission("service.view")
def kb_index():
    """Articles: search in both languages, filter by category and public/internal."""
    visibility = request.args.get("visibility", "")
    category_id = _int(request.args.get("category"))
    query = request.args.get("q", "")
    stmt = kb.search_statement(query, public_only=False, category_id=category_id)
    if visibility in ("public", "internal"):
        stmt = stmt.where(KbArticle.public.is_(visibility == "public"))
    sort, columns = sort_columns(request.args.get("sort"), SORTS, "-updated", KbArticle.id)
    page = request_page(stmt, columns)
    return render_template("service/kb.html", page=page, sort=sort, query=query,
                           visibility=visibility, category_id=category_id,
                           categories=kb.categories(), counts=_category_counts(),
                           locale=current_locale(), kb=kb,
                           filtered=bool(query or visibility or category_id))


def _article_form(article: KbArticle | None) -> ArticleForm:
    form = ArticleForm(obj=article if request.method == "GET" and article else None)
    locale = current_locale()
    form.category_id.choices = [(0, _("No category"))] + [
        (c.id, kb.category_name(c, locale)) for c in kb.categories()]
    if request.method == "GET" and article is None:
        form.category_id.data = _int(request.args.get("category"))
    return form


def _save(form: ArticleForm, article: KbArticle | None) -> KbArticle | None:
    if not form.validate_on_submit():
        return None
    values = {name: getattr(form, name).data for name in kb.FIELDS}
    values.update(public=form.public.data, category_id=form.category_id.data)
    try:
        if article is None:
            article = kb.create_article(by=current_user, **values)
        else:
            kb.update_article(article, **values)
    except kb.KbError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return None
    db.session.commit()
    return article


@bp.route("/kb/new", methods=["GET", "POST"])
@require_permission("service.manage")
def kb_new():
    """Write an article in Persian, English or both."""
    form = _article_form(None)
    article = _save(form, None)
    if article is not None:
        flash(_("Article published.") if article.public else _("Internal article saved."),
              "success")
        return redirect(url_for("service.kb_article", article_id=article.id))
    return render_template("service/kb_form.html", form=form, article=None)


@bp.route("/kb/<int:article_id>/edit", methods=["GET", "POST"])
@require_permission("service.manage")
def kb_edit(article_id: int):
    """Change an article."""
    article = db.session.get(KbArticle, article_id) or abort(404)
    form = _article_form(article)
    if _save(form, article) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("service.kb_article", article_id=article.id))
    return render_template("service/kb_form.html", form=form, article=article)


@bp.route("/kb/<int:article_id>")
@require_permission("service.view")
def kb_article(article_id: int):
    """Read an article (both languages when it has them)."""
    article = db.session.get(KbArticle, article_id) or abort(404)
    return render_template("service/kb_article.html", article=article, kb=kb,
                           locale=current_locale())


@bp.route("/kb/categories", methods=["GET", "POST"])
@bp.route("/kb/categories/<int:category_id>", methods=["GET", "POST"])
@require_permission("service.manage")
def kb_categories(category_id: int | None = None):
    """Add or rename a category."""
    category = db.session.get(KbCategory, category_id) if category_id else None
    if category_id and category is None:
        abort(404)
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            kb.save_category(category, name_fa=form.name_fa.data, name_en=form.name_en.data,
                             position=form.position.data or 0)
        except kb.KbError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Category saved."), "success")
            return redirect(url_for("service.kb_categories"))
    return render_template("service/kb_categories.html", form=form, category=category,
                           categories=kb.categories(), counts=_category_counts(),
                           locale=current_locale(), kb=kb)
