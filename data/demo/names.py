"""The demo salon's fixed vocabulary: names, services, schedules, tags, notes, phone ranges.

Plain constants only, so the other `data/demo/` modules can stay about the generating
model. Everything here is fictional: e-mail domains are the reserved `example.*` ones
(RFC 2606), and phone numbers come only from the ranges the Bundesnetzagentur keeps
permanently unassigned for media productions ("Drama Numbers", Mitteilung 148/2021), so a
demo business can never text or call a real person, even with a real SMS provider
configured.
"""

from __future__ import annotations

# A Berlin salon's clientele: mostly German names, with the city's other big communities.
FIRST_NAMES_FEMALE = (
    "Anna", "Lena", "Marie", "Sophie", "Laura", "Julia", "Lea", "Hannah", "Sarah", "Lisa",
    "Katharina", "Johanna", "Clara", "Emma", "Mia", "Charlotte", "Paula", "Greta", "Ida",
    "Frieda", "Luisa", "Jana", "Nina", "Sandra", "Petra", "Sabine", "Claudia", "Andrea",
    "Monika", "Ursula", "Birgit", "Heike", "Susanne", "Christina", "Franziska", "Theresa",
    "Antonia", "Helene", "Carla", "Nele", "Maja", "Elif", "Ayşe", "Zeynep", "Merve", "Aylin",
    "Agnieszka", "Katarzyna", "Magdalena", "Giulia", "Chiara", "Francesca", "Layla", "Amira",
    "Yasmin", "Olga", "Natalia", "Svetlana", "Eleni", "Maria", "Linh", "Mai", "Chloé", "Emily",
    "Grace", "Lucía", "Inès", "Noor", "Fatma", "Selin",
)  # fmt: skip
FIRST_NAMES_MALE = (
    "Lukas", "Leon", "Paul", "Jonas", "Felix", "Maximilian", "Elias", "Noah", "Ben", "Finn",
    "Tim", "Jan", "Moritz", "Niklas", "Philipp", "Sebastian", "Tobias", "Florian", "Stefan",
    "Michael", "Thomas", "Andreas", "Markus", "Frank", "Jürgen", "Uwe", "Wolfgang", "Matthias",
    "Christian", "David", "Jakob", "Anton", "Oskar", "Emil", "Mehmet", "Emre", "Can", "Murat",
    "Kerem", "Piotr", "Tomasz", "Marco", "Luca", "Alessandro", "Omar", "Karim", "Yusuf",
    "Dmitri", "Nikolai", "Giorgos", "Minh", "Duc", "Liam", "James", "Mateo", "Hugo", "Ali",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
    "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
    "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier",
    "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters",
    "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Vogel", "Friedrich", "Keller",
    "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke",
    "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher",
    "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich", "Brandt",
    "Haas", "Schreiber", "Graf", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl", "Engel", "Horn",
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan", "Doğan",
    "Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamińska", "Rossi", "Russo", "Ferrari",
    "Esposito", "Romano", "Haddad", "Nasser", "Khalil", "Ivanova", "Petrov", "Smirnova",
    "Papadopoulos", "Nguyen", "Tran", "Pham", "Smith", "García", "Martínez", "Dubois",
)  # fmt: skip

#: How umlauts and other letters are written in the local part of an e-mail address.
EMAIL_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
        "ı": "i", "ş": "s", "ç": "c", "ğ": "g", "Ş": "S", "Ç": "C", "é": "e", "è": "e",
        "ł": "l", "ś": "s", "ń": "n", "ó": "o", "ż": "z", "ź": "z", "ć": "c", "ą": "a",
        "ę": "e", "í": "i", "á": "a", "ú": "u",
    }
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
EMAIL_DOMAIN_WEIGHTS = (0.5, 0.3, 0.2)

#: Every number here is a "Drama Number": valid to libphonenumber, never given to anyone.
#: (prefix in E.164, count): 0171 39200 00-99 and 0176 040690 00-99 are mobile ranges;
#: the rest are 1,000 fixed-line numbers each in Berlin, Frankfurt, Hamburg, Cologne, Munich.
DRAMA_MOBILE_RANGES = (("+4917139200", 100), ("+49176040690", 100))
DRAMA_LANDLINE_RANGES = (
    ("+493023125", 1000),
    ("+496990009", 1000),
    ("+494066969", 1000),
    ("+492214710", 1000),
    ("+498999998", 1000),
)

# The first staff members are fixed, so the demo "staff" account can name one of them.
STAFF_NAMES = (
    "Lena Vogel", "Jonas Richter", "Mara Yılmaz", "Deniz Kaya",
    "Sophie Wagner", "Luca Romano", "Emma Schulz", "Paul Neumann",
)  # fmt: skip
STAFF_COLORS = (
    "#4C78A8", "#F58518", "#E45756", "#72B7B2", "#54A24B",
    "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC",
)  # fmt: skip

#: name, category, duration (min), buffer (min), price (cents), share of demand.
SERVICES = (
    ("Women's cut & blow-dry", "Cuts", 60, 0, 5800, 0.22),
    ("Men's cut", "Cuts", 30, 0, 3200, 0.20),
    ("Kids' cut", "Cuts", 30, 0, 2200, 0.05),
    ("Beard trim", "Barber", 15, 0, 1500, 0.06),
    ("Blow-dry & style", "Styling", 45, 0, 3800, 0.09),
    ("Updo & occasion styling", "Styling", 75, 15, 7500, 0.03),
    ("Root colour", "Colour", 90, 15, 7200, 0.11),
    ("Full colour", "Colour", 120, 15, 9500, 0.07),
    ("Highlights", "Colour", 150, 15, 12500, 0.06),
    ("Balayage", "Colour", 180, 15, 16500, 0.04),
    ("Keratin smoothing", "Treatments", 120, 15, 14000, 0.02),
    ("Scalp & hair treatment", "Treatments", 30, 15, 2800, 0.05),
)

#: Which services each kind of stylist offers (indexes into SERVICES).
ARCHETYPE_SERVICES = {
    "senior": tuple(range(12)),
    "colourist": (0, 4, 6, 7, 8, 9, 10, 11),
    "stylist": (0, 1, 2, 4, 5, 6, 7, 11),
    "barber": (1, 2, 3, 11),
    "junior": (0, 1, 2, 3, 4, 11),
}
#: Staff member i is ARCHETYPES[i % 8] and works HOURS_PATTERNS[i % 8].
ARCHETYPES = (
    "senior",
    "colourist",
    "stylist",
    "barber",
    "junior",
    "stylist",
    "colourist",
    "senior",
)

#: Weekly working hours per pattern, in local time: "days hh:mm-hh:mm [hh:mm-hh:mm]; ...".
#: Late shifts cover the after-work peak; Friday and Saturday have the most hands;
#: Monday the fewest; Sunday the salon is closed.
HOURS_PATTERNS = (
    "Tue-Wed 09:00-13:00 14:00-18:30; Thu-Fri 11:00-20:00; Sat 08:00-16:00",
    "Mon 10:00-18:00; Wed 11:00-20:00; Fri 11:00-20:00; Sat 08:30-16:30",
    "Tue-Fri 08:00-12:30 13:00-16:30; Sat 08:00-15:00",
    "Tue 11:00-20:00; Thu 12:00-20:00; Fri 11:00-20:00; Sat 08:00-16:00",
    "Mon-Tue 10:00-19:00; Thu 12:00-20:00; Sat 09:00-17:00",
    "Tue-Wed 10:00-19:00; Thu 10:00-14:00 15:00-20:00; Fri 10:00-19:00; Sat 09:00-17:00",
    "Mon 09:00-17:00; Wed 10:00-13:00 14:00-19:00; Fri 12:00-20:00; Sat 08:30-16:00",
    "Tue-Fri 11:00-20:00; Sat 09:00-16:00",
)
#: Staff member i with i % 8 in LATE_JOINERS joined the salon during the first year.
LATE_JOINERS = (6,)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

CUSTOMER_TAGS = (
    "colour-client", "sensitive-scalp", "prefers-morning", "student", "allergy-check",
    "curly-hair", "bridal", "referral",
)  # fmt: skip
CUSTOMER_NOTES = (
    "Patch test before any colour (PPD sensitivity).",
    "Prefers a quiet chair, no small talk.",
    "Usually books the same stylist; ask before moving.",
    "Wheelchair user: keep the front station free.",
    "Likes a coffee, oat milk.",
    "Bride in June - trial updo booked separately.",
    "Very fine hair: no thinning scissors.",
    "Often late by 10 minutes; book a buffer.",
    "Pays by card only.",
    "Brings her daughter (kids' cut) most visits.",
)
