"""Invoice PDFs through the app, as a ratio to WeasyPrint rendering the same HTML directly.

    .venv/bin/python bench/invoice_pdf.py [--rounds 7] [--lines-long 205]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Seeds a throwaway deployment (SQLite unless --database-url) with the company's fields, a
buyer, a 1-page invoice (3 lines) and a 10-page one (``--lines-long`` lines), both posted.
Then, in interleaved rounds, times:

- through the app: ``GET /sales/invoices/<id>/pdf`` by a signed-in user (the whole Flask
  stack: session, licence and permission gates, record scope, the query, the Jinja template,
  WeasyPrint, the response);
- directly: ``weasyprint.HTML(string=the same HTML, base_url=core/static).write_pdf()`` with a
  font configuration made once (what a bare script rendering that HTML would do).

Prints the medians and direct/app (1.0 = the app adds nothing; target >= 0.8).
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import ADMIN_EMAIL, ADMIN_PASSWORD, deployment  # noqa: E402

COMPANY = {"company.legal_name": "شرکت پیوند نوین", "company.national_id": "10101010103",
           "company.economic_code": "10101010103", "company.postal_code": "1311111111",
           "company.address": "تهران، خیابان آزادی، پلاک ۱۰"}


def pages(data: bytes) -> str:
    """The page count, from pdfinfo (poppler-utils) when it is installed."""
    if shutil.which("pdfinfo") is None:
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return found.group(1) if found else "?"


def seed(app, long_lines: int) -> tuple[int, int]:
    from core.admin.services import create_or_update_user
    from core.auth.models import User
    from core.customers.services import create_customer
    from core.database import set_setting
    from core.extensions import db
    from modules.sales import invoices
    from modules.sales.catalog import create_product

    with app.test_request_context("/", method="POST"):
        user = create_or_update_user(email=ADMIN_EMAIL, password=ADMIN_PASSWORD,
                                     role_name="admin", name="Bench admin", seats=["sales"])
        for key, value in COMPANY.items():
            set_setting(key, value)
        customer = create_customer(
            by=user, kind="organisation", legal_name="شرکت بازرگانی آلفا",
            display_name="آلفا", national_id="10320891189", economic_code="10320891189",
            address={"province": "اصفهان", "city": "اصفهان", "line": "خیابان چهارباغ",
                     "postal_code": "8173111111"})
        product = create_product(code="LAP", name="لپ تاپ اداری", price=45_000_000)
        short = invoices.create_invoice(customer, [
            {"product_id": product.id, "quantity": 2, "discount_percent": 5},
            {"description": "نصب و راه اندازی", "quantity": "1.5", "unit": "ساعت",
             "unit_price": 2_000_000},
            {"description": "حمل", "quantity": 1, "unit_price": 750_000}], by=user)
        long = invoices.create_invoice(customer, [
            {"description": f"قطعه یدکی شماره {n}", "quantity": "1.5", "unit": "عدد",
             "unit_price": 1_000_000 + 137 * n, "discount_percent": n % 7}
            for n in range(long_lines)], by=user)
        db.session.commit()
        ids, user_id = (short.id, long.id), user.id
    for invoice_id in ids:
        with app.test_request_context("/", method="POST"):
            invoices.post_invoice(invoice_id, by=db.session.get(User, user_id))
            db.session.commit()
    return ids


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/auth/login").data.decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                                 "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit("could not sign in for the benchmark")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--lines-long", type=int, default=205)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from core.extensions import db
    from modules.sales.models.documents import Invoice
    from modules.sales.pdf import STATIC_DIR, invoice_html

    with deployment(args.database_url) as dep:
        app = dep.app()
        ids = seed(app, args.lines_long)
        client = signed_in_client(app)
        fonts = FontConfiguration()
        results = {}
        for label, invoice_id in zip(("1-page", "10-page"), ids, strict=True):
            with app.test_request_context():
                html = invoice_html(db.session.get(Invoice, invoice_id))
            url = f"/sales/invoices/{invoice_id}/pdf"
            first = client.get(url)  # warm: templates compiled, fonts loaded
            if first.status_code != 200 or first.mimetype != "application/pdf":
                raise SystemExit(f"{url} answered {first.status_code}")
            HTML(string=html, base_url=STATIC_DIR.as_uri() + "/").write_pdf(font_config=fonts)
            through_app, direct = [], []
            for _ in range(args.rounds):  # interleaved, medians: drift hits both alike
                start = time.perf_counter()
                data = client.get(url).data
                through_app.append(time.perf_counter() - start)
                start = time.perf_counter()
                HTML(string=html, base_url=STATIC_DIR.as_uri() + "/").write_pdf(
                    font_config=fonts)
                direct.append(time.perf_counter() - start)
            results[label] = (pages(data), through_app, direct)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    print(f"database: {dep.dialect}; {args.rounds} interleaved rounds (median; fastest)")
    for label, (count, through_app, direct) in results.items():
        app_time, direct_time = statistics.median(through_app), statistics.median(direct)
        print(f"{label:8} invoice ({count:>2} pages): app {app_time * 1000:7.0f} ms   "
              f"WeasyPrint direct {direct_time * 1000:7.0f} ms   "
              f"ratio direct/app {direct_time / app_time:.3f} "
              f"(fastest runs: {min(direct) / min(through_app):.3f})  target >= 0.8")


if __name__ == "__main__":
    main()
