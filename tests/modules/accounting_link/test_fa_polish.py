"""Journal pages in Persian: one money format for every amount, document numbers in writing
order, club entries named by the invoice; the CSV keeps rials and says so."""

import csv
import io

from flask_babel import force_locale

from core.extensions import db
from core.i18n import LRI, PDI, to_persian_digits
from tests.modules.accounting_link.journal_helpers import entry, seed, two_category_invoice


def _points_invoice(app, make_user):
    """A posted invoice to a club member under a spend rule, shown in tomans."""
    from core.customers.models import Customer
    from core.database import set_setting
    from modules.loyalty.members import enrol
    from modules.loyalty.models.rules import Rule

    seeded = seed(app, make_user)
    with app.test_request_context():
        set_setting("display.unit", "toman")
        set_setting("display.language", "fa")
        db.session.add(Rule(name="خرید", kind="spend", points=1, per_amount=10_000))
        enrol(db.session.get(Customer, seeded["customer"]), via="manual")
        db.session.commit()
    return two_category_invoice(app, seeded)


def test_entry_page_shows_every_amount_in_the_deployment_unit(app, client, login, make_user):
    from core.money import format_money
    from modules.sales.models.documents import Invoice

    invoice_id = _points_invoice(app, make_user)
    with app.test_request_context():
        posted = entry(f"sales.invoice:{invoice_id}")
        total, entry_id = posted.total, posted.id
        reference = db.session.get(Invoice, invoice_id).reference
        first_debit = next(line.debit for line in posted.lines if line.debit)
        with force_locale("fa"):
            total_text = format_money(total)
            debit_text = format_money(first_debit, with_unit=False)
    login()
    html = client.get(f"/accounting/journal/{entry_id}").get_data(as_text=True)
    assert f"<bdi data-entry-total>{total_text}</bdi>" in html and "تومان" in total_text
    assert f"<bdi data-line-debit>{debit_text}</bdi>" in html
    assert "(تومان)" in html.split("data-entry-lines", 1)[1].split("</thead>", 1)[0]
    # the rial figure never shows unlabelled next to the toman total
    rials = format(first_debit, ",").translate(str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬"))
    assert f">{rials}<" not in html
    # the description names the invoice with its number isolated
    isolated = f"{LRI}{to_persian_digits(reference)}{PDI}"
    description = html.split("<h1", 1)[1].split("</header>", 1)[0]
    assert isolated in description

    journal = client.get("/accounting/journal").get_data(as_text=True)
    card = journal.split(f'data-entry-key="sales.invoice:{invoice_id}"', 1)[1]
    assert isolated in card.split("data-entry-description>", 1)[1].split("</span>", 1)[0]
    trial = client.get("/accounting/trial-balance").get_data(as_text=True)
    assert "(تومان)" in trial.split("data-trial-balance", 1)[1].split("</thead>", 1)[0]


def test_club_points_entry_names_the_invoice_number(app, make_user):
    from modules.loyalty.models.ledger import Entry
    from modules.sales.models.documents import Invoice

    invoice_id = _points_invoice(app, make_user)
    with app.app_context():
        earned = db.session.execute(db.select(Entry).where(Entry.kind == "earn")).scalar_one()
        assert earned.reference == f"sales.invoice:{invoice_id}"
        points = entry(f"loyalty.entry:{earned.id}")
        number = to_persian_digits(db.session.get(Invoice, invoice_id).reference)
        assert points.reference == number
        assert "sales.invoice" not in points.reference + points.description


def test_csv_keeps_rials_and_names_the_unit_and_no_bidi_marks(app, client, login, make_user):
    from core.i18n import jdate
    from modules.accounting_link import exports
    from modules.sales.models.documents import Invoice

    invoice_id = _points_invoice(app, make_user)
    login()
    with app.test_request_context():
        posted = entry(f"sales.invoice:{invoice_id}")
        day = jdate(posted.entry_date, locale="en")
        invoice_total = db.session.get(Invoice, invoice_id).total
        rows = list(exports.journal_rows(posted.entry_date, posted.entry_date))
    assert all(LRI not in str(cell) and PDI not in str(cell) for row in rows for cell in row)
    response = client.get("/accounting/trial-balance",
                          query_string={"from": day, "to": day, "format": "csv"})
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table[0]) == 7 and all(cell.endswith(" (ریال)") for cell in table[0][3:])
    receivables = next(row for row in table[1:] if row[0] == "1104")
    assert int(receivables[4]) == invoice_total  # rials, not tomans
