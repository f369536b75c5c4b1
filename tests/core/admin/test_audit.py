"""Audit log page: filters by user, action, target text and Jalali date range; newest first."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime


def _rows(page) -> list[str]:
    return re.findall(r"<code>([^<]+)</code>", page.get_data(as_text=True))


def test_audit_filters(app, client, make_user, login):
    make_user()
    agent = make_user("agent@example.ir", role="agent")
    with app.app_context():
        from core.audit import record
        from core.extensions import db

        record("invoice.post", target="invoice:42", user_id=agent)
        record("invoice.void", target="invoice:43", user_id=agent)
        record("customer.merge", target="customer:7")
        db.session.commit()
    login()
    assert _rows(client.get("/admin/audit?action=invoice."))[:2] == ["invoice.void",
                                                                     "invoice.post"]
    assert _rows(client.get("/admin/audit?target=invoice:43")) == ["invoice.void"]
    by_agent = _rows(client.get(f"/admin/audit?user={agent}"))
    assert set(by_agent) == {"invoice.post", "invoice.void"}
    # "today" is the Tehran day: after 20:30 UTC it is already tomorrow in Tehran
    today = jdatetime.date.fromgregorian(date=datetime.now(ZoneInfo("Asia/Tehran")).date())
    in_range = client.get(f"/admin/audit?action=customer.&start={today:%Y/%m/%d}"
                          f"&end={today:%Y/%m/%d}")
    assert _rows(in_range) == ["customer.merge"]
    past = client.get("/admin/audit?action=customer.&start=1390/01/01&end=1390/12/29")
    assert _rows(past) == []
    wrong = client.get("/admin/audit?start=tomorrow")  # the admin sees the default, Persian
    assert wrong.status_code == 422
    assert "tomorrow تاریخ شمسی معتبری مانند ۱۴۰۳/۰۱/۱۵ نیست" in wrong.get_data(as_text=True)


def test_audit_pages_newest_first(app, client, make_user, login):
    make_user()
    with app.app_context():
        from core.audit import record
        from core.extensions import db

        for n in range(60):
            record("probe.step", target=f"n:{n:02d}")
        db.session.commit()
    login()
    first = client.get("/admin/audit?action=probe.").get_data(as_text=True)
    targets = re.findall(r"<bdi>(n:\d+)</bdi>", first)
    assert targets[0] == "n:59" and len(targets) == 50
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = re.findall(r"<bdi>(n:\d+)</bdi>", client.get(next_url).get_data(as_text=True))
    assert second == [f"n:{n:02d}" for n in range(9, -1, -1)]


def test_a_created_row_is_audited_with_its_id(app, make_user):
    user_id = make_user("new@example.ir", role="agent")
    with app.app_context():
        from sqlalchemy import select

        from core.audit import AuditLog
        from core.extensions import db

        targets = set(db.session.execute(
            select(AuditLog.target).where(AuditLog.action == "create")).scalars())
    assert f"core_user:{user_id}" in targets
    assert not any(t.endswith(":None") for t in targets)
