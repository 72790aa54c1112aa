"""Issue 4: calculation and approval by email and by CLI, with signed
action tokens; refusals for spoofed, replayed and foreign commands."""
import re
import unittest
from urllib.parse import unquote

from inkenv import Env, body_html, body_text, make_mail

REP = "anna.nowak@bmt.example"
SUP = "marek.zielinski@bmt.example"
CLIENT = "ola@reklama-baltyk.pl"


def reply(task_mail, frm, text, to=None):
    """A reply as a mail program makes it: to the Reply-To, quoting the task."""
    quoted = "\n".join("> " + l for l in body_text(task_mail).splitlines()[:20])
    body = "%s\n\nW dniu 27.11.2026 o 10:15, BMT Druk pisze:\n%s\n" % (text, quoted)
    return make_mail(frm, "Re: " + str(task_mail["Subject"]), body,
                     to=to or str(task_mail["Reply-To"]).strip("<>"),
                     headers={"In-Reply-To": task_mail["Message-ID"]})


class ByMail(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.env.init()

    def tearDown(self):
        self.env.close()

    def last_to(self, addr, contains=None, task=False):
        ms = [m for m in self.env.sent_to(addr)
              if (contains is None or contains in str(m["Subject"]))
              and (not task or m["Reply-To"])]
        self.assertTrue(ms, "no mail to %s with %r" % (addr, contains))
        return ms[-1]

    def history(self, project=1):
        return self.env.json("project", "show", str(project))["history"]

    def test_scenario(self):
        env = self.env
        env.put(make_mail("Ola <%s>" % CLIENT, "Banery na ogrodzenie", "Prosimy o wycenę"))
        env.once()
        task = self.last_to(REP, "Przygotuj kalkulację")
        rt = str(task["Reply-To"])
        self.assertRegex(rt, r"^<?biuro\+[a-z0-9-]+@bmt\.example>?$")
        self.assertLessEqual(len(rt.strip("<>").split("@")[0]), 64)
        # one mailto: link per allowed action, prefilled
        links = re.findall(r"mailto:[^\s>\"]+", body_text(task))
        self.assertEqual(len(links), 2)  # submit, note
        self.assertTrue(any("subject=[INK-1] SUBMIT" in unquote(l) for l in links), links)
        self.assertTrue(all("inkflow-token: " in unquote(l) for l in links))
        self.assertIn("mailto:", body_html(task))

        # The rep prices it: 20 banners 3x1 m (60 m²) and 160 eyelets; one typo
        env.put(reply(task, REP, "BAN-44 20 300x100cm\nFIN-EYE 160\nSUBMIT"))
        env.once()
        ans = self.last_to(REP, "SUBMIT")
        self.assertIn("NIE została zmieniona", body_text(ans))
        self.assertIn("line 1: unknown SKU BAN-44", body_text(ans))
        self.assertIn("BAN-440", body_text(ans))
        self.assertEqual(env.json("project", "show", "1")["state"], "calculation")

        env.put(reply(task, REP, "BAN-440 20 300x100cm\nFIN-EYE 160\nSUBMIT"))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "approval")
        calc = env.json("calc", "show", "1")
        self.assertEqual(calc["status"], "submitted")
        self.assertEqual(calc["lines"][0]["billed_milli"], 60000)
        # the supervisor is asked, with the calculation and three actions
        ask = self.last_to(SUP, "Zatwierdź kalkulację")
        text = body_text(ask)
        self.assertIn("BAN-440", text)
        self.assertIn("2 340,00 zł", text)  # 60 m² × 39,00 zł
        self.assertEqual(len(re.findall(r"mailto:", text)), 4)  # approve correct reject note

        # A spoofed approval: right From, no token
        env.put(make_mail(SUP, "Re: zatwierdzenie", "APPROVE"))
        # The rep uses the supervisor's link: right token, wrong From
        env.put(reply(ask, REP, "APPROVE"))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "approval")
        refused = env.json("mail", "list", "--status", "refused")
        self.assertEqual(len(refused), 2)
        self.assertIn("without a task token", refused[0]["reason"])
        self.assertIn("used by " + REP, refused[1]["reason"])

        # REJECT with a reason: back to calculation, the rep gets the reason
        env.put(reply(ask, SUP, "ODRZUĆ\nZa niska cena oczkowania, min. 1,20 zł/szt."))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "calculation")
        revise = self.last_to(REP, "Popraw ceny")
        self.assertIn("Za niska cena oczkowania", body_text(revise))
        # replaying the spent link: told who did what, nothing changes
        env.put(reply(ask, SUP, "APPROVE"))
        env.once()
        spent = self.last_to(SUP, "Już wykonane")
        self.assertIn("REJECT", body_text(spent))
        self.assertEqual(env.json("project", "show", "1")["state"], "calculation")

        # The rep revises and submits again; the supervisor approves
        env.put(reply(revise, REP, "BAN-440 20 300x100cm\nFIN-EYE 160 @ 1,20\nSUBMIT"))
        env.once()
        ask2 = self.last_to(SUP, "Zatwierdź", task=True)
        self.assertNotEqual(ask2["Message-ID"], ask["Message-ID"])
        env.put(reply(ask2, SUP, "Akceptuję\n"))  # not a command word: refused
        env.put(reply(ask2, SUP, "akceptuj"))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "offer")
        self.assertEqual(env.json("calc", "show", "1")["status"], "approved")
        kinds = [e["kind"] for e in self.history()]
        for k in ("calculation", "submitted", "rejected", "approved", "transition"):
            self.assertIn(k, kinds)
        # The offer PDF goes to the client, the rep in Cc
        offer = [m for m in env.sent_to(CLIENT) if str(m["Subject"]).startswith("Oferta")]
        self.assertEqual(len(offer), 1)
        self.assertIn(REP, str(offer[0]["Cc"]))
        pdfs = [p for p in offer[0].iter_attachments() if p.get_content_type() == "application/pdf"]
        self.assertEqual(len(pdfs), 1)
        self.assertRegex(pdfs[0].get_filename(), r"^OF-\d{4}-0001\.pdf$")
        self.assertTrue(pdfs[0].get_content().startswith(b"%PDF-"))
        docs = env.json("doc", "list", "1", "--json")
        self.assertEqual([d["kind"] for d in docs], ["offer"])
        refused = env.json("mail", "list", "--status", "refused")
        self.assertEqual(len(refused), 2)  # spoofed, foreign link
        # "Akceptuję" is no command: answered, nothing done
        self.assertTrue(any("nie ma polecenia" in body_text(m) for m in env.sent_to(SUP)))

    def test_auto_approve_under_limit(self):
        env = self.env
        env.put(make_mail(CLIENT, "Mały baner", "1 baner"))
        env.once()
        task = self.last_to(REP, "Przygotuj")
        env.put(reply(task, REP, "BAN-440 1 200x100cm\nSUBMIT"))  # 78 zł
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "offer")
        self.assertEqual(env.json("calc", "show", "1")["status"], "approved")
        self.assertEqual(self.env.sent_to(SUP), [])

    def test_band_requires_director_and_submit_to(self):
        env = self.env
        env.put(make_mail(CLIENT, "Duże zamówienie", "dużo"))
        env.once()
        task = self.last_to(REP, "Przygotuj")
        # 300 × 3x1 m = 900 m² × 39 = 35 100 zł: sales-director band
        env.put(reply(task, REP, "BAN-440 300 300x100cm\nSUBMIT m.zielinski"))
        env.once()
        ans = self.last_to(REP, "SUBMIT")
        self.assertIn("nie może zatwierdzić", body_text(ans))
        self.assertEqual(env.json("project", "show", "1")["state"], "calculation")
        env.put(reply(task, REP, "SUBMIT"))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "approval")
        self.last_to("ewa.wisniewska@bmt.example", "Zatwierdź")

    def test_correct_then_approved(self):
        env = self.env
        env.put(make_mail(CLIENT, "Siatka", "mesh"))
        env.once()
        task = self.last_to(REP, "Przygotuj")
        env.put(reply(task, REP, "MESH-370 10 500x200cm\nSUBMIT"))
        env.once()
        ask = self.last_to(SUP, "Zatwierdź")
        env.put(reply(ask, SUP, "KORYGUJ\nMESH-370 10 500x200cm @ 38,00"))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "offer")
        calc = env.json("calc", "show", "1")
        self.assertEqual((calc["version"], calc["status"]), (2, "approved"))
        self.assertEqual(calc["lines"][0]["unit_price"], 3800)
        corr = [e for e in self.history() if e["kind"] == "corrected"][0]
        self.assertIn("->", corr["text"])

    def test_assign_by_bok(self):
        env = self.env
        env.put(make_mail("jan@gmail.com", "Plakat", "ile?"))
        env.once()
        self.assertEqual(env.json("project", "show", "1")["state"], "inquiry")
        bok = self.last_to("bok@bmt.example", "Przydziel")
        env.put(reply(bok, "bok@bmt.example", "ASSIGN p.kowalczyk"))
        env.once()
        p = env.json("project", "show", "1")
        self.assertEqual((p["state"], p["owner"]["login"]), ("calculation", "p.kowalczyk"))
        self.last_to("piotr.kowalczyk@bmt.example", "Przygotuj")


class MailEqualsCli(unittest.TestCase):
    """The same steps by mail and by command line leave the same history."""

    @staticmethod
    def kinds(env):
        return [(e["kind"], e["actor"]) for e in env.json("project", "show", "1")["history"]
                if e["kind"] not in ("mail-in", "mail-out")]

    def test_identical_history(self):
        mail, cli = Env(), Env()
        try:
            for env in (mail, cli):
                env.init()
                env.put(make_mail(CLIENT, "Banery", "x", msgid="<same@x>"))
                env.once()
            # by mail
            last = lambda who, what: [m for m in mail.sent_to(who)
                                      if what in str(m["Subject"]) and m["Reply-To"]][-1]
            mail.put(reply(last(REP, "Przygotuj"), REP, "BAN-440 20 300x100cm\nSUBMIT"))
            mail.once()
            mail.put(reply(last(SUP, "Zatwierdź"), SUP, "REJECT za tanio"))
            mail.once()
            mail.put(reply(last(REP, "Popraw"), REP, "SUBMIT"))
            mail.once()
            mail.put(reply(last(SUP, "Zatwierdź"), SUP, "APPROVE"))
            mail.once()
            # by command line
            cli.run("calc", "add", "1", "--as", "a.nowak", input=b"BAN-440 20 300x100cm\n")
            cli.run("calc", "submit", "1", "--as", "a.nowak")
            t = cli.json("task", "list", "--user", "m.zielinski")[0]["id"]
            cli.run("task", "do", str(t), "reject", "--reason", "za tanio", "--as", "m.zielinski")
            cli.run("calc", "submit", "1", "--as", "a.nowak")
            t = cli.json("task", "list", "--user", "m.zielinski")[0]["id"]
            cli.run("task", "do", str(t), "approve", "--as", "m.zielinski")
            self.assertEqual(self.kinds(mail), self.kinds(cli))
            self.assertEqual(mail.json("project", "show", "1")["state"], "offer")
        finally:
            mail.close()
            cli.close()


class ByCli(unittest.TestCase):
    def test_same_history_as_mail(self):
        env = Env()
        try:
            env.init()
            env.put(make_mail(CLIENT, "Banery", "x"))
            env.once()
            tasks = env.json("task", "list", "--user", "a.nowak")
            self.assertEqual(len(tasks), 1)
            p = env.run("calc", "add", "1", "--as", "a.nowak",
                        input=b"BAN-440 20 300x100cm\nFIN-EYE 160\n")
            self.assertIn("BAN-440", p.stdout.decode())
            env.run("calc", "submit", "1", "--as", "a.nowak")
            t = env.json("task", "list", "--user", "m.zielinski")[0]
            p = env.run("task", "do", str(t["id"]), "reject", "--as", "m.zielinski", check=False)
            self.assertEqual(p.returncode, 1)  # a reason is required
            env.run("task", "do", str(t["id"]), "reject", "--reason", "za tanio",
                    "--as", "m.zielinski")
            p = env.run("task", "do", str(t["id"]), "approve", "--as", "m.zielinski",
                        check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("już wykonane", p.stderr.decode().lower() + p.stdout.decode().lower())
            env.run("calc", "submit", "1", "--as", "a.nowak")
            t = env.json("task", "list", "--user", "m.zielinski")[0]
            p = env.run("task", "do", str(t["id"]), "approve", "--as", "a.nowak", check=False)
            self.assertEqual(p.returncode, 1)  # not hers
            env.run("task", "do", str(t["id"]), "approve", "--as", "m.zielinski")
            self.assertEqual(env.json("project", "show", "1")["state"], "offer")
            kinds = [e["kind"] for e in env.json("project", "show", "1")["history"]
                     if e["kind"] not in ("mail-in", "mail-out")]
            self.assertEqual(kinds, [
                "project-created", "owner-assigned", "transition", "task-created",
                "calculation", "submitted", "transition", "task-created", "rejected",
                "transition", "task-created", "submitted", "transition", "task-created",
                "approved", "transition", "document", "task-created"])
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
