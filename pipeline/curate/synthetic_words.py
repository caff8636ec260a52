"""The word lists and small tools `healthcoop bench generate` (synthetic.py) draws with.

In:  nothing (constants), or a seed, counts and sentences.
Out: word lists for names, places, subjects and record types; a seeded bijection (`Perm`)
     and a Zipf-like draw (`Zipf`); a source text built sentence by sentence that knows
     where each quote starts (`TextBuilder`); a record rendered as YAML lines
     (`render_record`).

Within each word list no two entries are alike enough to make two names look duplicated
(the duplicate-actor check would warn).
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import json
import math
import random
import re
import unicodedata

ZIPF_EXPONENT = 1.1  # actors and places: a few cited in many records, most in few
MONTHS = "January February March April May June July August September October November " \
         "December".split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
# record fields in the order they are written; those that state facts need a quote's support
ORDER = ("id label alt_labels type honorific title person organisation status parties "
         "signatories signed_at witnesses locations hosts participants leaders speakers visited "
         "country part_of date start_date end_date duration amount attendee_count purpose "
         "topics evidence").split()
NOT_FACTS = {"id", "label", "alt_labels", "type", "topics", "evidence"}

# --- word lists: within each, no two entries are alike enough to make names look duplicated
COUNTRIES = [c.split(":") for c in (  # id:label:ISO 3166-1:weight as a foreign side:cities
    "china:China:CN:0:Beijing,Shanghai,Guangzhou,Shenzhen,Chengdu,Wuhan,Hangzhou,Tianjin,"
    "Kunming,Harbin,Qingdao,Xiamen|united-kingdom:United Kingdom:GB:20:London,Manchester,"
    "Edinburgh,Cambridge|kenya:Kenya:KE:8:Nairobi,Mombasa|ethiopia:Ethiopia:ET:6:Addis Ababa|"
    "nigeria:Nigeria:NG:6:Lagos,Abuja|south-africa:South Africa:ZA:6:Johannesburg,Cape Town|"
    "egypt:Egypt:EG:4:Cairo|brazil:Brazil:BR:5:São Paulo,Brasília|indonesia:Indonesia:ID:5:"
    "Jakarta|thailand:Thailand:TH:4:Bangkok|pakistan:Pakistan:PK:5:Islamabad,Karachi|germany:"
    "Germany:DE:6:Berlin,Munich|france:France:FR:6:Paris,Lyon|japan:Japan:JP:5:Tokyo,Osaka|"
    "australia:Australia:AU:4:Sydney,Melbourne|cambodia:Cambodia:KH:3:Phnom Penh|serbia:Serbia:"
    "RS:3:Belgrade|argentina:Argentina:AR:3:Buenos Aires").split("|")]
FAMILY = ("Wang Xu Zhang Liu Chen Yang Huang Zhao Wu Zhou Sun Ma Kang Guo He Gao Lin Luo Zheng "
          "Liang Xie Song Tang Han Feng Deng Cao Peng Jia Tian Dong Pan Yuan Cai Jiang Du Ye Hu "
          "Wei Ding Ren Shen Yao Fan Jin Shi Qian Dai Xia Fu Lai Tao Xiong Bai Meng Wen Qiu Lei "
          "Kong Mo").split()
SYLLABLES = ("Wei Min Jing Hua Lei Yan Jun Ping Hong Ling Xin Yu Qiang Mei Fang Hui Jie Lan Tao "
             "Bo Chen Ning Kai Rui Xue Feng Hao Na Xia Zhi Guo Jian Song Wen Dong Shan Yi Peng "
             "Zhen Lu").split()
FIRST = ("Amelia Oliver Sophie James Hannah Thomas Grace William Chloe Henry Emma Daniel Olivia "
         "Samuel Lucy Jack Ella George Isla Harry Amara Chidi Ngozi Tunde Wanjiru Kamau Achieng "
         "Otieno Abebe Selam Tesfaye Fatima Omar Layla Karim Nadia Youssef Priya Arjun Ananya "
         "Rahul Siti Budi Dewi Agus Somchai Niran Malee Lucas Gabriel Mariana Beatriz Rafael "
         "Camila Mateo Valeria Diego Lukas Anna Felix Leonie Jonas Marie Hugo Camille Louis "
         "Hiroshi Yuki Kenji Aiko Sakura Haruto Noah Mia Ethan Zara Aisha Imran Bilal Hina Dara "
         "Sokha Milan Jelena Nikola Ivana Santiago Lucía Joaquín Zoë Tobias Elif Kofi").split()
LAST = ("Hartley Okafor Mwangi Bekele Haddad Raman Santoso Wongsa Silva Müller Dubois Tanaka "
        "Smith Jones Taylor Brown Wilson Evans Roberts Walker Wright Thompson White Hughes "
        "Edwards Green Hall Wood Harris Clarke Jackson Turner Hill Moore Cooper Ward Morris King "
        "Baker Adeyemi Balogun Eze Nwosu Okonkwo Kariuki Odhiambo Njoroge Wambui Tadesse Girma "
        "Alemu Mansour Farouk Nasser Saleh Ibrahim Sharma Iyer Patel Nair Gupta Menon Wijaya "
        "Hartono Kusuma Suzuki Sato Watanabe Kobayashi Yamamoto Nakamura Costa Pereira Oliveira "
        "Barros Ferreira Almeida Souza Lima Schmidt Fischer Weber Wagner Becker Hoffmann Schulz "
        "Bernard Moreau Laurent Lefebvre Fontaine Mercier Rousseau Petrovic Jovanovic Markovic "
        "Sok Keo Rodriguez Fernandez Gomez Lopez Sanchez Romero Alvarez Torres Ruiz Bhatt "
        "Qureshi Malik Siddiqui Chaudhry Mahmood Anderson Mitchell Campbell Stewart Murray "
        "Ogunleye Achebe Kimani Chebet Desta Tekle Osei Mensah Boateng Asante Darko").split()
PREFIXES = ("Northgate Silverlake Redwood Harbourview Kestrel Ashford Bramble Cedarbrook "
            "Dovecote Elmstead Foxglove Granite Hawthorn Ironbridge Juniper Kingsmere Larkspur "
            "Meadowbank Nettlefield Oakhurst Pinecrest Quarrytown Riverside Heronsgate "
            "Thistledown Umberfield Valemount Willowmere Yarrow Zephyr Thornbury Blackwater "
            "Coldstream Drumlin Evergreen Fairhaven Glenmoor Highcliff Hollybrook Kinloch "
            "Lochside Marigold Copperleaf Orchard Primrose Quayside Rosemont Saltmarsh Tidewater "
            "Upland Vantage Westbrook Birchwood Clearwater Deepdale Fernleigh Goldcrest "
            "Heathfield Ivydene Caraway Kelpie Lavender Moorland Nightingale Opaline Peregrine "
            "Quillon Ravensworth Seabright Tamarind Unicorn Verdant Wrenfield Sandringham Yewtree "
            "Zenith Tarragon Beacon Cobalt Greystone Sapphire Cloudberry Ploverdale Horizon "
            "Indigo Jubilee Driftwood Lumen Monarch Nimbus Onyx Pioneer Quartz Solstice Summit "
            "Tundra Aurora Wisteria Bluebell Compass").split()
FIELDS = ("Genomics|Oncology|Cardiology|Digital Health|Telemedicine|Public Health|Vaccine|"
          "Biomedical|Paediatric|Ophthalmic|Respiratory|Rehabilitation|Diagnostics|Neuroscience|"
          "Precision Medicine|Herbal Medicine|Maternal Health|Tropical Medicine|Infection Control|"
          "Health Data|Pharmaceutical|Surgical|Dental|Orthopaedic|Imaging|Nutrition|Elderly Care|"
          "Primary Care|Emergency Care|Biotech").split("|")
SUFFIXES = [(s, t) for t, ss in (p.split(":") for p in (
    "research-institute:Institute,Research Centre,Laboratory|hospital:Hospital,Medical Centre,"
    "Clinic|university:University|college:College,School of Medicine|company:Group,Co. Ltd,"
    "Technologies,Holdings,Pharma,Biosciences|association:Association,Society,Foundation,"
    "Network|business-council:Business Council,Trade Council|government-agency:Commission,"
    "Bureau,Agency|regulator:Authority,Inspectorate|health-service:Health Service,Health Trust|"
    "media-organisation:News Agency,Media Group|international-organisation:Alliance"
    ).split("|")) for s in ss.split(",")]
VENUE_KINDS = ("Convention Centre", "Conference Hall", "Exhibition Centre", "International Hotel",
               "Science Park", "Congress Centre")
TITLES = ("Director|Deputy Director|President|Vice President|Chief Executive|Chair|Secretary-"
          "General|Head of International Cooperation|Chief Medical Officer|Dean|Senior "
          "Researcher|Programme Manager|Chief Scientist|Head of Public Affairs").split("|")
OBJECTS = [(o.split("=")[0], o.split("=")[1].split()) for o in (  # what it is about = topics
    "telemedicine services for rural clinics=telemedicine primary-care|genomic sequencing for "
    "rare diseases=genomics rare-diseases|clinical trials of new cancer therapies=cancer "
    "life-sciences|training for nurses and midwives=health-workforce maternal-and-child-health|"
    "surveillance of antimicrobial resistance=antimicrobial-resistance public-health|electronic "
    "health records for district hospitals=electronic-health-records digital-health|artificial "
    "intelligence for medical imaging=artificial-intelligence medical-technology|vaccine "
    "research and production=pandemic-response life-sciences|care for older people=healthy-"
    "ageing|the regulation of medical devices=medical-devices medicines-regulation|access to "
    "essential medicines=access-to-medicines|research in traditional Chinese medicine="
    "traditional-chinese-medicine|the management of chronic diseases=chronic-disease primary-"
    "care|the exchange of health data=health-data|the detection of counterfeit medicines="
    "counterfeit-medicines drug-safety|exchanges of medical students=medical-education|"
    "preparedness for pandemics=pandemic-response global-health-security|biomarker research for "
    "personalised treatment=biomarkers personalised-medicine|investment in health innovation="
    "health-innovation health-investment|leadership training for hospital managers=healthcare-"
    "leadership|the treatment and prevention of COVID-19=covid-19|public health campaigns="
    "public-health|the monitoring of drug safety=drug-safety").split("|")]
AGREEMENT_VERBS = ("to develop", "to expand", "to improve", "to support", "to cooperate on",
                   "to jointly fund", "to promote", "to strengthen")
EVENT_VERBS = ("to discuss", "to review progress on", "to exchange views on", "to promote")
AGREEMENT_TYPES = [t.split(":") for t in (  # type:weight:noun
    "memorandum-of-understanding:30:memorandum of understanding|cooperation-arrangement:12:"
    "cooperation arrangement|collaboration-agreement:14:collaboration agreement|contract:8:"
    "contract|investment-agreement:8:investment agreement|fund-commitment:5:fund commitment|"
    "data-exchange-agreement:6:data exchange agreement|commercial-agreement:10:commercial "
    "agreement|joint-statement:7:joint statement").split("|")]
BILATERAL = {"memorandum-of-understanding", "contract", "cooperation-arrangement",
             "collaboration-agreement", "data-exchange-agreement"}
EVENT_TYPES = [t.split(":") for t in (  # type:weight:group:noun (titled kinds: the title's word)
    "meeting:15:talk:meeting|working-meeting:6:talk:working meeting|video-meeting:8:talk:video "
    "meeting|dialogue:4:gathering:Dialogue|visit:8:visit:visit|official-visit:5:visit:official "
    "visit|delegation-visit:8:visit:delegation visit|conference:10:gathering:Conference|forum:8:"
    "gathering:Forum|trade-fair:3:gathering:Expo|signing-ceremony:8:gathering:Signing Ceremony|"
    "panel-session:4:speech:panel session|presentation:5:speech:presentation|speech:8:speech:"
    "speech").split("|")]
DURATIONS = [("P2Y", "two-year"), ("P3Y", "three-year"), ("P5Y", "five-year"),
             ("P10Y", "ten-year"), ("P18M", "18-month")]
CURRENCIES = [("GBP", "£{}"), ("CNY", "RMB {}"), ("USD", "US${}"), ("EUR", "€{}"),
              ("HKD", "HK${}"), ("JPY", "{} yen"), (None, "{}")]
QUALIFIERS = [("exact", ""), ("exact", ""), ("more-than", "more than "),
              ("approximately", "about "), ("up-to", "up to ")]
PLAIN = re.compile(r"[a-z][a-z0-9-]*|[A-Z]{3}|P\d+[YM]")


def slug(label: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


CITIES = [(slug(c), c, cid) for cid, _l, _c, _w, cs in COUNTRIES for c in cs.split(",")]
COUNTRY_LABEL = {c[0]: c[1] for c in COUNTRIES}
CITIES_OF = {c[0]: [x for x in CITIES if x[2] == c[0]] for c in COUNTRIES}
FOREIGN, FOREIGN_WEIGHTS = [c[0] for c in COUNTRIES[1:]], [int(c[3]) for c in COUNTRIES[1:]]


def mix(a: int, b: int) -> int:
    """A 64-bit hash of two integers (splitmix64's finaliser): per-entity facts, no state."""
    x = (a * 0x9E3779B97F4A7C15 + b * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) % 2**64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % 2**64
    return x ^ (x >> 31)


class Perm:
    """i -> (a*i + b) mod n: a bijection of range(n) chosen by the seed."""

    def __init__(self, n: int, seed: int, salt: int):
        self.n, h = max(n, 1), mix(seed, salt)
        self.a, self.b = h % self.n | 1, (h >> 32) % self.n
        while math.gcd(self.a, self.n) != 1:
            self.a += 2

    def __call__(self, i: int) -> int:
        return (self.a * i + self.b) % self.n


class Zipf:
    """Draw from range(n) with P(rank r) ~ 1/(r+1)^s, the ranks spread over the indices by a
    permutation (so the popular actors are not all in the first file)."""

    def __init__(self, n: int, rng: random.Random, seed: int, salt: int):
        self.cum = list(itertools.accumulate(1.0 / (r + 1) ** ZIPF_EXPONENT for r in range(n)))
        self.rng, self.perm = rng, Perm(n, seed, salt)

    def __call__(self) -> int:
        rank = bisect.bisect_left(self.cum, self.rng.random() * self.cum[-1])
        return self.perm(min(rank, len(self.cum) - 1))


def quoted(value: str) -> str:
    """A YAML scalar: ids and codes plain, everything else double-quoted (JSON is YAML)."""
    return value if PLAIN.fullmatch(value) else json.dumps(value, ensure_ascii=False)


def render_record(rows: list[str], rec: dict, sid: str) -> None:
    """Append one record as YAML lines, fields in ORDER."""
    for n, key in enumerate(sorted(rec, key=ORDER.index)):
        value, lead = rec[key], "  - " if n == 0 else "    "
        if key == "evidence":
            rows.append(f"{lead}evidence:")
            for quote, _start, supports, occurrence in value:
                rows += [f"      - source: {sid}", f"        quote: {quoted(quote)}",
                         f"        supports: [{', '.join(supports)}]"]
                rows += [f"        occurrence: {occurrence}"] if occurrence else []
        elif key == "alt_labels":
            rows += [f"{lead}alt_labels:", f"      - label: {quoted(value)}",
                     "        kind: acronym"]
        elif isinstance(value, list):
            rows.append(f"{lead}{key}: [{', '.join(value)}]")
        elif isinstance(value, dict):
            rows += [f"{lead}{key}:"] + [f"      {k}: {quoted(v)}" for k, v in value.items()]
        else:
            rows.append(f"{lead}{key}: {quoted(value)}")
    rows.append("")


def facts_of(rec: dict) -> list[str]:
    return [k for k in ORDER if k in rec and k not in NOT_FACTS]


class TextBuilder:
    """A source text built sentence by sentence, each sentence's start kept as an offset in
    the text as the pipeline normalises it (whitespace runs -> one space)."""

    def __init__(self, sid: str, title: str, dateline: datetime.date | None = None):
        self.sid, self.title, self.dateline = sid, title, dateline
        self.parts, self.length, self.quotes = [title], len(title), []

    def add(self, sentence: str, sep: str = " ") -> int:
        self.parts.append(sep + sentence)
        self.length += 1 + len(sentence)
        return self.length - len(sentence)

    def quote(self, sentence: str, supports: list[str], sep: str = " ") -> list:
        """An evidence entry [quote, start, supports, occurrence] quoting `sentence` (less its
        final stop); a sentence equal to the one before is quoted there, not added again."""
        last = self.quotes[-1] if self.quotes else None
        again = last and last[0] == sentence.rstrip(".") and last[1] == self.length - len(sentence)
        start = last[1] if again else self.add(sentence, sep)
        self.quotes.append([sentence.rstrip("."), start, supports, None])
        return self.quotes[-1]

    def finish(self) -> bytes:
        norm = " ".join(p.lstrip() for p in self.parts)
        for entry in self.quotes:
            found, at = [], norm.find(entry[0])
            while at != -1:
                found.append(at)
                at = norm.find(entry[0], at + 1)
            if entry[1] not in found:  # pragma: no cover - a bug in the generator
                raise AssertionError(f"quote not at its sentence in {self.sid}: {entry[0]!r}")
            entry[3] = found.index(entry[1]) + 1 if len(found) > 1 else None
        return ("".join(self.parts) + "\n").encode("utf-8")


def join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def with_article(word: str) -> str:
    return ("an " if word.startswith(("a", "e", "i", "o", "u", "8", "18")) else "a ") + word


def day_text(d: datetime.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
