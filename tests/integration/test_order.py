"""Issue 6: from accepted offer to closed project, purely by mail: order
checks with refusal and resume, signed order, production, delivery."""
import unittest

from inkenv import Env, body_text, make_mail
from test_approval import CLIENT, REP, reply

ACC = "ksiegowosc@bmt.example"
BOK = "bok@bmt.example"
PROD = "produkcja@bmt.example"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def client_reply(to_mail, text, attach=None, name="zamowienie_podpisane.pdf",
                 frm="Ola <%s>" % CLIENT):
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"] = frm
    m["To"] = str(to_mail["Reply-To"] or "biuro@bmt.example")
    m["Subject"] = "Re: " + str(to_mail["Subject"])
    m["Message-ID"] = "<%s@reklama-baltyk.pl>" % __import__("os").urandom(6).hex()
    m["In-Reply-To"] = to_mail["Message-ID"]
    m["Date"] = "Fri, 27 Nov 2026 12:00:00 +0100"
    m.set_content(text)
    if attach:
        m.add_attachment(attach, maintype="application", subtype="pdf", filename=name)
    return m.as_bytes()


def fresh_mail(frm, subject, text, attach=None, name="skan.pdf"):
    """A new mail, not a reply: no tag, no In-Reply-To, no References."""
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"] = frm
    m["To"] = "biuro@bmt.example"
    m["Subject"] = subject
    m["Message-ID"] = "<%s@example.net>" % __import__("os").urandom(6).hex()
    m["Date"] = "Fri, 27 Nov 2026 12:30:00 +0100"
    m.set_content(text)
    if attach:
        m.add_attachment(attach, maintype="application", subtype="pdf", filename=name)
    return m.as_bytes()


def outlook_reply(to_mail, text, photo=None):
    """An Outlook-shaped HTML reply: the signature logo image001.png in
    multipart/related with a Content-ID and no Content-Disposition, and
    optionally a photo attached beside it."""
    import base64
    import os
    logo = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    b64 = lambda d: base64.encodebytes(d).decode()
    parts = ['--rel', 'Content-Type: text/html; charset="utf-8"', "",
             '<html><body><p>%s</p><img src="cid:image001.png@01DB4C2A.5E6F7A80"></body></html>' % text,
             "--rel", 'Content-Type: image/png; name="image001.png"',
             "Content-Transfer-Encoding: base64",
             "Content-ID: <image001.png@01DB4C2A.5E6F7A80>", "", b64(logo), "--rel--"]
    head = ["From: Ola <%s>" % CLIENT,
            "To: %s" % (to_mail["Reply-To"] or "biuro@bmt.example"),
            "Subject: RE: %s" % to_mail["Subject"],
            "Message-ID: <%s@reklama-baltyk.pl>" % os.urandom(6).hex(),
            "In-Reply-To: %s" % to_mail["Message-ID"], "MIME-Version: 1.0"]
    if photo is None:
        body = head + ['Content-Type: multipart/related; boundary="rel"', ""] + parts
    else:
        body = head + ['Content-Type: multipart/mixed; boundary="mix"', "", "--mix",
                       'Content-Type: multipart/related; boundary="rel"', ""] + parts + [
                       "--mix", 'Content-Type: image/jpeg; name="IMG_2041.jpg"',
                       'Content-Disposition: attachment; filename="IMG_2041.jpg"',
                       "Content-Transfer-Encoding: base64", "", b64(photo), "--mix--"]
    return "\r\n".join(body).encode()


class OrderByMail(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.init()

    def tearDown(self):
        self.env.close()

    def state(self):
        return self.env.json("project", "show", "1")["state"]

    def task_mail(self, addr, title):
        ms = [m for m in self.env.sent_to(addr) if title in str(m["Subject"]) and m["Reply-To"]]
        self.assertTrue(ms, "no task %r for %s" % (title, addr))
        return ms[-1]

    def step(self, raw):
        self.env.put(raw)
        self.env.once()

    def test_inquiry_to_closed(self):
        env = self.env
        # artwork comes with the inquiry
        from email.message import EmailMessage
        m = EmailMessage()
        m["From"] = "Ola <%s>" % CLIENT
        m["To"] = "biuro@bmt.example"
        m["Subject"] = "Baner na ogrodzenie"
        m["Message-ID"] = "<inq1@reklama-baltyk.pl>"
        m.set_content("Prosimy o wycenę, projekt w załączniku.")
        m.add_attachment(PDF, maintype="application", subtype="pdf", filename="projekt_baneru.pdf")
        self.step(m.as_bytes())
        self.step(reply(self.task_mail(REP, "Przygotuj"), REP, "BAN-440 2 200x100cm\nSUBMIT"))
        self.assertEqual(self.state(), "offer")
        offer = [x for x in env.sent_to(CLIENT) if str(x["Subject"]).startswith("Oferta")][-1]

        # a question first: the rep gets it as a task, the state stays
        self.step(client_reply(offer, "Czy możliwy termin 10 grudnia?"))
        self.assertEqual(self.state(), "offer")
        self.task_mail(REP, "Klient odpowiedział")
        # the offer carries a signed accept link for the client
        self.assertRegex(str(offer["Reply-To"]), r"biuro\+t\d+-[a-z0-9]+@bmt\.example")
        self.assertIn("AKCEPTUJ%C4%98%20OFERT%C4%98", body_text(offer))
        # someone else using the client's link accepts nothing
        self.step(client_reply(offer, "AKCEPTUJĘ OFERTĘ", frm="x@konkurencja.pl"))
        self.assertEqual(self.state(), "offer")
        # BOK records what it knows about the client; the checks show it
        env.run("client", "set", "reklama-baltyk.pl", "--docs", "yes", "--payment-terms",
                "przelew 30 dni", "--as", "m.zak")
        c = env.json("client", "show", CLIENT)
        self.assertEqual((c["docs_on_file"], c["payment_terms"]), (True, "przelew 30 dni"))
        # an acceptance with a condition is for the rep to read
        asked = len([m for m in env.sent_to(REP) if "Klient odpowiedział" in str(m["Subject"])])
        self.step(client_reply(offer, "Dzień dobry,\nakceptuję ofertę pod warunkiem dostawy "
                                      "do 10 grudnia"))
        self.assertEqual(self.state(), "offer")
        self.assertEqual(len([m for m in env.sent_to(REP)
                              if "Klient odpowiedział" in str(m["Subject"])]), asked + 1)
        # acceptance by reply through the link, after a greeting
        self.step(client_reply(offer, "Dzień dobry,\n\nAKCEPTUJĘ OFERTĘ\n\nPozdrawiam"))
        self.assertEqual(self.state(), "order-checks")
        pay = self.task_mail(ACC, "zaległe płatności")
        self.assertIn("Dokumenty rejestrowe: są; warunki płatności: przelew 30 dni",
                      body_text(pay))
        docs = self.task_mail(BOK, "dokumenty rejestrowe")

        # accounting refuses: on hold, the rep is told why
        self.step(reply(pay, ACC, "ODMOWA\nZaległa faktura FV/2026/77 (1 200 zł)"))
        self.assertEqual(self.state(), "on-hold")
        hold = self.task_mail(REP, "wstrzymane")
        self.assertIn("FV/2026/77", body_text(hold))
        # BOK confirms, accounting confirms later on the same task: resumed
        self.step(reply(docs, BOK, "POTWIERDZAM"))
        self.assertEqual(self.state(), "on-hold")
        self.step(reply(pay, ACC, "CONFIRM"))
        self.assertEqual(self.state(), "awaiting-signature")
        order = [x for x in env.sent_to(CLIENT) if "podpisu" in str(x["Subject"])][-1]
        self.assertTrue(any(p.get_filename().startswith("ZA-") for p in order.iter_attachments()))

        # a reply with only the signature logo of an HTML mail brings no file
        n_cand = len([m for m in env.sent_to(REP) if "podpisane zamówienie" in str(m["Subject"])])
        self.step(outlook_reply(order, "Podpisane zamówienie wyślę jutro."))
        self.assertEqual(len([m for m in env.sent_to(REP)
                              if "podpisane zamówienie" in str(m["Subject"])]), n_cand)
        # a photo beside the logo is the candidate, alone; the logo stays out
        photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 400
        self.step(outlook_reply(order, "Zdjęcie podpisanego zamówienia", photo=photo))
        cand = self.task_mail(REP, "podpisane zamówienie")
        self.assertEqual([p.get_filename() for p in cand.iter_attachments()],
                         ["IMG_2041.jpg", "zadanie.ics"])
        self.assertEqual(env.sql("SELECT filename, embedded FROM attachments WHERE"
                                 " filename IN ('image001.png', 'IMG_2041.jpg') ORDER BY id"),
                         [("image001.png", 1), ("image001.png", 1), ("IMG_2041.jpg", 0)])
        self.step(reply(cand, REP, "REFUSE nieczytelne zdjęcie"))
        self.assertEqual(self.state(), "awaiting-signature")

        # a scan the rep refuses, then the right one
        self.step(client_reply(order, "W załączniku", attach=PDF, name="skan1.pdf"))
        cand = self.task_mail(REP, "podpisane zamówienie")
        self.assertEqual([p.get_filename() for p in cand.iter_attachments()],
                         ["skan1.pdf", "zadanie.ics"])
        self.step(reply(cand, REP, "REFUSE nieczytelny skan"))
        self.assertEqual(self.state(), "awaiting-signature")
        # the client sent a scan to the rep directly; she forwards it with
        # the project's tag and no token: a candidate as from the client
        fwd = client_reply(order, "Klientka przysłała mi skan.", attach=PDF + b"%1",
                           name="skan_od_klientki.pdf", frm="Anna Nowak <%s>" % REP)
        self.step(fwd.replace(b"Subject: Re: ", b"Subject: Fwd: ", 1))
        cand = self.task_mail(REP, "podpisane zamówienie")
        self.assertEqual([p.get_filename() for p in cand.iter_attachments()],
                         ["skan_od_klientki.pdf", "zadanie.ics"])
        self.assertIn("Anna Nowak przekazał(a) plik", body_text(cand))
        self.assertEqual(env.json("mail", "list", "--status", "refused"), [])
        self.step(reply(cand, REP, "REFUSE to stara wersja"))
        self.assertEqual(self.state(), "awaiting-signature")
        # a new mail, not a reply, that names the order's number: the
        # client's goes to the project; a stranger's opens an inquiry of
        # its own; a rep's with the number only in the file's name too
        za = [p.get_filename() for p in order.iter_attachments()
              if p.get_filename().startswith("ZA-")][0][:-4]
        self.step(fresh_mail("Ola <%s>" % CLIENT, "Podpisane zamówienie " + za.replace("-", "/"),
                             "Dzień dobry, w załączniku.", attach=PDF + b"%3", name="scan.pdf"))
        cand = self.task_mail(REP, "podpisane zamówienie")
        self.assertEqual([p.get_filename() for p in cand.iter_attachments()],
                         ["scan.pdf", "zadanie.ics"])
        self.assertIn("Klient przysłał plik", body_text(cand))
        self.step(reply(cand, REP, "REFUSE brak pieczątki"))
        self.step(fresh_mail("Jan <jan.obcy@example.net>", "Zamówienie " + za.replace("-", "/"),
                             "Proszę o status."))
        self.assertEqual(len(env.json("project", "list", "--json")), 2)
        self.step(fresh_mail("Anna Nowak <%s>" % REP, "Fwd: skan od klientki",
                             "Przesyłam.", attach=PDF + b"%4", name=za + " podpisane.pdf"))
        cand = self.task_mail(REP, "podpisane zamówienie")
        self.assertEqual([p.get_filename() for p in cand.iter_attachments()],
                         [za + " podpisane.pdf", "zadanie.ics"])
        self.step(reply(cand, REP, "REFUSE to nie to"))
        hist = env.json("project", "show", "1")["history"]
        self.assertEqual(len([e for e in hist if e["kind"] == "mail-in"
                              and ("document number " + za.replace("-", "/")) in e["text"]]), 1)
        self.assertEqual(len([e for e in hist if e["kind"] == "mail-in"
                              and ("staff, document " + za.replace("-", "/")) in e["text"]]), 1)
        self.assertEqual(self.state(), "awaiting-signature")
        self.step(client_reply(order, "Poprawiony skan", attach=PDF + b"%2", name="skan2.pdf"))
        cand2 = self.task_mail(REP, "podpisane zamówienie")
        self.step(reply(cand2, REP, "CONFIRM"))
        self.assertEqual(self.state(), "production")

        # production gets the production order and the artwork
        job = self.task_mail(PROD, "zlecenie produkcyjne")
        names = [p.get_filename() for p in job.iter_attachments()]
        self.assertTrue(any(n.startswith("ZW-") for n in names), names)
        self.assertIn("projekt_baneru.pdf", names)
        self.step(reply(job, PROD, "WYKONANE"))
        self.assertEqual(self.state(), "delivery")
        dl = self.task_mail(ACC, "wydanie towaru")
        self.step(reply(dl, ACC, "DELIVERED"))  # invoice number missing: refused
        self.assertEqual(self.state(), "delivery")
        self.step(reply(dl, ACC, "DELIVERED FV/2026/101"))
        self.assertEqual(self.state(), "closed")
        closing = [x for x in env.sent_to(CLIENT) if "zrealizowane" in str(x["Subject"])]
        self.assertEqual(len(closing), 1)

        kinds = [d["kind"] for d in env.json("doc", "list", "1", "--json")]
        self.assertEqual(kinds, ["offer", "order", "signed-order", "production", "delivery"])
        hist = env.json("project", "show", "1")["history"]
        moves = [e["text"] for e in hist if e["kind"] == "transition"]
        self.assertEqual([t.split(" (")[0] for t in moves], [
            "inquiry → calculation", "calculation → offer", "offer → order-checks",
            "order-checks → on-hold", "on-hold → awaiting-signature",
            "awaiting-signature → production", "production → delivery", "delivery → closed"])


if __name__ == "__main__":
    unittest.main()
