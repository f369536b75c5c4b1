"""Club member pages: list, search and scope; the member page's figures, card and QR;
adjusting points; leaving and rejoining; enrolling by hand; importing from a file."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from, recorded_statements
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member
from tests.modules.service.ticket_helpers import make_customer, sign_in


@pytest.fixture
def club(app, make_user):
    """An admin and two agents (own scope), each agent with one member."""
    make_user("admin@example.ir", seats=["loyalty"])
    make_user("ali@example.ir", role="agent", seats=["loyalty"])
    make_user("sara@example.ir", role="agent", seats=["loyalty"])
    ali = make_member(app, owner_email="ali@example.ir", first_name="علي", last_name="كريمي",
                      mobiles=["09121110001"])
    sara = make_member(app, owner_email="sara@example.ir", first_name="سارا", last_name="رضایی",
                       mobiles=["09121110002"])
    with app.app_context():
        return {"ali": ali, "sara": sara, "ali_card": member(ali).card_number,
                "sara_card": member(sara).card_number}


def _rows(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-member="(\d+)"', html)}


def test_agent_lists_and_opens_only_own_members(app, club):
    ali = sign_in(app, "ali@example.ir")
    assert _rows(ali.get("/loyalty/members").get_data(as_text=True)) == {club["ali"]}
    assert ali.get(f"/loyalty/members/{club['sara']}").status_code == 404
    assert ali.get(f"/loyalty/members/{club['sara']}/qr.svg").status_code == 404
    token = csrf_from(ali.get(f"/loyalty/members/{club['ali']}"))
    refused = ali.post(f"/loyalty/members/{club['sara']}/opt-out", data={"csrf_token": token})
    assert refused.status_code == 404
    admin = sign_in(app, "admin@example.ir")
    assert _rows(admin.get("/loyalty/members").get_data(as_text=True)) == {
        club["ali"], club["sara"]}


def test_search_by_name_mobile_and_card_in_any_digits(app, club):
    admin = sign_in(app, "admin@example.ir")

    def found(q):
        return _rows(admin.get("/loyalty/members", query_string={"q": q})
                     .get_data(as_text=True))

    assert found("علی کریمی") == {club["ali"]}  # Arabic yeh/kaf stored, Persian typed
    assert found("۰۹۱۲ ۱۱۱ ۰۰۰۲") == {club["sara"]}
    card = club["sara_card"]
    persian = card.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    spaced = " ".join(persian[i:i + 4] for i in range(0, 16, 4))
    assert found(spaced) == {club["sara"]}
    assert found("هیچ‌کس") == set()
    empty = admin.get("/loyalty/members", query_string={"q": "هیچ‌کس"}).get_data(as_text=True)
    assert "data-empty-state" in empty and "/loyalty/members/enrol" not in empty.split(
        'id="member-results"')[1]  # "no match", not the first-member invitation


def test_filters_and_sorting(app, club):
    from modules.loyalty import ledger
    from modules.loyalty.models.tiers import Tier

    with app.test_request_context():
        gold = Tier(code="gold", name_fa="طلایی", name_en="Gold", rank=3, min_points=2000)
        db.session.add(gold)
        db.session.flush()
        member(club["sara"]).tier_id = gold.id
        ledger.earn(member(club["ali"]), 500, reason="خرید")
        db.session.commit()
        gold_id = gold.id
    admin = sign_in(app, "admin@example.ir")
    html = admin.get("/loyalty/members", query_string={"tier": gold_id}).get_data(as_text=True)
    assert _rows(html) == {club["sara"]}
    html = admin.get("/loyalty/members", query_string={"tier": "none"}).get_data(as_text=True)
    assert _rows(html) == {club["ali"]}
    html = admin.get("/loyalty/members", query_string={"sort": "-balance"}).get_data(
        as_text=True)
    order = [int(i) for i in re.findall(r'data-member="(\d+)"', html)]
    assert order == [club["ali"], club["sara"]]
    with app.app_context():
        member(club["ali"]).status = "opted_out"
        db.session.commit()
    html = admin.get("/loyalty/members", query_string={"status": "active"}).get_data(
        as_text=True)
    assert _rows(html) == {club["sara"]}
    with app.app_context():
        from core.i18n import jdate

        today = jdate(ledger.today(), locale="en")
        before = jdate(ledger.today() - timedelta(days=2), locale="en")
    html = admin.get("/loyalty/members", query_string={"enrolled_from": today}).get_data(
        as_text=True)
    assert _rows(html) == {club["ali"], club["sara"]}
    html = admin.get("/loyalty/members", query_string={"enrolled_to": before}).get_data(
        as_text=True)
    assert _rows(html) == set()
    bad = admin.get("/loyalty/members", query_string={"enrolled_from": "1403/13/01"})
    assert "data-filter-errors" in bad.get_data(as_text=True)
    page = admin.get(f"/loyalty/members/{club['ali']}").get_data(as_text=True)
    assert re.search(r"data-tier-next>[^<]*طلایی", page)
    assert "۱٬۵۰۰" in page  # 2000 - 500 points missing for gold
    assert '<progress class="w-100" max="2000" value="500"' in page


def test_member_page_shows_exact_points_in_persian_digits(app, club):
    from modules.loyalty import ledger

    with app.test_request_context():
        today = ledger.today()
        ledger.earn(member(club["ali"]), 1200, reason="خرید اول", reference="INV-7",
                    expires_on=today + timedelta(days=10))
        ledger.earn(member(club["ali"]), 3000, reason="خرید دوم",
                    expires_on=today + timedelta(days=200))
        ledger.earn(member(club["ali"]), 50, reason="در انتظار", pending_days=7)
        ledger.redeem(member(club["ali"]), 200, reason="جایزه")
        db.session.commit()
        assert_ledger_ok(club["ali"])
    html = sign_in(app, "ali@example.ir").get(f"/loyalty/members/{club['ali']}").get_data(
        as_text=True)
    assert re.search(r"data-balance>۴٬۰۰۰<", html)  # 1200 + 3000 - 200 (oldest lot first)
    assert re.search(r"data-pending>۵۰<", html)
    assert re.search(r"data-expiring>۱٬۰۰۰<", html)  # the 1200 lot less the 200 spent
    card = club["ali_card"].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    grouped = " ".join(card[i:i + 4] for i in range(0, 16, 4))
    assert f'<bdi dir="ltr">{grouped}</bdi>' in html
    assert 'data-kind="earn"' in html and 'data-kind="redeem"' in html
    assert f'href="/loyalty/members/{club["ali"]}/redeem"' in html
    assert "خرید اول" in html and "INV-۷" in html


def _svg_modules(svg: bytes) -> set[tuple[int, int]]:
    """The dark modules a segno SVG path draws (``M x y``, ``h n``, ``m dx dy`` steps)."""
    root = ET.fromstring(svg)
    path = next(e for e in root.iter() if e.tag.endswith("path"))
    x = y = 0.0
    dark = set()
    for op, a, b in re.findall(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                dark.add((int(x) + i, int(y)))
            x += float(a)
    return dark


def test_qr_code_is_an_svg_of_the_card_number(app, club):
    import segno

    response = sign_in(app, "ali@example.ir").get(f"/loyalty/members/{club['ali']}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    drawn = _svg_modules(response.data)
    expected = {(x + 2, y + 2) for y, row in enumerate(segno.make(
        club["ali_card"], error="m", micro=False).matrix) for x, dark in enumerate(row) if dark}
    assert drawn == expected
    other = segno.make(club["sara_card"], error="m", micro=False).matrix
    assert drawn != {(x + 2, y + 2) for y, row in enumerate(other)
                     for x, dark in enumerate(row) if dark}


def test_adjust_needs_a_reason_and_a_manager(app, club):
    admin = sign_in(app, "admin@example.ir")
    url = f"/loyalty/members/{club['ali']}"
    token = csrf_from(admin.get(url))
    with force_locale("en"):
        refused = admin.post(url + "/adjust", data={"points": "۱۵۰", "reason": "  ",
                                                    "csrf_token": token},
                             follow_redirects=True)
    assert "alert-danger" in refused.get_data(as_text=True)
    with app.app_context():
        assert member(club["ali"]).balance == 0
    done = admin.post(url + "/adjust", data={"points": "۱۵۰", "reason": "جبران تأخیر",
                                            "csrf_token": token}, follow_redirects=True)
    assert "alert-success" in done.get_data(as_text=True)
    admin.post(url + "/adjust", data={"points": "-40", "reason": "اصلاح",
                                      "csrf_token": token})
    too_much = admin.post(url + "/adjust", data={"points": "-1000", "reason": "اصلاح",
                                                 "csrf_token": token}, follow_redirects=True)
    assert "alert-danger" in too_much.get_data(as_text=True)
    with app.app_context():
        from modules.loyalty.models.ledger import Entry

        assert member(club["ali"]).balance == 110
        kinds = db.session.execute(select(Entry.kind, Entry.points, Entry.reason).where(
            Entry.member_id == club["ali"]).order_by(Entry.id)).all()
        assert kinds == [("adjust", 150, "جبران تأخیر"), ("adjust", -40, "اصلاح")]
        assert_ledger_ok(club["ali"])
    agent = sign_in(app, "ali@example.ir")
    token = csrf_from(agent.get(url))
    assert agent.post(url + "/adjust", data={"points": "5", "reason": "x",
                                             "csrf_token": token}).status_code == 403


def test_opt_out_and_rejoin(app, club):
    from modules.loyalty import ledger

    agent = sign_in(app, "ali@example.ir")
    url = f"/loyalty/members/{club['ali']}"
    token = csrf_from(agent.get(url))
    agent.post(url + "/opt-out", data={"csrf_token": token})
    with app.test_request_context():
        assert member(club["ali"]).status == "opted_out"
        with pytest.raises(ledger.LedgerError):
            ledger.earn(member(club["ali"]), 10, reason="x")
        db.session.rollback()
    assert "data-opted-out" in agent.get(url).get_data(as_text=True)
    agent.post(url + "/rejoin", data={"csrf_token": token})
    with app.app_context():
        assert member(club["ali"]).status == "active"


def test_enrol_a_customer_by_hand(app, club):
    from modules.loyalty.members import member_of

    customer_id = make_customer(app, "ali@example.ir", first_name="نگار", last_name="امینی",
                                mobiles=["09351234567"])
    agent = sign_in(app, "ali@example.ir")
    picker = agent.get("/loyalty/members/enrol", query_string={"customer_q": "نگار"})
    assert f'data-customer="{customer_id}"' in picker.get_data(as_text=True)
    response = agent.post("/loyalty/members/enrol", data={
        "customer_id": customer_id, "csrf_token": csrf_from(picker)})
    assert response.status_code == 302
    with app.app_context():
        joined = member_of(customer_id)
        assert joined.enrolled_via == "manual" and joined.owner_id is not None
        assert response.headers["Location"].endswith(f"/loyalty/members/{joined.id}")
    again = agent.post("/loyalty/members/enrol", data={
        "customer_id": customer_id, "csrf_token": csrf_from(picker)})
    assert again.status_code == 302
    other = make_customer(app, "sara@example.ir", last_name="دیگری")
    assert agent.post("/loyalty/members/enrol", data={
        "customer_id": other, "csrf_token": csrf_from(picker)}).status_code == 404
    page = agent.get(f"/customers/{make_customer(app, 'ali@example.ir', last_name='تازه')}")
    assert "/loyalty/members/enrol?customer=" in page.get_data(as_text=True)


def test_import_reports_every_bad_row_and_dry_run_saves_nothing(app, club):
    from modules.loyalty.members import member_of

    ok = make_customer(app, None, last_name="یک", mobiles=["09120000001"])
    two = make_customer(app, None, last_name="دو", mobiles=["09120000002"])
    with app.app_context():
        code = member(club["sara"]).referral_code
    text = "\n".join([
        "mobile,customer_id,referral_code",
        "۰۹۱۲۰۰۰۰۰۰۱,,",             # 2: enrol
        f",{two},{code}",             # 3: enrol by id, referred by sara
        "09129999999,,",              # 4: nobody has it
        "not-a-mobile,,",             # 5: not a mobile
        "09121110001,,",              # 6: ali is already a member
        "09120000001,,",              # 7: the same customer again
        f",{two + 100},",             # 8: no such customer
        f",{ok},ZZZZZZZZ",            # 9: duplicate (ok seen) -> reported as such
        ",,",                         # blank: skipped
    ]) + "\n"
    admin = sign_in(app, "admin@example.ir")
    page = admin.get("/loyalty/members/import")

    def send(dry):
        data = {"file": (io.BytesIO(text.encode()), "members.csv"),
                "csrf_token": csrf_from(page)}
        if dry:
            data["dry_run"] = "y"
        return admin.post("/loyalty/members/import", data=data,
                          content_type="multipart/form-data").get_data(as_text=True)

    with force_locale("en"):
        html = send(True)
    statuses = dict(re.findall(r'data-line="(\d+)" data-status="(\w+)"', html))
    assert statuses == {"2": "enrolled", "3": "enrolled", "4": "error", "5": "error",
                        "6": "member", "7": "error", "8": "error", "9": "error"}
    with app.app_context():
        assert member_of(ok) is None and member_of(two) is None
    send(False)
    with app.app_context():
        assert member_of(ok).enrolled_via == "import"
        assert member_of(two).referred_by_id == club["sara"]
    broken = admin.post("/loyalty/members/import", data={
        "file": (io.BytesIO(b"name\nx\n"), "m.csv"), "csrf_token": csrf_from(page)},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "data-file-problem" in broken


def test_customer_page_has_the_club_card_and_timeline(app, club):
    from modules.loyalty import ledger

    with app.test_request_context():
        ledger.earn(member(club["ali"]), 75, reason="خرید", reference="INV-9")
        db.session.commit()
        customer_id = member(club["ali"]).customer_id
    agent = sign_in(app, "ali@example.ir")
    with recorded_statements(app) as seen:
        html = agent.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert 'data-panel="club"' in html
    assert re.search(r"data-panel-balance>۷۵<", html)
    assert "INV-۹" in html  # the earn entry on the timeline, in the reader's digits
    # the timeline, the club card and the actions share one lookup of the membership
    assert len([s for s in seen if re.search(r"FROM loyalty_member\b", s)]) == 1


def test_member_page_links_rewards_to_redeem(app, club):
    from modules.loyalty import ledger
    from modules.loyalty.models.rewards import Reward

    with app.test_request_context():
        ledger.earn(member(club["ali"]), 800, reason="خرید")
        reward = Reward(kind="coupon", name_fa="کوپن ده درصد", name_en="10% off",
                        cost_points=500, percent_bp=1000, active=True)
        db.session.add(reward)
        db.session.commit()
        reward_id = reward.id
    html = sign_in(app, "ali@example.ir").get(f"/loyalty/members/{club['ali']}").get_data(
        as_text=True)
    assert f'href="/loyalty/members/{club["ali"]}/redeem?reward_id={reward_id}"' in html
