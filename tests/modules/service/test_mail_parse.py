"""Reading inbound mails: Persian headers and bodies, HTML, quoted history, auto-replies."""

from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from modules.service.mail_parse import (
    html_to_text,
    parse,
    strip_quoted,
    ticket_reference,
)


def test_persian_subject_and_sender_name_in_encoded_words():
    msg = EmailMessage()
    msg["From"] = str(Header("علی رضایی", "utf-8")) + " <Ali@Example.IR>"
    msg["To"] = "support@peyvand.test"
    msg["Subject"] = "خرابی یخچال ساید بای ساید"
    msg["Message-ID"] = "<a1@example.ir>"
    msg.set_content("یخچال من خنک نمی‌کند.")
    mail = parse(msg.as_bytes())
    assert mail.subject == "خرابی یخچال ساید بای ساید"
    assert mail.from_name == "علی رضایی"
    assert mail.from_address == "ali@example.ir"
    assert mail.message_id == "<a1@example.ir>"
    assert mail.text == "یخچال من خنک نمی‌کند."
    assert mail.auto is False


def test_windows_1256_body_and_subject_read_with_persian_letters():
    # windows-1256 only has the Arabic yeh and kaf: Persian mail written in it uses them
    part = MIMEText("سلام، فاکتور من نرسيده است. كارت", "plain", "windows-1256")
    part["From"] = "b@example.ir"
    part["Subject"] = Header("فاکتور تعميري", "windows-1256").encode()
    mail = parse(part.as_bytes())
    assert mail.text == "سلام، فاکتور من نرسیده است. کارت"
    assert mail.subject == "فاکتور تعمیری"
    # no Message-ID: one is derived from the content, the same each time
    assert mail.message_id.startswith("<sha256-")
    assert parse(part.as_bytes()).message_id == mail.message_id


def test_undeclared_windows_1256_bytes_are_still_read():
    raw = (b"From: c@example.ir\nSubject: x\nContent-Type: text/plain\n\n"
           + "گارانتي".encode("windows-1256"))
    assert parse(raw).text == "گارانتی"


def test_html_only_mail_becomes_text_without_scripts_or_quotes():
    outer = MIMEMultipart("alternative")
    outer["From"] = "d@example.ir"
    outer["Subject"] = "html"
    outer.attach(MIMEText(
        "<html><head><style>p{color:red}</style></head><body><p>سلام&nbsp;دوباره</p>"
        "<script>alert(1)</script><div>خط دوم<br>خط سوم</div>"
        "<blockquote>پیام قبلی شما</blockquote></body></html>", "html", "utf-8"))
    text = parse(outer.as_bytes()).text
    assert text.splitlines() == ["سلام دوباره", "خط دوم", "خط سوم"]
    assert "alert" not in text and "color" not in text and "پیام قبلی" not in text


def test_plain_text_is_preferred_over_html():
    outer = MIMEMultipart("alternative")
    outer["From"] = "d@example.ir"
    outer.attach(MIMEText("plain version", "plain", "utf-8"))
    outer.attach(MIMEText("<p>html version</p>", "html", "utf-8"))
    assert parse(outer.as_bytes()).text == "plain version"


def test_quoted_history_below_the_reply_marker_is_dropped():
    english = ("Thanks, it works now.\n\nOn Tue, 3 Nov 2026 at 10:00, Support "
               "<support@peyvand.test> wrote:\n> Please restart it.\n> Regards")
    assert strip_quoted(english) == "Thanks, it works now."
    persian = ("ممنون، درست شد.\n\nدر تاریخ سه‌شنبه ۱۳ آبان ۱۴۰۵، پشتیبانی "
               "<support@peyvand.test> نوشت:\n> لطفاً دستگاه را خاموش و روشن کنید.")
    assert strip_quoted(persian) == "ممنون، درست شد."
    outlook = "Yes please.\n\n-----Original Message-----\nFrom: Support\nSubject: x"
    assert strip_quoted(outlook) == "Yes please."
    # a mail that is only a quote keeps its text rather than becoming empty
    assert strip_quoted("> only a quote") == "> only a quote"


def test_ticket_reference_in_the_subject_in_any_digits():
    assert ticket_reference("Re: [T-000123] خرابی") == 123
    assert ticket_reference("پاسخ: [T-۰۰۰۱۲۴] خرابی") == 124
    assert ticket_reference("T-000123 without brackets") is None


def test_thread_ids_nearest_first():
    raw = (b"From: e@example.ir\nMessage-ID: <3@x>\nIn-Reply-To: <2@x>\n"
           b"References: <1@x> <2@x>\n\nhi")
    mail = parse(raw)
    assert mail.thread_ids == ["<2@x>", "<1@x>"]


def test_auto_replies_and_bounces_are_recognised():
    base = "From: {sender}\nSubject: Out of office\n{extra}\n\nI am away."
    cases = [("f@example.ir", "Auto-Submitted: auto-replied"),
             ("f@example.ir", "Precedence: bulk"),
             ("f@example.ir", "X-Autoreply: yes"),
             ("MAILER-DAEMON@mx.example.ir", "X-Note: bounce")]
    for sender, extra in cases:
        assert parse(base.format(sender=sender, extra=extra).encode()).auto, extra
    assert not parse(base.format(sender="f@example.ir",
                                 extra="Auto-Submitted: no").encode()).auto


def test_attachments_are_collected_with_their_names():
    msg = EmailMessage()
    msg["From"] = "g@example.ir"
    msg.set_content("see the photo")
    msg.add_attachment(b"\x89PNG\r\n\x1a\nrest", maintype="image", subtype="png",
                       filename="عکس خرابی.png")
    mail = parse(msg.as_bytes())
    assert mail.text == "see the photo"
    assert mail.attachments == [("عکس خرابی.png", b"\x89PNG\r\n\x1a\nrest", "image/png")]


def test_garbage_never_raises():
    for raw in (b"", b"\x00\xff\xfe garbage", b"Subject: =?bogus?q?x?=\n\n\xff"):
        mail = parse(raw)
        assert mail.message_id.startswith("<sha256-")


def test_html_to_text_entities():
    assert html_to_text("<p>a &amp; b</p><p>&#1587;&#1604;&#1575;&#1605;</p>") == "a & b\nسلام"
