"""The daemon over the whole tests/corpus directory, as one Maildir: no
crash, every message accounted for with the right outcome, the run goes on
past the broken ones."""
import os
import unittest

from inkenv import CORPUS, Env

# file prefix -> (status, class or None for any)
EXPECT = {
    "01": ("processed", "normal"), "02": ("processed", "normal"),
    "03": ("processed", "normal"), "04": ("processed", "normal"),
    "05": ("processed", "normal"), "07": ("processed", "normal"),
    "09": ("ignored", "auto-reply"), "10": ("ignored", "auto-reply"),
    "11": ("ignored", "bounce"), "12": ("ignored", "list"), "13": ("ignored", "list"),
    "14": ("processed", "normal"), "18": ("quarantined", None), "19": ("quarantined", None),
    "25": ("ignored", "loop"), "26": ("processed", "normal"), "27": ("processed", "normal"),
    "28": ("processed", "normal"),
}


class Corpus(unittest.TestCase):
    def test_whole_corpus(self):
        env = Env()
        try:
            env.init()
            files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))
            names = {}
            for f in files:
                names[env.put_corpus(f)] = f
            out = env.once().stdout.decode()
            self.assertIn("%d messages read" % len(files), out)
            self.assertEqual(env.inbox_unseen(), [])
            mails = env.json("mail", "list")
            self.assertEqual(len(mails), len(files))
            by_file = {}
            for m in mails:
                key = m["source_key"]
                by_file[names[key][:2]] = m
            for prefix, (status, cls) in EXPECT.items():
                m = by_file[prefix]
                self.assertEqual(m["status"], status, (prefix, m["reason"]))
                if cls:
                    self.assertEqual(m["class"], cls, (prefix, m["reason"]))
                if status == "quarantined":
                    self.assertTrue(m["reason"])
            # hostile attachment names are stored sanitised, under the data dir
            hostile = by_file["20"]
            for a in hostile["attachments"]:
                self.assertNotIn("/", a["filename"])
                self.assertFalse(a["filename"].startswith("."))
                self.assertLessEqual(len(a["filename"].encode()), 120)
                path = os.path.realpath(os.path.join(env.data, a["path"]))
                self.assertTrue(path.startswith(os.path.realpath(env.data) + os.sep))
            # every inquiry became a project with exactly one acknowledgement
            projects = env.json("project", "list")
            for prefix in ("01", "02", "03", "04", "05", "07", "14", "26", "27", "28"):
                self.assertIsNotNone(by_file[prefix]["project"], prefix)
            acks = env.sql("SELECT project_id, count(*) FROM outbox WHERE kind='ack'"
                           " GROUP BY project_id")
            self.assertEqual(len(acks), len(projects))
            self.assertTrue(all(n == 1 for _, n in acks))
            self.assertEqual(len(env.sent()), env.sql("SELECT count(*) FROM outbox")[0][0])
            # decoded subjects and names reach the projects intact
            titles = [p["title"] for p in env.json("project", "list")]
            self.assertTrue(any("Werbebanner 3×1 m" in t for t in titles), titles)
            # a macOS file name and pasted text in decomposed Unicode: stored,
            # named and quoted composed (NFC), as every other client sends them
            mac = by_file["28"]
            self.assertEqual([a["filename"] for a in mac["attachments"]],
                             ["Wizualizacja \u015bciany \u2013 wersja 2.pdf"])
            path = os.path.join(env.data, mac["attachments"][0]["path"])
            self.assertTrue(os.path.isfile(path), path)
            self.assertEqual(os.path.basename(path).encode(),
                             "Wizualizacja \u015bciany \u2013 wersja 2.pdf".encode())
            tasks = [m for m in env.sent_to("bok@bmt.example")
                     if "[INK-%d]" % mac["project"] in str(m["Subject"])]
            self.assertEqual(len(tasks), 1)
            body = tasks[0].get_body(("plain",)).get_content()
            self.assertIn("\u201e\u015aciana od strony okien, zdj\u0119cie star\u00f3wki noc\u0105", body)
            self.assertNotIn("\u0301", body)
            self.assertNotIn("\u0328", body)
            # an encrypted inquiry: said so in its history and in BOK's task
            enc = by_file["27"]
            ev = env.sql("SELECT text FROM events WHERE message_id=? AND kind='encrypted'",
                         enc["id"])
            self.assertEqual(len(ev), 1, ev)
            self.assertTrue(ev[0][0].startswith("OpenPGP: message from "
                                                "b.grabczewski@druk-serwis.example"), ev)
            tasks = [m for m in env.sent_to("bok@bmt.example")
                     if "[INK-%d]" % enc["project"] in str(m["Subject"])]
            self.assertEqual(len(tasks), 1)
            body = tasks[0].get_body(("plain",)).get_content()
            self.assertIn("[Wiadomość jest zaszyfrowana (OpenPGP) i bez klucza odbiorcy nie da"
                          " się jej odczytać.", body)
            # the notice stands where the client's words would be quoted
            quoted = body.split("temat „Zapytanie o oklejenie witryny – poufne”:", 1)[1]
            self.assertIn("zaszyfrowana", quoted.split("-" * 70)[1])
            # the client learns at once that the inquiry could not be read
            acks = env.sent_to("b.grabczewski@druk-serwis.example")
            self.assertEqual(len(acks), 1)
            self.assertIn("Wiadomość dotarła do nas zaszyfrowana i nie możemy jej odczytać.",
                          acks[0].get_body(("plain",)).get_content())
            self.assertIn("<strong>Wiadomość dotarła do nas zaszyfrowana",
                          acks[0].get_body(("html",)).get_content())
            # the other inquiries say nothing of the kind
            self.assertEqual(env.sql("SELECT count(*) FROM events WHERE kind='encrypted'"),
                             [(1,)])
            for m in env.sent():
                if "b.grabczewski" in str(m["To"]) or "[INK-%d]" % enc["project"] in str(
                        m["Subject"]):
                    continue
                for part in m.walk():
                    if part.get_content_maintype() == "text":
                        self.assertNotIn("zaszyfrowan", part.get_content())
                        self.assertNotIn("verschlüsselt", part.get_content())
            self.assertEqual(env.sql("PRAGMA integrity_check"), [("ok",)])
        finally:
            env.close()


if __name__ == "__main__":
    unittest.main()
