"""Issue 8: the managers' daily digest.  Once a day from the configured hour
(Europe/Warsaw; time injected with INKFLOW_NOW) each recipient gets one mail
with the numbers of `inkflow report pipeline` and a PDF of charts; never
twice for a day, however often the daemon restarts.  The PDFs and a PNG of
their first page are left in tests/out/digest/ for a person to look at."""
import datetime as dt
import os
import re
import shutil
import subprocess
import unittest
from zoneinfo import ZoneInfo

from inkenv import TOP, Env, body_text, make_mail

WARSAW = ZoneInfo("Europe/Warsaw")
OUT = os.path.join(TOP, "tests", "out", "digest")
MANAGERS = {
    "ewa.wisniewska@bmt.example": "Ewa Wiśniewska",
    "lukasz.wojcik@bmt.example": "Łukasz Wójcik",
    "marek.zielinski@bmt.example": "Marek Zieliński",
}
NAMES = {"a.nowak": "Anna Nowak", "p.kowalczyk": "Piotr Kowalczyk",
         "k.schmidt": "Katharina Schmidt", "m.zielinski": "Marek Zieliński"}
STATES_PL = {"inquiry": "zapytanie", "calculation": "kalkulacja", "approval": "akceptacja",
             "offer": "oferta"}
D = dt.date(2026, 11, 27)  # a Friday; Warsaw is at UTC+1
DAY = dt.timedelta(days=1)


def at(day, hour, minute=0):
    return int(dt.datetime(day.year, day.month, day.day, hour, minute,
                           tzinfo=WARSAW).timestamp())


def with_digest(lang="pl"):
    """conf_edit: the shipped (commented-out) <digest> element, switched on."""
    def edit(text):
        el = re.search(r"<digest [^>]*/>", text).group(0)
        el = el.replace('lang="pl"', 'lang="%s"' % lang)
        return text.replace("</inkflow>", "  %s\n</inkflow>" % el)
    return edit


def money(grosze, lang="pl"):
    """calc_money for PLN: "12 345,00 zł" (pl), "12.345,00 zł" (de)."""
    whole, frac = divmod(abs(grosze), 100)
    digits = "{:,}".format(whole).replace(",", " " if lang == "pl" else ".")
    return "%s%s,%02d zł" % ("-" if grosze < 0 else "", digits, frac)


def section(text, title):
    """The lines under `title` up to the next empty line."""
    lines = text.splitlines()
    i = lines.index(title) + 1
    out = []
    while i < len(lines) and lines[i].strip():
        out.append(lines[i])
        i += 1
    return out


def cells(line):
    return re.split(r"\s{2,}", line.strip())


class Digest(unittest.TestCase):
    def setUp(self):
        os.makedirs(OUT, exist_ok=True)

    def tearDown(self):
        os.environ.pop("INKFLOW_NOW", None)

    def run_at(self, env, t, runs=1):
        os.environ["INKFLOW_NOW"] = str(t)
        for _ in range(runs):  # each run is a new process: a restart
            env.once()

    def digests(self, env, word="Raport sprzedaży"):
        return [m for m in env.sent() if str(m["Subject"]).startswith(word)]

    def pdf_of(self, msg):
        pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
        self.assertEqual(len(pdfs), 1)
        return pdfs[0]

    def save(self, msg, name):
        """The mail's PDF into tests/out/digest/: checked by qpdf, page 1 as
        a PNG.  Returns the text pdftotext reads from it."""
        path = os.path.join(OUT, name + ".pdf")
        with open(path, "wb") as f:
            f.write(self.pdf_of(msg).get_content())
        subprocess.run(["qpdf", "--check", path], check=True, capture_output=True)
        subprocess.run(["pdftoppm", "-q", "-png", "-r", "100", "-f", "1", "-l", "1",
                        "-singlefile", path, os.path.join(OUT, name)], check=True)
        self.assertTrue(os.path.getsize(os.path.join(OUT, name + ".png")) > 10000)
        info = subprocess.run(["pdfinfo", path], check=True, capture_output=True).stdout
        self.assertRegex(info, rb"\nPages:\s+1\n")
        return subprocess.run(["pdftotext", "-q", "-layout", path, "-"], check=True,
                              capture_output=True).stdout.decode()

    def seed(self, env):
        """Five projects of four reps over the days before D, priced with
        `inkflow calc`; all before 07:00, so no digest goes out yet."""
        os.environ["INKFLOW_NOW"] = str(at(D - 5 * DAY, 6))
        env.init()
        env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Banery na ogrodzenie", "Wycena?"))
        env.put(make_mail("Jan <jan@agencja-wektor.pl>", "Roll-up", "Wycena?"))
        self.run_at(env, at(D - 5 * DAY, 6))
        env.put(make_mail("Jürgen Weiß <j.weiss@werbung-mueller.de>", "Banner", "Angebot?"))
        env.put(make_mail("Ewa <ewa@galeria-malta.pl>", "Wystawa", "Wycena?"))
        env.put(make_mail("Targi <biuro@targi-wielkopolska.pl>", "Stoisko", "Wycena?"))
        self.run_at(env, at(D - 3 * DAY, 6, 30))
        env.run("calc", "add", "1", "--as", "a.nowak", input=b"BAN-440 20 300x100cm\nFIN-EYE 160\n")
        env.run("calc", "submit", "1", "--as", "a.nowak")   # 2 532,00 zł: waits for approval
        env.run("calc", "add", "2", "--as", "p.kowalczyk", input=b"BAN-440 1 200x100cm\n")
        env.run("calc", "submit", "2", "--as", "p.kowalczyk")  # 78,00 zł: offer sent
        env.run("calc", "add", "3", "--as", "k.schmidt", input=b"BAN-440 10 300x100cm\n")
        env.run("calc", "add", "4", "--as", "m.zielinski", input=b"BAN-440 5 300x200cm\n")
        env.put(make_mail("Jan <jan@agencja-wektor.pl>", "Re: Oferta Roll-up [INK-2]",
                          "Dziękujemy, odezwiemy się."))
        self.run_at(env, at(D - DAY, 6, 45))

    def test_once_a_day(self):
        env = Env(conf_edit=with_digest())
        try:
            self.seed(env)
            self.assertEqual(self.digests(env), [])
            self.run_at(env, at(D, 6, 59))                 # before the hour
            self.assertEqual(self.digests(env), [])
            self.run_at(env, at(D, 7, 0))                  # due: one per recipient
            mails = self.digests(env)
            self.assertEqual(sorted(str(m["To"]) for m in mails),
                             sorted("%s <%s>" % (n, a) for a, n in MANAGERS.items()))
            self.run_at(env, at(D, 7, 30), runs=2)         # restarts: nothing twice
            self.run_at(env, at(D, 23, 59))
            self.assertEqual(len(self.digests(env)), 3)
            self.assertEqual(env.sql("SELECT day, recipients FROM digests"), [("2026-11-27", 3)])

            os.environ["INKFLOW_NOW"] = str(at(D, 7, 0))
            report = env.json("report", "pipeline")
            pending = env.json("report", "approvals")["pending"]
            self.check_numbers(mails, report, pending)

            ewa = [m for m in mails if "ewa.wisniewska" in str(m["To"])][0]
            self.assertEqual(self.pdf_of(ewa).get_filename(), "raport-2026-11-27.pdf")
            self.assertEqual(ewa["Auto-Submitted"], "auto-generated")
            text = self.save(ewa, "digest-pl")
            for want in ("Dzienny raport sprzedaży", "piątek, 27 listopada 2026 · stan na godz. 07:00",
                         "Wartość lejka wg handlowca", "Projekty wg etapu",
                         "Aktywność – ostatnie 30 dni", "Nowe projekty", "Wiadomości",
                         "dziennie, 28.10.2026 – 26.11.2026", "kalkulacja", "akceptacja",
                         "Kalkulacje do", "Zaległe zadania", "Strona 1 z 1"):
                self.assertIn(want, text)
            for rep in report["by_owner"]:
                self.assertIn(NAMES[rep["owner"]], text)
                self.assertIn(money(rep["value"]), text)
            total = sum(r["value"] for r in report["by_owner"])
            self.assertIn(money(total), text)  # a key figure
            self.assertIn("Marek Zieliński", text)
            self.assertIn("26.11", text)       # the last day of the line: yesterday

            # the next day: not before the hour, then once more
            self.run_at(env, at(D + DAY, 6, 59))
            self.assertEqual(len(self.digests(env)), 3)
            self.run_at(env, at(D + DAY, 7, 1), runs=2)
            later = [m for m in self.digests(env) if "28.11.2026" in str(m["Subject"])]
            self.assertEqual(len(later), 3)
            self.assertEqual(len(self.digests(env)), 6)
            self.assertEqual(self.pdf_of(later[0]).get_filename(), "raport-2026-11-28.pdf")
            self.assertEqual(env.sql("SELECT day FROM digests ORDER BY day"),
                             [("2026-11-27",), ("2026-11-28",)])
        finally:
            env.close()

    def check_numbers(self, mails, report, pending):
        """The mail's text says what `inkflow report pipeline --json` says."""
        total = sum(r["value"] for r in report["by_owner"])
        for m in mails:
            self.assertEqual(str(m["Subject"]),
                             "Raport sprzedaży 27.11.2026 – projekty: %d, lejek: %s"
                             % (report["projects"], money(total)))
            body = body_text(m)
            self.assertTrue(body.startswith(MANAGERS[m["To"].addresses[0].addr_spec] + ","))
            states = {c[0]: c[1:] for c in map(cells, section(body, "Projekty wg etapu:")[1:])}
            self.assertEqual(len(states), len(report["by_state"]))
            for s in report["by_state"]:
                self.assertEqual(states[STATES_PL[s["state"]]],
                                 [str(s["projects"]), money(s["value"])])
            reps = [cells(l) for l in section(
                body, "Wartość lejka wg handlowca (netto, ostatnia kalkulacja projektu):")[1:]]
            self.assertEqual(len(reps), len(report["by_owner"]))
            for row, r in zip(reps, report["by_owner"]):  # largest value first
                self.assertEqual(row, [NAMES[r["owner"]], str(r["projects"]), money(r["value"]),
                                       str(r["offers"]), str(r["won"]),
                                       "%.0f%%" % (100 * r["conversion"])])
            self.assertIn("Razem projektów: %d, wartość: %s." % (report["projects"], money(total)),
                          body)
            self.assertIn("Projekty z ofertą: %d, wygrane: %d, konwersja: %.0f%%." % (
                report["offers"], report["won"], 100 * report["conversion"]), body)
            over = {c[0]: c[1] for c in map(cells, section(body, "Zaległe zadania wg osoby:"))}
            self.assertTrue(report["overdue_tasks"])
            self.assertEqual(over, {NAMES[o["user"]]: str(o["overdue"])
                                    for o in report["overdue_tasks"]})
            self.assertIn("Kalkulacje czekające na zatwierdzenie: %d" % pending, body)
        # the seeded numbers themselves
        self.assertEqual(report["projects"], 5)
        self.assertEqual(pending, 1)
        self.assertEqual(report["offers"], 1)
        byo = {r["owner"]: r for r in report["by_owner"]}
        self.assertEqual(byo["a.nowak"]["value"], 253200)      # 60 m² × 39 + 160 × 1,20
        self.assertEqual(byo["a.nowak"]["projects"], 2)
        self.assertEqual(byo["p.kowalczyk"]["value"], 7800)

    def test_german(self):
        env = Env(conf_edit=with_digest("de"))
        try:
            os.environ["INKFLOW_NOW"] = str(at(D - DAY, 10))
            env.init()
            env.put(make_mail("Jürgen Weiß <j.weiss@werbung-mueller.de>", "Banner", "Angebot?"))
            self.run_at(env, at(D - DAY, 10))
            env.run("calc", "add", "1", "--as", "k.schmidt", input=b"BAN-440 10 300x100cm\n")
            self.assertEqual(len(self.digests(env, "Vertriebsbericht 26.11.2026")), 3)
            self.run_at(env, at(D, 8), runs=2)
            mails = self.digests(env, "Vertriebsbericht 27.11.2026")
            self.assertEqual(len(mails), 3)
            os.environ["INKFLOW_NOW"] = str(at(D, 8))
            report = env.json("report", "pipeline")
            value = report["by_owner"][0]["value"]
            body = body_text(mails[0])
            self.assertIn("Katharina Schmidt", body)
            self.assertIn(money(value, "de"), body)
            self.assertIn("Projekte je Status:", body)
            self.assertEqual(self.pdf_of(mails[0]).get_filename(), "bericht-2026-11-27.pdf")
            text = self.save(mails[0], "digest-de")
            for want in ("Täglicher Vertriebsbericht", "Freitag, 27. November 2026",
                         "Pipeline-Wert je Vertriebsmitarbeiter", "Projekte je Status",
                         "Aktivität – letzte 30 Tage", "Neue Projekte", "Nachrichten",
                         "Katharina Schmidt", money(value, "de"), "Anfrage", "Kalkulation",
                         "Seite 1 von 1"):
                self.assertIn(want, text)
        finally:
            env.close()

    def test_off_without_element(self):
        env = Env()  # the shipped configuration has the element commented out
        try:
            os.environ["INKFLOW_NOW"] = str(at(D, 9))
            env.init()
            env.put(make_mail("Ola <ola@reklama-baltyk.pl>", "Banery", "x"))
            self.run_at(env, at(D, 9))
            self.assertEqual(self.digests(env), [])
            self.assertEqual(env.sql("SELECT count(*) FROM digests"), [(0,)])
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
