"""Issue 7: a complaint on a closed project — review, case, opinions from
everyone who took part (one never answers), the supervisor's decision, the
client's decision mail and PDF, a reprint back to production."""
import os
import time
import unittest
from email.message import EmailMessage

from inkenv import Env, body_text, make_mail
from test_approval import CLIENT, REP, SUP, reply

BOK = "bok@bmt.example"


def close_project(env):
    """INK-1 from inquiry to closed through the command line."""
    env.put(make_mail("Ola <%s>" % CLIENT, "Banery", "Prosimy o wycenę"))
    env.once()
    env.run("calc", "add", "1", "--as", "a.nowak", input=b"BAN-440 20 300x100cm\n")
    env.run("calc", "submit", "1", "--as", "a.nowak")

    def task(user, kind):
        return str([t for t in env.json("task", "list", "--user", user) if t["kind"] == kind][0]["id"])
    env.run("task", "do", task("m.zielinski", "approve-calculation"), "approve", "--as", "m.zielinski")
    env.run("task", "do", task("a.nowak", "follow-up-offer"), "accepted", "--as", "a.nowak")
    env.run("task", "do", task("g.dabrowska", "check-payments"), "confirm", "--as", "g.dabrowska")
    env.run("task", "do", task("m.zak", "check-documents"), "confirm", "--as", "m.zak")
    order = [m for m in env.sent_to(CLIENT) if "podpisu" in str(m["Subject"])][-1]
    m = EmailMessage()
    m["From"] = CLIENT
    m["To"] = "biuro@bmt.example"
    m["Subject"] = "Re: " + str(order["Subject"])
    m["Message-ID"] = "<signed@reklama-baltyk.pl>"
    m.set_content("Podpisane")
    m.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="p.pdf")
    env.put(m.as_bytes())
    env.once()
    env.run("task", "do", task("a.nowak", "confirm-signed-order"), "confirm", "--as", "a.nowak")
    env.run("task", "do", task("t.krol", "produce"), "done", "--as", "t.krol")
    env.run("task", "do", task("g.dabrowska", "confirm-delivery"), "delivered", "FV/2026/7",
            "--as", "g.dabrowska")


class Complaint(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.init()
        close_project(self.env)
        self.assertEqual(self.state(), "closed")

    def tearDown(self):
        os.environ.pop("INKFLOW_NOW", None)
        self.env.close()

    def state(self):
        return self.env.json("project", "show", "1")["state"]

    def task_mail(self, addr, title):
        ms = [m for m in self.env.sent_to(addr) if title in str(m["Subject"]) and m["Reply-To"]]
        self.assertTrue(ms, "no %r for %s" % (title, addr))
        return ms[-1]

    def step(self, raw):
        self.env.put(raw)
        self.env.once()

    def test_complaint_end_to_end(self):
        env = self.env
        m = EmailMessage()
        m["From"] = "Ola <%s>" % CLIENT
        m["To"] = "biuro@bmt.example"
        m["Subject"] = "Reklamacja [INK-1]"
        m["Message-ID"] = "<rk1@reklama-baltyk.pl>"
        m.set_content("Dzień dobry, baner rozdarł się przy oczkach po tygodniu. Zdjęcia w załączniku.")
        m.add_attachment(b"\xff\xd8\xff\xe0fakejpeg", maintype="image", subtype="jpeg",
                         filename="zdjęcie_1.jpg")
        self.step(m.as_bytes())
        review = self.task_mail(BOK, "Prawdopodobnie reklamacja")
        self.task_mail(REP, "Prawdopodobnie reklamacja")
        self.assertEqual([p.get_filename() for p in review.iter_attachments()],
                         ["zdjęcie_1.jpg", "zadanie.ics"])

        self.step(reply(review, BOK, "REKLAMACJA"))
        self.assertEqual(self.state(), "complaint")
        cases = env.json("complaint", "list", "--json")
        self.assertEqual(len(cases), 1)
        number = cases[0]["number"]
        self.assertRegex(number, r"^RK/\d{4}/0001$")
        opened = [x for x in env.sent_to(CLIENT) if number in str(x["Subject"])]
        self.assertEqual(len(opened), 1)
        self.assertIn(number, body_text(opened[0]))

        # everyone who took part is asked, with the client's words and photos
        people = {"anna.nowak@bmt.example", SUP, "ksiegowosc@bmt.example", BOK,
                  "produkcja@bmt.example"}
        asks = {}
        for p in people:
            asks[p] = self.task_mail(p, "opinia o reklamacji")
            self.assertIn("rozdarł się przy oczkach", body_text(asks[p]))
        # four answer; production never does
        for p in people - {"produkcja@bmt.example"}:
            self.step(reply(asks[p], p, "OPINIA\nMoim zdaniem: %s" % p.split("@")[0]))
        self.assertEqual(self.state(), "complaint")
        # the deadline passes: the daemon's timer moves the case on
        os.environ["INKFLOW_NOW"] = str(int(time.time()) + 4 * 86400)
        env.once()
        self.assertEqual(self.state(), "complaint-decision")
        decide = self.task_mail(SUP, "Zdecyduj o reklamacji")  # Anna's supervisor
        text = body_text(decide)
        self.assertIn("Moim zdaniem: anna.nowak", text)
        self.assertIn("brak opinii w terminie", text)

        self.step(reply(decide, SUP, "DECIDE accept reprint\nUznajemy reklamację i wykonamy "
                                     "dodruk banerów w ciągu 5 dni roboczych."))
        decision = [x for x in env.sent_to(CLIENT) if "Decyzja" in str(x["Subject"])]
        self.assertEqual(len(decision), 1)
        self.assertIn("dodruk banerów", body_text(decision[0]))
        pdfs = [p.get_filename() for p in decision[0].iter_attachments()]
        self.assertEqual(pdfs, [number.replace("/", "-") + ".pdf"])
        # the reprint is a new production order
        self.assertEqual(self.state(), "production")
        self.assertEqual(len([d for d in env.json("doc", "list", "1", "--json")
                              if d["kind"] == "production"]), 2)
        case = env.json("complaint", "show", number, "--json")
        self.assertEqual((case["status"], case["outcome"]), ("closed", "reprint"))
        self.assertEqual(len(case["opinions"]), 4)

        # production's late opinion: told it is already decided
        self.step(reply(asks["produkcja@bmt.example"], "produkcja@bmt.example", "OPINIA\nza późno"))
        late = self.task_mail("produkcja@bmt.example", "Już wykonane") if False else \
            [x for x in env.sent_to("produkcja@bmt.example") if "Już wykonane" in str(x["Subject"])]
        self.assertEqual(len(late), 1)

    def test_mail_on_open_project_is_not_a_case(self):
        env = Env()
        try:
            env.init()
            env.put(make_mail(CLIENT, "Baner", "x"))
            env.once()
            env.put(make_mail(CLIENT, "Re: [INK-1] reklamacja", "To jest reklamacja!"))
            env.once()
            self.assertEqual(env.json("complaint", "list", "--json"), [])
            self.assertTrue([m for m in env.sent_to(REP) if "Klient odpowiedział" in str(m["Subject"])])
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
