"""Issue 2: inquiry mail in a Maildir becomes a project, the client gets one
acknowledgement; history, routing, classification, quarantine, dedupe."""
import base64
import fcntl
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import time
import unittest

from inkenv import INKFLOW, SLOW, TOP, Env, body_html, body_text, build_kind, make_mail, run_memory

SAMPLES = os.path.join(TOP, "mailboxes", "inbox", "new")


class SampleInbox(unittest.TestCase):
    """The sample inbox shipped in mailboxes/ (what `./setup.sh demo` runs)."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        for n in sorted(os.listdir(SAMPLES)):
            shutil.copy(os.path.join(SAMPLES, n), os.path.join(cls.env.inbox, "new", n))
        cls.env.init()
        cls.first = cls.env.once().stdout.decode()
        cls.second = cls.env.once().stdout.decode()
        cls.projects = {p["id"]: p for p in cls.env.json("project", "list")}
        cls.mails = cls.env.json("mail", "list")

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def by_sender(self, addr):
        return [m for m in self.mails if m["from_addr"] == addr]

    def test_summary_printed(self):
        self.assertIn("9 messages read", self.first)
        self.assertIn("5 new projects (INK-1 … INK-5)", self.first)
        self.assertIn("0 new projects", self.second)
        self.assertIn("0 messages read", self.second)

    def test_every_message_accounted(self):
        self.assertEqual(len(self.mails), 9)
        self.assertEqual(self.env.inbox_unseen(), [])

    def test_projects_owners_languages(self):
        want = {
            "m.wisniewska@reklama-baltyk.pl": ("a.nowak", "pl", "PLN"),
            "j.mueller@werbung-mueller.de": ("k.schmidt", "de", "EUR"),
            "jan.kowalski.poznan@gmail.com": (None, "pl", "PLN"),
            "lukasz@agencja-wektor.pl": ("p.kowalczyk", "pl", "PLN"),
            "office@druck-hofer.at": ("k.schmidt", "de", "EUR"),
        }
        got = {p["contact"]: (p["owner"], p["lang"], p["currency"])
               for p in self.projects.values()}
        self.assertEqual(got, want)
        # With an owner the project waits for the calculation; without one,
        # in inquiry until BOK assigns a rep.
        for p in self.projects.values():
            self.assertEqual(p["state"], "calculation" if p["owner"] else "inquiry")

    def test_decoded_titles(self):
        titles = sorted(p["title"] for p in self.projects.values())
        self.assertEqual(titles, sorted([
            "Zapytanie ofertowe – banery na ogrodzenie hali",
            "Anfrage: Roll-ups und Messebanner für Leipzig",
            "Plakat i naklejka na witrynę",
            "Oklejenie auta – wycena z montażem",
            "Anfrage Alu-Dibond Schild für Linz",
        ]))

    def test_one_ack_per_inquiry_in_client_language(self):
        acks = [m for m in self.env.sent() if m["Auto-Submitted"] == "auto-generated"
                and not str(m["To"]).endswith("@bmt.example>")]
        self.assertEqual(len(acks), 5)
        for m in acks:
            to = m["To"].addresses[0].addr_spec
            proj = [p for p in self.projects.values() if p["contact"] == to][0]
            tag = "[INK-%d]" % proj["id"]
            self.assertIn(tag, str(m["Subject"]))
            text = body_text(m)
            self.assertIn("INK-%d" % proj["id"], text)
            if proj["lang"] == "de":
                self.assertTrue(str(m["Subject"]).startswith("Eingangsbestätigung"))
                self.assertIn("Mit freundlichen Grüßen", text)
            else:
                self.assertTrue(str(m["Subject"]).startswith("Potwierdzenie przyjęcia"))
                self.assertIn("Z poważaniem", text)
            self.assertIn(proj["title"], str(m["Subject"]))
            self.assertIn("INK-%d" % proj["id"], body_html(m))

    def test_ack_headers(self):
        ack = [m for m in self.env.sent_to("m.wisniewska@reklama-baltyk.pl")][0]
        inquiry = "AM6PR03MB5123A1B2C3D4E5F6A7B8C9D0E1@AM6PR03MB5123.eurprd03.prod.outlook.com"
        self.assertEqual(ack["In-Reply-To"], "<%s>" % inquiry)
        self.assertIn(inquiry, str(ack["References"]))
        self.assertRegex(ack["Message-ID"], r"^<ink-1-[0-9a-f]{24}@bmt\.example>$")
        self.assertEqual(ack["Auto-Submitted"], "auto-generated")
        self.assertEqual(ack["From"].addresses[0].addr_spec, "biuro@bmt.example")
        self.assertEqual(ack["From"].addresses[0].display_name, "BMT Druk Wielkoformatowy")
        self.assertEqual(ack["To"].addresses[0].display_name, "Małgorzata Wiśniewska")
        self.assertEqual(ack.get_content_type(), "multipart/alternative")
        raw_headers = ack.raw.split(b"\n\n", 1)[0]
        self.assertTrue(all(b < 128 for b in raw_headers), "headers must be 7-bit")
        for line in raw_headers.split(b"\n"):
            # 78 columns unless the line is one unbreakable token (a long msg-id)
            if len(line) > 78:
                self.assertNotIn(b" ", line.split(b": ", 1)[1].strip(), line)
            self.assertLessEqual(len(line), 998)
        self.assertIn("Anna Nowak", body_text(ack))

    def test_owner_and_bok_tasks(self):
        staff = [m for m in self.env.sent() if str(m["To"]).endswith("@bmt.example>")]
        to = sorted(m["To"].addresses[0].addr_spec for m in staff)
        # Anna: prepare the calculation, then "the client wrote" (the follow-up)
        self.assertEqual(to.count("anna.nowak@bmt.example"), 2)
        self.assertEqual(to.count("katharina.schmidt@bmt.example"), 2)
        self.assertEqual(to.count("piotr.kowalczyk@bmt.example"), 1)
        # BOK: assign a rep for the Gmail client, review the hijack attempt
        self.assertEqual(to.count("bok@bmt.example"), 2)
        de = [m for m in staff if "katharina" in str(m["To"])][0]
        self.assertIn("Kalkulation erstellen", str(de["Subject"]))
        gmail = [p for p in self.projects.values() if p["owner"] is None][0]
        show = self.env.json("project", "show", str(gmail["id"]))
        self.assertEqual([t["kind"] for t in show["tasks"]], ["assign-rep"])
        self.assertEqual(show["tasks"][0]["assignee"], "m.zak")

    def test_followup_routed_by_tag(self):
        ms = self.by_sender("m.wisniewska@reklama-baltyk.pl")
        self.assertEqual(len(ms), 2)
        self.assertEqual([m["project"] for m in ms], [1, 1])
        self.assertEqual(ms[1]["reason"], "subject tag")
        hist = self.env.json("project", "show", "1")["history"]
        kinds = [e["kind"] for e in hist]
        self.assertEqual(kinds.count("mail-in"), 2)
        for k in ("project-created", "owner-assigned", "task-created", "mail-out"):
            self.assertIn(k, kinds)

    def test_hijack_held_not_attached(self):
        m = self.by_sender("t.lis@konkurencja-druk.example")[0]
        self.assertEqual(m["status"], "held")
        self.assertIsNone(m["project"])
        self.assertIn("not a contact", m["reason"])
        hist = self.env.json("project", "show", "1")["history"]
        self.assertFalse(any("konkurencja" in e["text"] for e in hist))
        held = self.env.json("mail", "list", "--status", "held")
        self.assertEqual(len(held), 1)

    def test_automatic_mail_ignored(self):
        oof = self.by_sender("k.nowicka@drukpol.com.pl")[0]
        self.assertEqual((oof["status"], oof["class"]), ("ignored", "auto-reply"))
        nl = self.by_sender("newsletter@papier-hurt.example")[0]
        self.assertEqual((nl["status"], nl["class"]), ("ignored", "list"))
        self.assertEqual(self.env.sent_to("k.nowicka@drukpol.com.pl"), [])
        self.assertEqual(self.env.sent_to("newsletter@papier-hurt.example"), [])

    def test_attachments_stored_with_names_and_hashes(self):
        de = self.by_sender("j.mueller@werbung-mueller.de")[0]
        att = de["attachments"]
        self.assertEqual(len(att), 1)
        self.assertEqual(att[0]["filename"], "Druckdaten_Größe_Messewand.pdf")
        self.assertEqual(att[0]["content_type"], "application/pdf")
        path = os.path.join(self.env.data, att[0]["path"])
        with open(path, "rb") as f:
            data = f.read()
        import hashlib
        self.assertEqual(hashlib.sha256(data).hexdigest(), att[0]["sha256"])
        self.assertTrue(data.startswith(b"%PDF-1.4"))
        pl = self.by_sender("lukasz@agencja-wektor.pl")[0]
        self.assertEqual(pl["attachments"][0]["filename"], "wizualizacja_łódź.jpg")

    def test_project_show_text(self):
        out = self.env.run("project", "show", "INK-2").stdout.decode()
        self.assertIn("client:   werbung-mueller.de (de, EUR)", out)
        self.assertIn("Katharina Schmidt", out)
        self.assertIn("Druckdaten_Größe_Messewand.pdf", out)

    def test_raw_stored_with_sha256(self):
        import hashlib
        for sha, path in self.env.sql("SELECT raw_sha256, raw_path FROM messages"):
            with open(os.path.join(self.env.data, path), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha)

    def test_raw_is_the_maildir_file_not_a_copy(self):
        # The Maildir is on the data directory's file system: each stored
        # message is a second name of the message file, not written again.
        stored = {os.stat(os.path.join(self.env.data, p)).st_ino
                  for (p,) in self.env.sql("SELECT raw_path FROM messages")}
        cur = os.path.join(self.env.inbox, "cur")
        inbox = {os.stat(os.path.join(cur, n)).st_ino for n in os.listdir(cur)}
        self.assertTrue(inbox)
        self.assertLessEqual(inbox, stored)


class Behaviour(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.init()

    def tearDown(self):
        self.env.close()

    def test_same_message_twice_processed_once(self):
        raw = make_mail("Ola Test <ola@firma-testowa.pl>", "Baner 2x1", "Ile za baner?")
        self.env.put(raw)
        self.env.put(raw)  # a second delivery, other file name
        out = self.env.once().stdout.decode()
        self.assertIn("1 new project ", out)
        self.assertIn("1 already processed", out)
        self.assertEqual(len(self.env.sent_to("ola@firma-testowa.pl")), 1)
        # and again through a different transport path: extra trace header
        self.env.put(b"Received: from relay by mx; Fri, 27 Nov 2026 10:00:00 +0100\n" + raw)
        self.env.once()
        self.assertEqual(len(self.env.json("project", "list")), 1)

    def test_staff_correspondence_without_a_command(self):
        """A rep's copy of a mail to the client (biuro@ in Cc), a reply in a
        project's thread, a client's inquiry the rep forwards: no command,
        so nothing is refused and no answer goes back; what names a project
        lands in its history, a forwarded inquiry becomes a project of the
        client it came from, the rest waits for BOK."""
        env = self.env
        rep = "anna.nowak@bmt.example"
        env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Banery na ogrodzenie",
                          "Prosimy o wycenę 20 banerów.", msgid="<inq@reklama-baltyk.pl>"))
        env.once()
        before = len(env.sent())
        env.put(make_mail("Anna Nowak <%s>" % rep, "Re: [INK-1] Banery na ogrodzenie",
                          "Dzień dobry,\nprzesyłam próbki materiału w poniedziałek.\n\n"
                          "Pozdrawiam\nAnna Nowak",
                          to="Ola <ola@reklama-baltyk.pl>", msgid="<cc@bmt.example>",
                          headers={"Cc": "biuro@bmt.example"}))
        env.put(make_mail(rep, "Re: Banery na ogrodzenie", "Rozmawiałam z klientką, "
                          "termin 10 grudnia jest w porządku.", msgid="<thr@bmt.example>",
                          headers={"In-Reply-To": "<inq@reklama-baltyk.pl>"}))
        # Gmail's forward banner, Polish labels
        env.put(make_mail(rep, "Fwd: Zapytanie o roll-upy",
                          "Do wyceny proszę.\n\n---------- Forwarded message ---------\n"
                          "Od: Jan Nowy <jan@nowyklient.pl>\nDate: pt., 27 lis 2026 o 08:12\n"
                          "Subject: Zapytanie o roll-upy\nTo: <%s>\n\n"
                          "Ile kosztuje 5 roll-upów 85x200?" % rep, msgid="<fwd@bmt.example>"))
        # Outlook's, as plain text from HTML: the header block on one line
        env.put(make_mail("Anna Nowak <%s>" % rep, "PD: Anfrage Messewand",
                          "Bitte um Angebot.\n\n________________________________\n"
                          "*Von:* Jörg Weiß [mailto:j.weiss@messebau-weiss.de] *Gesendet:* "
                          "Freitag, 27. November 2026 08:30 *An:* Anna Nowak *Betreff:* "
                          "Anfrage Messewand\n\nWas kostet eine Messewand 3x2,5 m?",
                          msgid="<fwd2@bmt.example>"))
        # a forward of the shop's own mail names no client: BOK looks at it
        env.put(make_mail(rep, "FW: grafik", "Do wiadomości.\n\n-----Original Message-----\n"
                          "From: Piotr Kowalczyk <piotr.kowalczyk@bmt.example>\n"
                          "Sent: Friday, November 27, 2026 8:00 AM\nTo: Anna Nowak\n"
                          "Subject: grafik\n\nW sobotę dyżur.", msgid="<fwd3@bmt.example>"))
        env.once()
        rows = dict((r[0], r[1:]) for r in env.sql(
            "SELECT message_id, status, coalesce(project_id, 0), reason FROM messages"
            " WHERE message_id IN ('cc@bmt.example', 'thr@bmt.example', 'fwd@bmt.example',"
            " 'fwd2@bmt.example', 'fwd3@bmt.example')"))
        self.assertEqual(rows["cc@bmt.example"],
                         ("processed", 1, "staff mail to the project (no command)"))
        self.assertEqual(rows["thr@bmt.example"][:2], ("processed", 1))
        self.assertEqual(rows["fwd@bmt.example"],
                         ("processed", 2, "new inquiry, forwarded by staff"))
        self.assertEqual(rows["fwd2@bmt.example"],
                         ("processed", 3, "new inquiry, forwarded by staff"))
        self.assertEqual(rows["fwd3@bmt.example"],
                         ("held", 0, "forward from staff member a.nowak: the forwarded mail "
                                     "is from the shop itself"))
        hist = [e for e in env.json("project", "show", "1")["history"] if e["kind"] == "mail-in"]
        self.assertEqual([e["actor"] for e in hist], ["ola@reklama-baltyk.pl", "a.nowak", "a.nowak"])
        self.assertIn("Re: [INK-1] Banery na ogrodzenie", hist[1]["text"])
        # the forwarded inquiries: the client's project, the rep the owner
        # of a new client, or the rule's owner (*.de); no acknowledgement
        p2, p3 = env.json("project", "show", "2"), env.json("project", "show", "3")
        self.assertEqual(p2["title"], "Zapytanie o roll-upy")
        self.assertEqual(p3["title"], "Anfrage Messewand")
        self.assertEqual(env.sql("SELECT p.id, ct.email, ct.name, u.login FROM projects p"
                                 " JOIN contacts ct ON ct.id=p.contact_id"
                                 " JOIN users u ON u.id=p.owner_id WHERE p.id>1 ORDER BY p.id"),
                         [(2, "jan@nowyklient.pl", "Jan Nowy", "a.nowak"),
                          (3, "j.weiss@messebau-weiss.de", "Jörg Weiß", "k.schmidt")])
        kinds = [e["kind"] for e in p2["history"]]
        self.assertIn("forwarded", kinds)
        self.assertIn("mail-skipped", kinds)
        new = env.sent()[before:]
        self.assertEqual([m for m in new if "nowyklient.pl" in str(m["To"]) or
                          "messebau-weiss.de" in str(m["To"])], [])
        # the reps got their calculation tasks; nobody was told "refused"
        self.assertTrue([m for m in new if rep in str(m["To"]) and "[INK-2]" in str(m["Subject"])])
        self.assertEqual([m for m in new if rep in str(m["To"]) and
                          "[INK-2]" not in str(m["Subject"])], [])
        self.assertEqual(len([m for m in new if "bok@bmt.example" in str(m["To"])]), 1)
        self.assertEqual(env.json("mail", "list", "--status", "refused"), [])
        # the same copy with a command in it is still refused
        env.put(make_mail(rep, "Re: [INK-1] Banery", "AKCEPTUJ\n\nAnna",
                          msgid="<cmd@bmt.example>"))
        env.once()
        self.assertEqual(env.sql("SELECT status, reason FROM messages WHERE"
                                 " message_id='cmd@bmt.example'"),
                         [("refused", "command without a task token")])

    def test_spam_opens_no_project(self):
        """Mail the server's spam filter marked opens no project and gets no
        acknowledgement (no backscatter); a client's reply in a project is
        never lost to a misjudging filter."""
        env = self.env
        env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Banery na ogrodzenie",
                          "Prosimy o wycenę 20 banerów.", msgid="<inq@reklama-baltyk.pl>"))
        env.once()
        before = len(env.sent())
        env.put(make_mail("Best Pharmacy <sales@cheap-meds.example>", "Cheap banners!!!",
                          "Buy now", msgid="<s1@cheap-meds.example>",
                          headers={"X-Spam-Flag": "YES", "X-Spam-Status":
                                   "Yes, score=12.3 required=5.0 tests=BAYES_99"}))
        # as Exchange Online writes it: long, folded at a ';'
        env.put(b"X-Forefront-Antispam-Report:\r\n\tCIP:203.0.113.9;CTRY:;LANG:de;SCL:9;SRV:;"
                b"IPV:NLI;SFV:SPM;H:mx.promo.example;PTR:InfoNoRecords;\r\n\tCAT:SPM;"
                b"SFS:(13230031)(4636009);DIR:INB;\r\n" +
                make_mail("x@promo.example", "Angebot", "Klicken Sie hier",
                          msgid="<s2@promo.example>"))
        env.put(make_mail("jan@firma-testowa.pl", "[SPAM] Zapytanie o ulotki",
                          "Ile kosztuje 1000 ulotek A5?", msgid="<s3@firma-testowa.pl>"))
        env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Re: [INK-1] Banery na ogrodzenie",
                          "Termin: 10 grudnia.", msgid="<r1@reklama-baltyk.pl>",
                          headers={"X-Spam-Flag": "YES"}))
        env.once()
        rows = dict((r[0], r[1:]) for r in env.sql(
            "SELECT message_id, status, class, coalesce(project_id, 0), reason FROM messages"
            " WHERE id > 1"))
        self.assertEqual(rows["s1@cheap-meds.example"],
                         ("ignored", "spam", 0, "spam (X-Spam-Flag: YES)"))
        self.assertEqual(rows["s2@promo.example"],
                         ("ignored", "spam", 0, "spam (X-Forefront-Antispam-Report: sfv:spm)"))
        self.assertEqual(rows["s3@firma-testowa.pl"],
                         ("ignored", "spam", 0, "spam (subject: [SPAM])"))
        self.assertEqual(rows["r1@reklama-baltyk.pl"][:3], ("processed", "normal", 1))
        self.assertEqual(len(env.json("project", "list")), 1)
        new = env.sent()[before:]
        self.assertEqual([str(m["To"]) for m in new
                          if "example" in str(m["To"]) and "bmt.example" not in str(m["To"])
                          or "firma-testowa" in str(m["To"])], [])

    def test_exchange_suppress_header_is_not_an_auto_reply(self):
        """Exchange puts X-Auto-Response-Suppress on a person's mail too (to a
        distribution group, from applications): such an inquiry opens a
        project; Exchange's real out-of-office reply is still ignored."""
        env = self.env
        env.put(make_mail("Katarzyna Zielińska <k.zielinska@hotel-morski.pl>",
                          "Zapytanie o banery na fasadę", "Prosimy o wycenę 3 banerów 6×2 m.",
                          msgid="<AM0PR01MB1@hotel-morski.pl>",
                          headers={"X-Auto-Response-Suppress": "All",
                                   "X-MS-Exchange-Organization-SCL": "1",
                                   "Thread-Index": "AQHbQ1x2Yw=="}))
        env.put(make_mail("Katarzyna Zielińska <k.zielinska@hotel-morski.pl>",
                          "Automatyczna odpowiedź: Oferta", "Jestem na urlopie do 7 grudnia.",
                          msgid="<AM0PR01MB2@hotel-morski.pl>",
                          headers={"X-Auto-Response-Suppress": "All",
                                   "Auto-Submitted": "auto-generated"}))
        env.once()
        rows = dict((r[0], r[1:]) for r in env.sql(
            "SELECT message_id, status, class, coalesce(project_id, 0) FROM messages"))
        self.assertEqual(rows["AM0PR01MB1@hotel-morski.pl"], ("processed", "normal", 1))
        self.assertEqual(rows["AM0PR01MB2@hotel-morski.pl"], ("ignored", "auto-reply", 0))
        self.assertEqual(len([m for m in env.sent_to("k.zielinska@hotel-morski.pl")]), 1)

    def test_mail_passed_on_by_the_shops_own_group(self):
        """biuro@ as a Google Group: its List-ID, Precedence: list and
        List-Unsubscribe are on every mail it passes on and say nothing of
        the sender. A client's inquiry (its From rewritten for DMARC) opens
        a project for the client; a newsletter, whose own fields follow the
        group's, is still list mail."""
        env = self.env
        group = ("Precedence: list\r\n"
                 "Mailing-list: list biuro@bmt.example; contact biuro+owners@bmt.example\r\n"
                 "List-ID: <biuro.bmt.example>\r\n"
                 "X-Google-Group-Id: 718273645501\r\n"
                 "List-Post: <https://groups.google.com/a/bmt.example/group/biuro/post>,"
                 " <mailto:biuro@bmt.example>\r\n"
                 "List-Unsubscribe: <mailto:googlegroups-manage+718273645501+unsubscribe@"
                 "googlegroups.com>,\r\n <https://groups.google.com/a/bmt.example/group/biuro/"
                 "subscribe>\r\n").encode()
        env.put(group + make_mail("'Jan Kowalski' via Biuro <biuro@bmt.example>",
                                  "Naklejki na witrynę", "Proszę o wycenę naklejek 2×1 m.",
                                  msgid="<CAG7x1@mail.gmail.com>",
                                  headers={"Reply-To": "Jan Kowalski <jan.kowalski@gmail.com>",
                                           "X-Original-Sender": "jan.kowalski@gmail.com"}))
        env.put(group + make_mail("Folie-Hurt <news@folie-hurt.example>", "Nowości w grudniu",
                                  "Nowe folie wylewane.", msgid="<n1@folie-hurt.example>",
                                  headers={"Precedence": "bulk", "List-Unsubscribe":
                                           "<https://folie-hurt.example/u/77>"}))
        env.once()
        rows = dict((r[0], r[1:]) for r in env.sql(
            "SELECT message_id, status, class, coalesce(project_id, 0), reason FROM messages"))
        self.assertEqual(rows["CAG7x1@mail.gmail.com"][:3], ("processed", "normal", 1))
        self.assertEqual(rows["n1@folie-hurt.example"],
                         ("ignored", "list", 0, "list (Precedence: bulk)"))
        self.assertEqual(env.sql("SELECT email, name FROM contacts"),
                         [("jan.kowalski@gmail.com", "Jan Kowalski")])
        self.assertEqual(len(env.sent_to("jan.kowalski@gmail.com")), 1)
        self.assertEqual(env.sent_to("biuro@bmt.example"), [])

    def test_language_of_a_new_client_from_the_text(self):
        """No assignment rule names a language for gmail.com or a .com domain:
        a client who writes German gets German (and euros), one who writes
        Polish Polish, one who writes English the shop's default."""
        env = self.env
        env.put(make_mail("Uwe Brandt <uwe.brandt@gmail.com>", "Anfrage Planen mit Ösen",
                          "Guten Tag,\nwir benötigen 6 Planen 4×2 m für eine Baustelle.\n"
                          "Mit freundlichen Grüßen\nUwe Brandt", msgid="<de1@gmail.com>"))
        env.put(make_mail("Jan <jan@zielona-firma.com>", "Naklejki",
                          "Dzień dobry, proszę o wycenę 200 naklejek 10×10 cm.",
                          msgid="<pl1@zielona-firma.com>"))
        env.put(make_mail("Ann <ann@studio.example>", "Quote", "Could you quote 3 banners?",
                          msgid="<en1@studio.example>"))
        env.once()
        got = dict(env.sql("SELECT ct.email, c.lang || '/' || c.currency FROM clients c"
                           " JOIN contacts ct ON ct.client_id = c.id"))
        self.assertEqual(got, {"uwe.brandt@gmail.com": "de/EUR",
                               "jan@zielona-firma.com": "pl/PLN",
                               "ann@studio.example": "pl/PLN"})
        ack = [m for m in env.sent_to("uwe.brandt@gmail.com")]
        self.assertEqual(len(ack), 1)
        self.assertTrue(str(ack[0]["Subject"]).startswith("Eingangsbestätigung"))
        self.assertIn("Mit freundlichen Grüßen", body_text(ack[0]))

    def test_resent_inquiry_joins_its_project(self):
        """A client who resends an inquiry (a forward of their own mail, or
        the same mail again) adds to its project; the same words with another
        file, another subject, or from someone else are new inquiries."""
        from email.message import EmailMessage
        env = self.env
        body = ("Dzień dobry,\nprosimy o wycenę 12 banerów 3×1 m z oczkami co 50 cm,\n"
                "druk jednostronny, termin do 15 grudnia.\nPozdrawiam\nOla Lis")

        def mail(frm, subject, text, pdf, msgid):
            m = EmailMessage()
            m["From"], m["To"], m["Subject"] = frm, "biuro@bmt.example", subject
            m["Message-ID"] = msgid
            m.set_content(text)
            if pdf:
                m.add_attachment(pdf, maintype="application", subtype="pdf",
                                 filename="projekt.pdf")
            return m.as_bytes()
        pdf_a = b"%PDF-1.4\n% A\n%%EOF\n"
        pdf_b = b"%PDF-1.4\n% B\n%%EOF\n"
        ola = "Ola Lis <ola.lis@ogrody-lis.pl>"
        env.put(mail(ola, "Banery na płot", body, pdf_a, "<r1@ogrody-lis.pl>"))
        env.once()
        env.put(mail(ola, "Fwd: Banery na płot", "Ponawiam prośbę.\n\n"
                     "---------- Forwarded message ---------\nOd: " + ola + "\n\n" + body,
                     pdf_a, "<r2@ogrody-lis.pl>"))
        env.put(mail(ola, "Banery na płot", body, pdf_b, "<r3@ogrody-lis.pl>"))
        env.put(mail(ola, "Siatka na rusztowanie", body, None, "<r4@ogrody-lis.pl>"))
        env.put(mail("Jan <jan@ogrody-lis.pl>", "Banery na płot", body, pdf_a,
                     "<r5@ogrody-lis.pl>"))
        env.once()
        rows = dict(env.sql("SELECT message_id, coalesce(project_id, 0) FROM messages"))
        self.assertEqual(rows["r2@ogrody-lis.pl"], rows["r1@ogrody-lis.pl"])
        others = [rows["r%d@ogrody-lis.pl" % i] for i in (3, 4, 5)]
        self.assertEqual(len(set(others + [rows["r1@ogrody-lis.pl"]])), 4, rows)
        reason = env.sql("SELECT reason FROM messages WHERE message_id='r2@ogrody-lis.pl'")
        self.assertEqual(reason, [("the same inquiry sent again",)])

    def test_website_form_answered_to_reply_to(self):
        """A website form sends From the shop's own domain with Reply-To the
        person who filled it in: that person is the client, the contact and
        the one acknowledged; nothing goes to noreply@."""
        self.env.put(make_mail("Formularz <noreply@bmt.example>", "Formularz: zapytanie",
                               "Imię: Jan\nFirma: Drukarnia Wzór\nBaner 3x1 m",
                               headers={"Reply-To": "Jan Wzór <jan@drukarnia-wzor.pl>"}))
        self.env.put(make_mail("biuro@bmt.example", "Kontakt ze strony",
                               "Roll-up 85x200", headers={"Reply-To": "ewa@gmail.com"}))
        # a lead platform writes for its user from an address nobody reads
        self.env.put(make_mail("Zlecenia24 <no-reply+lead8812@zlecenia24.example>",
                               "Nowe zapytanie: oklejenie witryny",
                               "Klient: Marek Lis\nWitryna 4 x 2 m, folia OWV",
                               headers={"Reply-To": "Marek Lis <marek.lis@wp.pl>"}))
        self.env.once()
        projects = self.env.json("project", "list")
        self.assertEqual(len(projects), 3, projects)
        self.assertEqual(len(self.env.sent_to("marek.lis@wp.pl")), 1)
        self.assertEqual(self.env.sent_to("no-reply+lead8812@zlecenia24.example"), [])
        self.assertEqual(len(self.env.sent_to("jan@drukarnia-wzor.pl")), 1)
        self.assertEqual(len(self.env.sent_to("ewa@gmail.com")), 1)
        self.assertEqual(self.env.sent_to("noreply@bmt.example"), [])
        self.assertEqual(self.env.sql("SELECT domain FROM clients WHERE domain='bmt.example'"), [])
        self.assertEqual(self.env.sql("SELECT count(*) FROM contacts WHERE email IN"
                                      " ('jan@drukarnia-wzor.pl', 'ewa@gmail.com')"), [(2,)])

    def test_reply_by_references_routed(self):
        self.env.put(make_mail("ola@firma-testowa.pl", "Roll-up", "Prosze o wycene rollupu"))
        self.env.once()
        ack = self.env.sent_to("ola@firma-testowa.pl")[0]
        reply = make_mail("ola@firma-testowa.pl", "Odp: bez tagu", "Jeszcze jedno pytanie",
                          headers={"In-Reply-To": ack["Message-ID"],
                                   "References": ack["Message-ID"]})
        self.env.put(reply)
        self.env.once()
        self.assertEqual(len(self.env.json("project", "list")), 1)
        mails = self.env.json("mail", "list")
        self.assertEqual(mails[1]["project"], 1)
        self.assertIn("reply", mails[1]["reason"])

    def test_new_contact_same_company_same_client(self):
        self.env.put(make_mail("a@reklama-baltyk.pl", "Baner", "x"))
        self.env.put(make_mail("b@reklama-baltyk.pl", "Siatka", "y"))
        self.env.put(make_mail("x@gmail.com", "Plakat", "z"))
        self.env.put(make_mail("y@gmail.com", "Plakat", "z"))
        self.env.once()
        rows = self.env.sql("SELECT count(DISTINCT client_id) FROM projects")
        self.assertEqual(rows[0][0], 3)  # one company, two private persons

    def test_rate_limit_on_acknowledgements(self):
        for i in range(7):
            self.env.put(make_mail("spammy@firma-testowa.pl", "Zapytanie %d" % i, "tekst"))
        self.env.once()
        self.assertEqual(len(self.env.json("project", "list")), 7)
        self.assertEqual(len(self.env.sent_to("spammy@firma-testowa.pl")), 5)
        kinds = [e["kind"] for e in self.env.json("project", "show", "7")["history"]]
        self.assertIn("mail-suppressed", kinds)

    def test_bounce_of_our_mail_attached_to_project(self):
        self.env.put(make_mail("ola@firma-testowa.pl", "Baner", "Ile?"))
        self.env.once()
        ack = self.env.sent_to("ola@firma-testowa.pl")[0]
        dsn = (
            "From: Mail Delivery System <MAILER-DAEMON@mx.firma-testowa.pl>\n"
            "To: biuro@bmt.example\n"
            "Subject: Undelivered Mail Returned to Sender\n"
            "Date: Fri, 27 Nov 2026 10:00:00 +0100\n"
            "Message-ID: <dsn1@mx.firma-testowa.pl>\n"
            "MIME-Version: 1.0\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n"
            "--b1\nContent-Type: text/plain\n\nThe mail could not be delivered.\n\n"
            "--b1\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mx.firma-testowa.pl\n\nFinal-Recipient: rfc822; ola@firma-testowa.pl\n"
            "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no such user\n\n"
            "--b1\nContent-Type: text/rfc822-headers\n\n"
            "From: biuro@bmt.example\nTo: ola@firma-testowa.pl\nMessage-ID: %s\n\n"
            "--b1--\n" % ack["Message-ID"])
        self.env.put(dsn)
        self.env.once()
        m = self.env.json("mail", "list")[1]
        self.assertEqual((m["status"], m["class"], m["project"]), ("ignored", "bounce", 1))
        kinds = [e["kind"] for e in self.env.json("project", "show", "1")["history"]]
        self.assertIn("bounce", kinds)
        self.assertEqual(len(self.env.sent()), 2)  # ack + task, nothing to the daemon

    def test_own_mail_looping_back_ignored(self):
        self.env.put(make_mail("ola@firma-testowa.pl", "Baner", "Ile?"))
        self.env.once()
        ack = self.env.sent_to("ola@firma-testowa.pl")[0]
        self.env.put(ack.raw)
        self.env.once()
        m = self.env.json("mail", "list")[1]
        self.assertEqual((m["status"], m["class"]), ("ignored", "loop"))

    def test_staff_mail_without_token_changes_nothing(self):
        self.env.put(make_mail("anna.nowak@bmt.example", "APPROVE", "APPROVE"))
        self.env.once()
        m = self.env.json("mail", "list")[0]
        self.assertEqual(m["status"], "refused")
        self.assertEqual(self.env.json("project", "list"), [])
        # The staff member is told, without details that help forging.
        answer = self.env.sent_to("anna.nowak@bmt.example")
        self.assertEqual(len(answer), 1)
        self.assertIn("nie zawiera ważnego linku", body_text(answer[0]))

    def test_unknown_project_tag_held(self):
        self.env.put(make_mail("ola@firma-testowa.pl", "Re: [INK-999] x", "y"))
        self.env.once()
        m = self.env.json("mail", "list")[0]
        self.assertEqual(m["status"], "held")
        self.assertIn("INK-999", m["reason"])

    def test_quarantine_keeps_going(self):
        self.env.put(b"\x00\x01\x02 binary junk \xff\xfe" * 100)
        self.env.put(b"")
        self.env.put(make_mail("ola@firma-testowa.pl", "Baner", "Ile?"))
        self.env.once()
        mails = self.env.json("mail", "list")
        self.assertEqual(len(mails), 3)
        self.assertEqual(len(self.env.json("project", "list")), 1)
        q = [m for m in mails if m["status"] == "quarantined"]
        for m in q:
            self.assertTrue(m["reason"])
        self.assertEqual(self.env.inbox_unseen(), [])

    def test_no_from_quarantined(self):
        self.env.put(b"To: biuro@bmt.example\nSubject: hello\n\nbody\n")
        self.env.once()
        m = self.env.json("mail", "list")[0]
        self.assertEqual(m["status"], "quarantined")
        self.assertIn("From", m["reason"])


    def inquiries(self, first, count):
        for k in range(first, first + count):
            self.env.put(make_mail("klient%d@firma-%d.pl" % (k, k), "Zapytanie %d" % k,
                                   "Proszę o wycenę %d ulotek." % k))

    def once_logged(self):
        """run --once with the info log; the log."""
        p = subprocess.run([INKFLOW, "-c", self.env.conf, "run", "--once"],
                           capture_output=True, timeout=300 * SLOW)
        log = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 0, log[-3000:])
        return log

    def outbox_ids(self):
        """The outbox ids of the files in the outbox Maildir, sorted."""
        names = [f for sub in ("new", "cur")
                 for f in os.listdir(os.path.join(self.env.outbox, sub))]
        return sorted(int(re.search(r"inkflow-(\d+)", f).group(1)) for f in names)

    def test_outbox_sent_while_the_backlog_is_read(self):
        """A backlog of 100 inquiries (four batches): the acknowledgements
        and tasks go out to the outbox Maildir while later batches are
        still read, each once.  While another sender holds the sender lock
        nothing is delivered behind its back: the mail stays queued and
        goes out, once, with the next flush."""
        env, n = self.env, 100
        self.inquiries(0, n)
        log = self.once_logged()
        events = re.findall(r"event=(message_done|mail_sent)", log)
        self.assertEqual(events.count("message_done"), n)
        self.assertEqual(events.count("mail_sent"), 2 * n)
        # Sent during the pass: some mail went out before the last message
        # was done.
        self.assertLess(events.index("mail_sent"),
                        len(events) - 1 - events[::-1].index("message_done"), log[-3000:])
        self.assertEqual(env.sql("SELECT status, count(*) FROM outbox GROUP BY status"),
                         [("sent", 2 * n)])
        self.assertEqual(self.outbox_ids(), list(range(1, 2 * n + 1)))
        # Another sender holds the lock for the whole run.
        self.inquiries(n, 40)
        fd = os.open(env.data, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            env.once()
            self.assertEqual(len(env.sent()), 2 * n)
            self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE status='queued'"),
                             [(80,)])
        finally:
            os.close(fd)
        env.run("outbox", "flush")
        self.assertEqual(env.sql("SELECT status, count(*) FROM outbox GROUP BY status"),
                         [("sent", 2 * n + 80)])
        self.assertEqual(self.outbox_ids(), list(range(1, 2 * n + 81)))

    def test_outbox_maildir_full_keeps_the_mail_queued(self):
        """The outbox Maildir's file system is full while a backlog is
        read: every inquiry is processed, its mail stays queued with a
        clear error in the log, and once there is room the next run sends
        each mail once."""
        env, n = self.env, 40
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", env.outbox],
                           capture_output=True, text=True, timeout=30)
        if m.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %s" % m.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", env.outbox], capture_output=True,
                        timeout=30)
        for sub in ("new", "cur", "tmp"):
            os.mkdir(os.path.join(env.outbox, sub))
        filler = os.path.join(env.outbox, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        self.inquiries(0, n)
        log = self.once_logged()
        self.assertIn("event=send_failed", log)
        self.assertIn("No space left on device", log)
        self.assertEqual(env.sql("SELECT count(*) FROM messages WHERE status='processed'"),
                         [(n,)])
        self.assertEqual(env.sql("SELECT status, count(*) FROM outbox GROUP BY status"),
                         [("queued", 2 * n)])
        self.assertEqual(env.sent(), [])
        os.unlink(filler)
        env.once()
        self.assertEqual(env.sql("SELECT status, count(*) FROM outbox GROUP BY status"),
                         [("sent", 2 * n)])
        self.assertEqual(self.outbox_ids(), list(range(1, 2 * n + 1)))
        self.assertEqual(os.listdir(os.path.join(env.outbox, "tmp")), [])

    def test_database_locked_ends_the_pass(self):
        """Another program holds the database while 70 messages (three
        batches) wait in the Maildir: each pass waits out one busy timeout,
        defers the rest of its batch and drops the batch parsed after it,
        instead of waiting again for every batch.  Once the lock is gone,
        every message is processed once and nothing is left behind."""
        env, n = self.env, 70
        log = open(os.path.join(env.dir, "daemon.log"), "w+b")
        self.addCleanup(log.close)
        d = subprocess.Popen([INKFLOW, "-c", env.conf, "run", "--interval", "1"],
                             stdout=subprocess.DEVNULL, stderr=log)
        self.addCleanup(lambda: d.poll() is None and d.kill())

        def text():
            log.seek(0)
            return log.read().decode(errors="replace")

        def wait(cond, secs, what):
            end = time.monotonic() + secs
            while not cond():
                if time.monotonic() > end or d.poll() is not None:
                    self.fail("%s: not within %d s\n%s" % (what, secs, text()[-3000:]))
                time.sleep(0.1)

        wait(lambda: env.json("status").get("state") == "waiting", 60, "the daemon waiting")
        # All of them at once: a new/ directory full of mail replaces the
        # empty one, so the daemon's next scan sees all 70.
        ready = os.path.join(env.inbox, "new.ready")
        os.mkdir(ready)
        for k in range(n):
            with open(os.path.join(ready, "%010d.M%dP1.testhost" % (1700000000 + k, k)), "wb") as f:
                f.write(make_mail("klient%d@firma-%d.pl" % (k, k), "Zapytanie %d" % k,
                                  "Proszę o wycenę %d ulotek." % k))
        # The waiting daemon still writes its status at each pass (every
        # second here): wait for such a write to end rather than fail on it.
        db = sqlite3.connect(os.path.join(env.data, "inkflow.db"), timeout=60,
                             isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            os.rename(ready, os.path.join(env.inbox, "new"))
            wait(lambda: text().count("event=messages_deferred") >= 3, 120,
                 "three batches deferred")
            self.assertEqual(db.execute("SELECT count(*) FROM messages").fetchone(), (0,))
        finally:
            db.execute("ROLLBACK")
            db.close()
        # One failed message per pass, the rest of its batch deferred; the
        # batches after it were never tried.
        t = text()
        self.assertEqual(t.count("event=message_tempfail"),
                         t.count("event=messages_deferred count=31"), t[-3000:])
        self.assertNotIn("event=messages_deferred count=5", t)
        wait(lambda: env.sql("SELECT count(*) FROM messages") == [(n,)], 180,
             "every message processed")
        d.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(30), 0)
        self.assertEqual(env.sql("SELECT count(*) FROM messages WHERE status='processed'"),
                         [(n,)])
        self.assertEqual(env.inbox_unseen(), [])
        tmp = [f for _, _, fs in os.walk(env.data) for f in fs if ".tmp-" in f]
        self.assertEqual(tmp, [])
        raw = sum(len(fs) for _, _, fs in os.walk(os.path.join(env.data, "raw")))
        self.assertEqual(raw, n)


class Limits(unittest.TestCase):
    def test_oversize_and_parts_quarantined(self):
        env = Env(conf_edit=lambda t: t.replace('max-message="50M"', 'max-message="1M"')
                  .replace('max-parts="500"', 'max-parts="20"'))
        try:
            env.init()
            env.put(make_mail("big@firma-testowa.pl", "Duży", ("x" * 76 + "\n") * 20000))
            parts = "".join("--b\nContent-Type: text/plain\n\npart %d\n" % i for i in range(50))
            env.put("From: p@firma-testowa.pl\nTo: biuro@bmt.example\nSubject: parts\n"
                    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
                    + parts + "--b--\n")
            env.put(make_mail("ok@firma-testowa.pl", "Baner", "Ile?"))
            env.once()
            mails = {m["from_addr"] or "": m for m in env.json("mail", "list")}
            self.assertEqual(len(env.json("mail", "list")), 3)
            q = env.json("mail", "list", "--status", "quarantined")
            self.assertEqual(len(q), 2)
            self.assertTrue(any("exceeds the limit" in m["reason"] for m in q))
            self.assertTrue(any("part" in m["reason"] for m in q))
            self.assertIn("ok@firma-testowa.pl", mails)
            self.assertEqual(env.inbox_unseen(), [])
        finally:
            env.close()


class LargeMessages(unittest.TestCase):
    """Messages of 4 MB and more are decoded from a mapping, window by window,
    through a stand-in without their long base64 runs: the stored files must
    be exactly what a mail program decodes, whatever the layout."""

    def big(self, parts, nl="\r\n", frm="duzy@firma-testowa.pl"):
        """parts: (content type, file name or None, payload bytes)."""
        out = ["From: Klient <%s>" % frm, "To: biuro@bmt.example",
               "Subject: Projekt do druku", "Message-ID: <%s@firma-testowa.pl>" % os.urandom(6).hex(),
               "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="=xyz="', "",
               "--=xyz=", "Content-Type: text/plain; charset=utf-8", "",
               "Proszę o wycenę, pliki w załączniku.", ""]
        for ctype, name, data in parts:
            out.append("--=xyz=")
            out.append("Content-Type: %s" % ctype)
            out.append("Content-Transfer-Encoding: base64")
            if name:
                out.append('Content-Disposition: attachment; filename="%s"' % name)
            out.append("")
            out.extend(base64.encodebytes(data).decode().splitlines())
        out.append("--=xyz=--")
        out.append("")
        return nl.join(out).encode()

    def stored(self, env):
        rows = env.sql("SELECT filename, size, sha256, path FROM attachments ORDER BY id")
        got = {}
        for name, size, sha, path in rows:
            with open(os.path.join(env.data, path), "rb") as f:
                data = f.read()
            self.assertEqual(len(data), size)
            self.assertEqual(hashlib.sha256(data).hexdigest(), sha)
            got[name] = data
        return got

    def test_large_attachments_decoded_exactly(self):
        env = Env()
        try:
            env.init()
            pdf, jpg = os.urandom(6 << 20), os.urandom(300 << 10)
            odd = os.urandom((5 << 20) + 7)  # a last quantum with padding
            env.put(self.big([("application/pdf", "projekt.pdf", pdf),
                              ("image/jpeg", "zdjęcie.jpg", jpg)]))
            env.put(self.big([("application/octet-stream", "dane.bin", odd)], nl="\n",
                             frm="drugi@firma-testowa.pl"))
            env.once()
            self.assertEqual(env.sql("SELECT status FROM messages ORDER BY id"),
                             [("processed",), ("processed",)])
            got = self.stored(env)
            self.assertEqual(got["projekt.pdf"], pdf)
            self.assertEqual(got["zdjęcie.jpg"], jpg)
            self.assertEqual(got["dane.bin"], odd)
            self.assertIn("Proszę o wycenę", env.sql("SELECT body FROM messages WHERE id=1")[0][0])
            fsck = env.json("fsck")
            self.assertEqual((fsck["temporary"], fsck["orphans"], fsck["missing"]),
                             (0, 0, 0), fsck)
        finally:
            env.close()

    def test_large_text_part_parsed_whole(self):
        """A long base64 run in a text part cannot be cut out: the message is
        parsed whole, its text intact."""
        env = Env()
        try:
            env.init()
            text = ("Zamawiam 1000 ulotek A5, druk dwustronny. " * 120000).encode()
            env.put(self.big([("text/plain; charset=utf-8", None, text)]))
            env.once()
            body = env.sql("SELECT status, body FROM messages")[0]
            self.assertEqual(body[0], "processed")
            self.assertIn("Zamawiam 1000 ulotek A5", body[1])
        finally:
            env.close()

    @staticmethod
    def der(tag, body):
        n = len(body)
        if n < 0x80:
            head = bytes([n])
        else:
            b = n.to_bytes((n.bit_length() + 7) // 8, "big")
            head = bytes([0x80 | len(b)]) + b
        return bytes([tag]) + head + body

    def signed_data(self, content):
        """A PKCS#7 SignedData holding content (no signer: the structure
        is what inkflow reads, the signature is never checked)."""
        d = self.der
        oid_signed = d(0x06, bytes.fromhex("2a864886f70d010702"))
        oid_data = d(0x06, bytes.fromhex("2a864886f70d010701"))
        sha256 = d(0x30, d(0x06, bytes.fromhex("608648016503040201")) + d(0x05, b""))
        encap = d(0x30, oid_data + d(0xa0, d(0x04, content)))
        sd = d(0x30, d(0x02, b"\x01") + d(0x31, sha256) + encap + d(0x31, b""))
        return d(0x30, oid_signed + d(0xa0, sd))

    def test_large_opaque_signed_message_unpacked(self):
        """Opaque S/MIME: the signed content is read from the whole .p7m,
        never from the stand-in, and its attachment is stored exactly."""
        env = Env()
        try:
            env.init()
            pdf = os.urandom(5 << 20)
            inner = b"\r\n".join([
                b'Content-Type: multipart/mixed; boundary="in"', b"", b"--in",
                b"Content-Type: text/plain; charset=utf-8", b"",
                "Proszę o wycenę banerów, projekt w załączniku.".encode(), b"--in",
                b"Content-Type: application/pdf",
                b"Content-Disposition: attachment; filename*=utf-8''baner%20%C5%BC%C3%B3%C5%82ty.pdf",
                b"Content-Transfer-Encoding: base64", b""] +
                base64.encodebytes(pdf).splitlines() + [b"--in--", b""])
            p7m = base64.encodebytes(self.signed_data(inner)).replace(b"\n", b"\r\n")
            env.put(b"\r\n".join([
                b"From: Klient <podpis@firma-testowa.pl>", b"To: biuro@bmt.example",
                b"Subject: Baner", b"Message-ID: <p7m-big@firma-testowa.pl>", b"MIME-Version: 1.0",
                b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"',
                b'Content-Disposition: attachment; filename="smime.p7m"',
                b"Content-Transfer-Encoding: base64", b""]) + b"\r\n" + p7m)
            log = env.run("-v", "run", "--once").stderr.decode()
            # the log says what was opened
            self.assertRegex(log, r"event=message_done msg=1 .*notes=\".*opaque S/MIME signed "
                                  r"message unpacked")
            self.assertEqual(env.sql("SELECT status FROM messages"), [("processed",)])
            self.assertIn("Proszę o wycenę banerów", env.sql("SELECT body FROM messages")[0][0])
            got = self.stored(env)
            self.assertEqual(list(got), ["baner żółty.pdf"])
            self.assertEqual(got["baner żółty.pdf"], pdf)
            fsck = env.json("fsck")
            self.assertEqual((fsck["temporary"], fsck["orphans"], fsck["missing"]),
                             (0, 0, 0), fsck)
        finally:
            env.close()

    @staticmethod
    def tnef(files):
        """A TNEF stream (winmail.dat) of (8.3 title, bytes), code page 1250."""
        import struct

        def attr(level, ident, data):
            return (struct.pack("<BII", level, ident, len(data)) + data +
                    struct.pack("<H", sum(data) & 0xffff))
        out = struct.pack("<IH", 0x223E9F78, 0x1234)
        out += attr(1, 0x00089006, bytes([0, 0, 1, 0]))            # attTnefVersion
        out += attr(1, 0x00069007, struct.pack("<II", 1250, 0))   # attOemCodepage
        for title, data in files:
            out += attr(2, 0x00069002, struct.pack("<HIHHI", 1, 0xFFFFFFFF, 0, 0, 0))
            out += attr(2, 0x00018010, title + b"\0")                # attAttachTitle
            out += attr(2, 0x0006800F, data)                         # attAttachData
        return out

    def test_large_winmail_dat_unpacked(self):
        """A winmail.dat in a message of 4 MB and more is read from its
        whole bytes, never from the stand-in: its file is stored exactly."""
        env = Env()
        try:
            env.init()
            pdf = b"%PDF-1.4\n" + os.urandom(5 << 20)
            env.put(self.big([("application/ms-tnef", "winmail.dat",
                               self.tnef([("Zam\xf3wienie.pdf".encode("latin-1"), pdf)]))]))
            env.once()
            self.assertEqual(env.sql("SELECT status FROM messages"), [("processed",)])
            got = self.stored(env)
            self.assertEqual(sorted(got), ["Zamówienie.pdf", "winmail.dat"])
            self.assertEqual(got["Zamówienie.pdf"], pdf)
            self.assertEqual(env.sql("SELECT content_type FROM attachments"
                                     " WHERE filename='Zamówienie.pdf'"), [("application/pdf",)])
        finally:
            env.close()

    def test_large_attachment_over_the_limit_quarantined(self):
        env = Env(conf_edit=lambda t: t.replace('max-attachment="40M"', 'max-attachment="5M"'))
        try:
            env.init()
            env.put(self.big([("application/pdf", "duzy.pdf", os.urandom(6 << 20))]))
            env.put(make_mail("ok@firma-testowa.pl", "Baner", "Ile?"))
            env.once()
            rows = env.sql("SELECT status, reason FROM messages ORDER BY id")
            self.assertEqual(rows[0][0], "quarantined")
            self.assertIn("attachment limit", rows[0][1])
            self.assertEqual(rows[1][0], "processed")
            self.assertEqual(env.sql("SELECT count(*) FROM attachments"), [(0,)])
            fsck = env.json("fsck")
            self.assertEqual((fsck["temporary"], fsck["orphans"]), (0, 0), fsck)
        finally:
            env.close()

    def test_large_message_on_stdin_spooled(self):
        """deliver (MDA mode) writes a message of 4 MB or more to a spool
        file as it reads it and processes it from a mapping: exact, no
        temporary left, and never whole in memory."""
        env = Env()
        try:
            env.init()
            pdf = os.urandom(20 << 20)
            raw = self.big([("application/pdf", "baner.pdf", pdf)])
            rc, out, err, _, peak, _ = run_memory([INKFLOW, "-q", "-c", env.conf, "deliver"],
                                                 feed=lambda pipe: pipe.write(raw))
            self.assertEqual(rc, 0, err.decode(errors="replace")[-2000:])
            self.assertEqual(self.stored(env), {"baner.pdf": pdf})
            fsck = env.json("fsck")
            self.assertTrue(fsck["clean"], fsck)
            print("    [ingest] 20 MB attachment through deliver: peak RSS %.1f MB" % peak)
            if build_kind() == "plain":  # the sanitizers' memory is their own
                self.assertLess(peak, 32, "the message was held in memory")
        finally:
            env.close()


class Deliver(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.init()

    def tearDown(self):
        self.env.close()

    def test_deliver_stores_once(self):
        raw = make_mail("ola@firma-testowa.pl", "Baner", "Ile?")
        self.assertEqual(self.env.run("deliver", input=raw).returncode, 0)
        self.assertEqual(self.env.run("deliver", input=raw).returncode, 0)
        self.assertEqual(len(self.env.json("project", "list")), 1)
        self.assertEqual(len(self.env.sent_to("ola@firma-testowa.pl")), 1)

    def test_deliver_tempfail_when_database_locked(self):
        import sqlite3
        db = sqlite3.connect(os.path.join(self.env.data, "inkflow.db"), timeout=0)
        db.execute("BEGIN EXCLUSIVE")
        try:
            p = self.env.run("deliver", input=make_mail("a@b.pl", "x", "y"), check=False,
                             timeout=60)
        finally:
            db.rollback()
            db.close()
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertEqual(len(self.env.json("project", "list")), 0)

    def test_deliver_usage_error(self):
        p = self.env.run("deliver", "extra", input=b"", check=False)
        self.assertEqual(p.returncode, 1)


class Cli(unittest.TestCase):
    def test_fsck_empty_then_damaged_then_repaired(self):
        env = Env()
        try:
            env.init()
            j = env.json("fsck")  # no row names a file yet
            self.assertTrue(j["clean"], j)
            self.assertEqual((j["files"], j["referenced"]), (0, 0))
            env.put(make_mail("fsck@firma-testowa.pl", "Ulotki", "Ile kosztuje 1000 ulotek?"))
            env.once()
            j = env.json("fsck")
            self.assertTrue(j["clean"], j)
            self.assertEqual(j["files"], j["referenced"])
            stray = os.path.join(env.data, "raw", "zz")
            os.makedirs(stray)
            for name in ("leftover.eml.tmp-0123456789abcdef", "unknown.eml"):
                with open(os.path.join(stray, name), "w") as f:
                    f.write("x")
            p = env.run("fsck", "--json", check=False)
            self.assertEqual(p.returncode, 1)
            j = json.loads(p.stdout)
            self.assertEqual((j["temporary"], j["orphans"], j["clean"]), (1, 1, False))
            p = env.run("fsck", "--repair")
            self.assertEqual(os.listdir(stray), [])
            self.assertTrue(env.json("fsck")["clean"])
        finally:
            env.close()

    def test_outbox_retry_signals_only_an_inkflow_daemon(self):
        """`outbox retry` wakes the daemon by SIGUSR1 at the pid the database
        names; a pid left by a daemon killed long ago that now belongs to
        another program is not signalled (SIGUSR1 would end it)."""
        env = Env()
        other = subprocess.Popen(["sleep", "60"])
        try:
            env.init()
            env.put(make_mail("retry@firma-testowa.pl", "Ulotki", "Ile kosztuje 1000 ulotek?"))
            env.once()
            db = sqlite3.connect(os.path.join(env.data, "inkflow.db"))
            with db:
                db.execute("UPDATE outbox SET status='failed' WHERE id=1")
                db.executemany("INSERT OR REPLACE INTO daemon_status(key, value, updated)"
                               " VALUES(?, ?, 0)",
                               [("pid", str(other.pid)), ("state", "idle")])
            db.close()
            out = env.run("outbox", "retry", "1").stdout.decode()
            self.assertIn("no daemon runs to send it", out)
            time.sleep(0.2)
            self.assertIsNone(other.poll(), "the other program was signalled")
            self.assertEqual(env.sql("SELECT status FROM outbox WHERE id=1"), [("queued",)])
        finally:
            other.kill()
            other.wait()
            env.close()

    def test_check_config_ok_and_errors(self):
        env = Env()
        try:
            p = env.run("check-config")
            self.assertIn("ok", p.stdout.decode())
        finally:
            env.close()
        env = Env(conf_edit=lambda t: t.replace('<limits max-message="50M"',
                                                '<limits max-mesage="50M"')
                  .replace('owner="a.nowak"', 'owner="nobody"'))
        try:
            p = env.run("check-config", check=False)
            self.assertEqual(p.returncode, 1)
            err = p.stderr.decode()
            self.assertRegex(err, r"inkflow\.xml:\d+: .*max-mesage")
            self.assertRegex(err, r"inkflow\.xml:\d+: .*nobody")
        finally:
            env.close()

    def test_mail_server_settings_checked(self):
        imap = ('<source type="imap" host="127.0.0.1" port="993" tls="imaps" user="biuro" '
                'password="secret" mailboxes="INBOX Zamówienia" after="move" move-to="Przetworzone"/>')
        env = Env(conf_edit=lambda t: re.sub(r'<source type="maildir"[^>]*/>', imap, t))
        try:
            os.chmod(env.conf, 0o644)
            p = env.run("check-config", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertRegex(p.stderr.decode(), r"inkflow\.xml:\d+: <source>: holds a password "
                             r"but .* is readable by group or others")
            os.chmod(env.conf, 0o600)
            env.run("check-config")
        finally:
            env.close()
        smtp = ('<outbox type="smtp" host="smtp.example/x" tls="starttls" user="biuro" '
                'password-file="smtp.pw"/>')
        env = Env(conf_edit=lambda t: re.sub(r'<outbox type="maildir"[^>]*/>', smtp, t))
        try:
            pw = os.path.join(env.dir, "conf", "smtp.pw")
            with open(pw, "w") as f:
                f.write("secret\n")
            os.chmod(pw, 0o640)
            err = env.run("check-config", check=False).stderr.decode()
            self.assertIn('host: "smtp.example/x" is not a host name', err)
            self.assertIn("smtp.pw is readable by group or others", err)
        finally:
            env.close()

    def test_check_config_runs_the_token_commands(self):
        # OAuth 2.0: check-config asks each token command for a token, so a
        # wrong command shows before the daemon's first connection.
        imap = ('<source type="imap" host="127.0.0.1" port="993" tls="imaps" user="biuro" '
                'auth="oauth2" token-command="printf \'ya29.a-token-of-28-bytes-xyz\\n\'"'
                ' mailboxes="INBOX"/>')
        smtp = ('<outbox type="smtp" host="127.0.0.1" tls="starttls" user="biuro" '
                'auth="oauth2" token-command="echo \'refresh token expired\' >&amp;2; exit 2"'
                ' envelope-from="biuro@bmt.example"/>')
        env = Env(conf_edit=lambda t: re.sub(r'<outbox type="maildir"[^>]*/>', lambda m: smtp,
                                             re.sub(r'<source type="maildir"[^>]*/>',
                                                    lambda m: imap, t)))
        try:
            p = env.run("check-config", check=False)
            out, err = p.stdout.decode(), p.stderr.decode()
            self.assertEqual(p.returncode, 1, out + err)
            self.assertRegex(out, r"inkflow\.xml:\d+: <source> token-command printed an access"
                                  r" token \(28 bytes\)", err)
            self.assertRegex(err, r"inkflow\.xml:\d+: <outbox> token-command: token command"
                                  r" exited with 2: refresh token expired")
            self.assertNotIn("ya29", out + err)
            with open(env.conf, encoding="utf-8") as f:
                t = f.read()
            with open(env.conf, "w", encoding="utf-8") as f:
                f.write(t.replace("exit 2", "echo ya29.second"))
            p = env.run("check-config")
            self.assertRegex(p.stdout.decode(), r"<outbox> token-command printed an access token"
                                                r" \(11 bytes\)")
        finally:
            env.close()

    def test_errors_name_the_problem(self):
        env = Env()
        try:
            p = env.run("project", "list", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("inkflow init", p.stderr.decode())
            env.init()
            p = env.run("project", "show", "42", check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("INK-42", p.stderr.decode())
            p = env.run("mail", "list", "--status", "bogus", check=False)
            self.assertEqual(p.returncode, 1)
            p = env.run("frobnicate", check=False)
            self.assertEqual(p.returncode, 1)
        finally:
            env.close()


class Crash(unittest.TestCase):
    """kill -9 at random moments during run --once, then rerun: every message
    processed exactly once, one acknowledgement per inquiry."""

    N = 120

    def test_kill9_loses_and_duplicates_nothing(self):
        env = Env()
        try:
            env.init()
            for i in range(self.N):
                env.put(make_mail("client%d@firma%d.pl" % (i, i), "Zapytanie %d" % i,
                                  "Baner %d m2" % i))
            rnd = random.Random(int(os.environ.get("INKFLOW_SEED", "7")))
            kills = 0
            for _ in range(15):
                p = subprocess.Popen([INKFLOW, "-q", "-c", env.conf, "run", "--once"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rnd.uniform(0.02, 0.4))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    kills += 1
                p.wait()
            env.once()
            self.assertEqual(env.inbox_unseen(), [])
            self.assertEqual(len(env.json("mail", "list")), self.N)
            self.assertEqual(len(env.json("project", "list")), self.N)
            for i in range(self.N):
                self.assertEqual(len(env.sent_to("client%d@firma%d.pl" % (i, i))), 1, i)
            self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])
            self.assertEqual(env.sql("SELECT count(*) FROM outbox WHERE status!='sent'"), [(0,)])
            self.assertGreater(kills, 0)
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()


class IdleRelease(unittest.TestCase):
    """Between passes a daemon reading a Maildir holds no libxml2, libharu,
    libpng, libetpan or GnuTLS: the configuration, the templates and HTML
    bodies open libxml2 when they are parsed, every message opens libetpan
    (with GnuTLS, Berkeley DB and SASL), and the daemon closes them before
    it waits.  A pass after that opens them again and parses as well as
    the first."""

    XML_LIBS = ("libxml2.so", "libicuuc.so", "libicudata.so", "libhpdf", "libpng")
    # Kept open by sanitizer builds: LeakSanitizer can crash at exit after
    # GnuTLS, which has thread-local storage, was closed (lazyetpan.c).
    ETPAN_LIBS = ("libetpan.so", "libgnutls.so", "libdb-", "libsasl2.so")

    def mapped_xml(self, pid):
        libs = self.XML_LIBS + (() if build_kind() == "san" else self.ETPAN_LIBS)
        with open("/proc/%d/maps" % pid) as f:
            return sorted({os.path.basename(line.split()[-1]) for line in f
                           if any(lib in line for lib in libs)})

    def wait_waiting(self, env, d, what):
        from labenv import wait_until
        wait_until(lambda: env.status().get("state") == "waiting", 60, what, diag=d.tail)

    def html_mail(self, n):
        from email.message import EmailMessage
        m = EmailMessage()
        m["From"] = "Zofia Żak <zofia%d@drukarnia-testowa.pl>" % n
        m["To"] = "biuro@bmt.example"
        m["Subject"] = "Zapytanie %d" % n
        m["Message-ID"] = "<html-%d-%s@test.example>" % (n, os.urandom(4).hex())
        m.set_content("<html><body><p>Proszę o wycenę <b>%d</b> ulotek A5, "
                      "papier kredowy.</p></body></html>" % (1000 * n), subtype="html")
        return m.as_bytes()

    def test_libxml2_closed_while_waiting(self):
        from labenv import LabEnv, wait_until
        env = LabEnv()
        self.addCleanup(env.close)
        env.init()
        d = env.daemon("--interval", "1")
        self.addCleanup(d.stop)
        self.wait_waiting(env, d, "the first wait")
        self.assertEqual(self.mapped_xml(d.pid), [], "libxml2 mapped after the start")
        for n in (1, 2):
            env.put(self.html_mail(n))
            wait_until(lambda: env.sql("SELECT count(*) FROM messages")[0][0] == n, 60,
                       "HTML inquiry %d processed" % n, diag=d.tail)
            body = env.sql("SELECT body FROM messages ORDER BY id DESC LIMIT 1")[0][0]
            self.assertIn("Proszę o wycenę %d ulotek A5" % (1000 * n), body)
            self.assertNotIn("<b>", body)
            self.wait_waiting(env, d, "the wait after inquiry %d" % n)
            self.assertEqual(self.mapped_xml(d.pid), [], "libxml2 mapped after pass %d" % n)
        # A reload parses the configuration again, with libxml2 opened anew.
        os.kill(d.pid, signal.SIGHUP)
        wait_until(lambda: "event=reloaded" in d.log(), 60, "the reload", diag=d.tail)
        # (The state may still read "waiting" from before the signal.)
        wait_until(lambda: self.mapped_xml(d.pid) == [], 60, "libxml2 closed after the reload",
                   diag=lambda: "%s\n%s" % (self.mapped_xml(d.pid), d.tail()))
        self.assertEqual(d.stop(), 0, d.tail())
