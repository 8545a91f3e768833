"""Word lists for fictional people: names, e-mail domains, phone numbers, cards.

Phone numbers use the 555-01xx range, which North American numbering reserves for fiction.
"""

from __future__ import annotations

import random
import unicodedata

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Charlotte",
    "James", "Ava", "William", "Isabella", "Benjamin", "Mia", "Lucas", "Evelyn", "Henry",
    "Harper", "Theodore", "Luna", "Jack", "Camila", "Levi", "Gianna", "Alexander", "Elizabeth",
    "Jackson", "Eleanor", "Mateo", "Ella", "Daniel", "Abigail", "Michael", "Sofia", "Mason",
    "Avery", "Sebastian", "Scarlett", "Ethan", "Emily", "Logan", "Aria", "Owen", "Penelope",
    "Samuel", "Chloe", "Jacob", "Layla", "Asher", "Mila", "Aiden", "Nora", "John", "Hazel",
    "Joseph", "Madison", "Wyatt", "Ellie", "David", "Lily", "Leo", "Nova", "Luke", "Isla",
    "Julian", "Grace", "Hudson", "Violet", "Grayson", "Aurora", "Matthew", "Riley", "Ezra",
    "Zoey", "Gabriel", "Willow", "Carter", "Emilia", "Isaac", "Stella", "Jayden", "Zoe",
    "Luca", "Victoria", "Anthony", "Hannah", "Dylan", "Addison", "Lincoln", "Leah", "Thomas",
    "Lucy", "Maverick", "Eliana", "Elias", "Ivy", "Josiah", "Everly", "Charles", "Lillian",
    "Caleb", "Paisley", "Christopher", "Elena", "Ezekiel", "Naomi", "Miles", "Maya", "Jaxon",
    "Natalia", "Isaiah", "Valentina", "Andrew", "Priya", "Arjun", "Mei", "Hiroshi", "Aisha",
    "Omar", "Fatima", "Mohammed", "Yuki", "Chen", "Sione", "Ngozi", "Kwame", "Ana", "José",
    "Zoë", "Björn", "Siobhán", "Raúl", "Thandiwe", "Dmitri", "Ingrid", "Tariq", "Leilani",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "O'Brien", "McAllister", "Nakamura", "Okafor", "Kowalski", "Schmidt", "Rossi", "Müller",
    "Dubois", "Singh", "Chen", "Wang", "Haddad", "Cohen", "Levi", "Andersen", "Ivanova",
    "Mensah", "Tanaka", "Fitzgerald", "Van der Berg", "De la Cruz", "Sørensen", "Acheampong",
)

EMAIL_DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "icloud.com",
    "hotmail.com", "proton.me", "fastmail.com", "aol.com", "comcast.net", "example.org",
)

AREA_CODES = ("617", "857", "781", "339", "508", "774", "978", "351")

CARD_BRANDS = (("visa", 55), ("mastercard", 28), ("amex", 12), ("discover", 5))

FAILURE_REASONS = (
    "Your card was declined. (card_declined)",
    "Your card has insufficient funds. (insufficient_funds)",
    "Your card has expired. (expired_card)",
    "Your card's security code is incorrect. (incorrect_cvc)",
    "The bank did not authorise this payment. (do_not_honor)",
)


def ascii_slug(text: str) -> str:
    """``"Zoë O'Brien"`` -> ``"zoeobrien"``: what people type in an e-mail address."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def email_for(rng: random.Random, first: str, last: str, suffix: str = "") -> str:
    """A plausible personal address; ``suffix`` (e.g. a number) makes it unique."""
    f, last_slug = ascii_slug(first), ascii_slug(last)
    local = rng.choice(
        (f"{f}.{last_slug}", f"{f}{last_slug}", f"{f[0]}{last_slug}", f"{f}_{last_slug}",
         f"{last_slug}.{f}")
    )
    return f"{local}{suffix}@{rng.choice(EMAIL_DOMAINS)}"


def phone_for(rng: random.Random) -> str:
    return f"+1 {rng.choice(AREA_CODES)}-555-01{rng.randrange(100):02d}"


def card_brand(rng: random.Random) -> str:
    return rng.choices([b for b, _ in CARD_BRANDS], weights=[w for _, w in CARD_BRANDS])[0]
