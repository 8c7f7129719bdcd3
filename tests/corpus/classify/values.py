"""Seeded generators of realistic values for the classification corpus.

Each generator takes a ``random.Random`` and returns one value as the warehouse would
hand it to the sampler (text; JSON columns as their JSON text; ``None`` for NULL).
The shapes follow the connectors' documented payloads (HubSpot engagement properties,
Slack ``users.list`` profiles and message objects, Gong ``/v2/users`` and ``/v2/calls``,
Zendesk users and ticket comments, Stripe charges, Intercom contacts/admins/parts,
Greenhouse candidates/users, Pipedrive persons/users). People are drawn from a pool
that deliberately includes given names the classifier's list does not know.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable

Gen = Callable[[random.Random], "str | None"]

FIRST = [
    "Ann",
    "Maria",
    "James",
    "Priya",
    "Wei",
    "Olamide",
    "Sven",
    "Lucia",
    "Kenji",
    "Fatima",
    "David",
    "Sarah",
    "Michael",
    "Chloe",
    "Rahul",
    "Ingrid",
    "Carlos",
    "Emily",
    "Thanh",
    "Jurgen",
    "Aoife",
    "Siobhan",
    "Tariq",
    "Zanele",
    "Bartholomew",
    "Eun-ji",
    "Robert",
    "Jennifer",
    "Hannah",
    "Omar",
    "Elena",
    "Tom",
    "Mei",
    "Nikhil",
    "Grace",
    "Benoit",
    "Dagny",
    "Ikechukwu",
]
LAST = [
    "Lee",
    "Garcia",
    "Smith",
    "Patel",
    "Chen",
    "Okafor",
    "Johansson",
    "Rossi",
    "Tanaka",
    "Khan",
    "Nguyen",
    "Brown",
    "Miller",
    "O'Neil",
    "Schmidt",
    "Dubois",
    "Kowalski",
    "Novak",
    "Haddad",
    "Ferreira",
    "Murphy",
    "Cohen",
    "Ivanova",
    "Silva",
    "Kim",
    "MacLeod",
    "van",
    "der",
    "Berg",
    "Abara",
    "Lindqvist",
    "Moreau",
]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Vandelay",
    "Wonka",
    "Cyberdyne",
]
DOMAINS = ("acme.com", "globex.io", "initech.co.uk", "hooli.xyz", "gmail.com", "outlook.com")
TZ = ("America/New_York", "Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles", "Europe/London")
TITLES = (
    "Account Executive",
    "VP of Sales",
    "Customer Success Manager",
    "Software Engineer",
    "Head of Marketing",
    "Sales Development Representative",
    "CFO",
)
WORDS = [
    "pricing",
    "renewal",
    "contract",
    "onboarding",
    "integration",
    "roadmap",
    "budget",
    "security",
    "review",
    "timeline",
    "proposal",
    "invoice",
    "migration",
    "rollout",
    "dashboard",
    "quota",
    "pipeline",
    "forecast",
]


def first(r: random.Random) -> str:
    return r.choice(FIRST)


def last(r: random.Random) -> str:
    return r.choice(LAST)


def full(r: random.Random) -> str:
    return f"{first(r)} {last(r)}"


def email(r: random.Random) -> str:
    f, la = first(r).lower(), last(r).lower().replace("'", "").replace(" ", "")
    local = r.choice((f"{f}.{la}", f"{f[0]}{la}", f"{f}", f"{f}_{la}{r.randint(1, 99)}"))
    return f"{local}@{r.choice(DOMAINS)}"


def raw_address(r: random.Random) -> str:
    return f'"{full(r)}" <{email(r)}>'


def phone(r: random.Random) -> str:
    n = [r.randint(200, 989), r.randint(200, 999), r.randint(0, 9999)]
    return r.choice(
        (
            f"+1 {n[0]} {n[1]} {n[2]:04d}",
            f"({n[0]}) {n[1]}-{n[2]:04d}",
            f"+44 20 {n[1]}{n[0] % 10} {n[2]:04d}",
            f"+49 30 {n[1]}{n[2]:04d}",
            f"{n[0]}-{n[1]}-{n[2]:04d}",
        )
    )


def ext(r: random.Random) -> str:
    return str(r.randint(100, 9999))


def tz(r: random.Random) -> str:
    return r.choice(TZ)


def title(r: random.Random) -> str:
    return r.choice(TITLES)


def hexid(r: random.Random, n: int = 24) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def token(r: random.Random, n: int = 22) -> str:
    return "".join(r.choice(string.ascii_letters + string.digits) for _ in range(n))


def uuid(r: random.Random) -> str:
    h = hexid(r, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def num_id(r: random.Random) -> str:
    return str(r.randint(10**7, 10**11))


def ids(r: random.Random) -> str:
    return ";".join(num_id(r) for _ in range(r.randint(1, 3)))


def ts(r: random.Random) -> str:
    return f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:14:03Z"


def integer(r: random.Random) -> str:
    return str(r.randint(0, 5000))


def boolean(r: random.Random) -> str:
    return r.choice(("true", "false"))


def url(r: random.Random) -> str:
    return f"https://app.{r.choice(DOMAINS)}/r/{token(r, 10)}"


def message_id(r: random.Random) -> str:
    return f"<{token(r, 28)}@mail.gmail.com>"


def ical_uid(r: random.Random) -> str:
    return r.choice(
        (f"{hexid(r, 26)}@google.com", f"040000008200E00074C5B7101A82E008{hexid(r, 40)}")
    )


def slack_user(r: random.Random) -> str:
    return "U0" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(9))


def slack_ts(r: random.Random) -> str:
    return f"17{r.randint(10**7, 10**8 - 1)}.{r.randint(0, 999999):06d}"


def sentence(r: random.Random) -> str:
    return " ".join(r.choice(WORDS) for _ in range(r.randint(4, 9))).capitalize() + "."


def subject(r: random.Random) -> str:
    return r.choice(
        (
            f"Re: {r.choice(WORDS)} for {r.choice(COMPANIES)}",
            f"{first(r)}, quick question about {r.choice(WORDS)}",
            f"Intro: {full(r)} <> {full(r)}",
            f"Follow-up: {r.choice(WORDS)} {r.choice(WORDS)}",
            f"Meeting with {full(r)}",
        )
    )


def call_title(r: random.Random) -> str:
    return r.choice(
        (
            f"{r.choice(COMPANIES)} <> {full(r)} | Discovery",
            f"{full(r)} and {first(r)} {last(r)}",
            f"Call with {full(r)}",
            f"{r.choice(COMPANIES)} weekly sync",
        )
    )


def body(r: random.Random) -> str:
    """An email, note or call body: greeting, prose, sometimes a signature."""
    parts = [r.choice((f"Hi {first(r)},", "Hello team,", f"Dear {full(r)},", "Hi all,"))]
    parts += [sentence(r) for _ in range(r.randint(2, 4))]
    if r.random() < 0.6:
        parts.append(f"Best,\n{full(r)}\n{title(r)}, {r.choice(COMPANIES)}\n{phone(r)}")
    elif r.random() < 0.5:
        parts.append(f"Please reach out to {email(r)} with questions.")
    return "\n".join(parts)


def html_body(r: random.Random) -> str:
    return "<div>" + "".join(f"<p>{line}</p>" for line in body(r).split("\n")) + "</div>"


def chat(r: random.Random) -> str:
    return r.choice(
        (
            f"<@{slack_user(r)}> can you check the {r.choice(WORDS)} with {full(r)}?",
            f"Thanks {first(r)}! {sentence(r)}",
            f"{sentence(r)} cc {full(r)}",
            f"Spoke with {full(r)} from {r.choice(COMPANIES)}: {sentence(r)}",
            f"{sentence(r)}",
            f"Call {first(r)} on {phone(r)} before noon",
        )
    )


def notes(r: random.Random) -> str:
    return f"Attendees: {full(r)}, {full(r)}. {sentence(r)} Next step: {first(r)} to send {r.choice(WORDS)}."


def enum(options: str) -> Gen:
    choices = options.split("|")
    return lambda r: r.choice(choices)


def const_json(doc: object) -> Gen:
    text = json.dumps(doc)
    return lambda r: text


def maybe(gen: Gen, share: float = 0.5) -> Gen:
    return lambda r: gen(r) if r.random() < share else None


def jsonof(build: Callable[[random.Random], object]) -> Gen:
    return lambda r: json.dumps(build(r))


def direction_unique(r: random.Random) -> str:
    return f"{r.choice(('EMAIL', 'INCOMING_EMAIL'))}{token(r, 30)}"


def task_subject(r: random.Random) -> str:
    return r.choice(
        (f"Follow up with {full(r)}", f"Send {r.choice(WORDS)} deck", f"Call {first(r)} back")
    )


def handle(r: random.Random) -> str:
    f, la = first(r).lower(), last(r).lower().replace("'", "").replace(" ", "")
    return r.choice((f"{f}.{la}", f"{f}", f"{f}_{la[0]}"))


def hexcolor(r: random.Random) -> str:
    return hexid(r, 6)


def tz_offset(r: random.Random) -> str:
    return str(r.choice((-28800, -18000, 0, 3600, 19800)))


def user_details(r: random.Random) -> str:
    return f"{title(r)} at {r.choice(COMPANIES)}. Assistant: {full(r)}, {phone(r)}."


def signature(r: random.Random) -> str:
    return f"Best regards,\n{full(r)}\n{title(r)} | {r.choice(COMPANIES)}"


def user_notes(r: random.Random) -> str:
    return r.choice(
        (
            f"Prefers email ({email(r)}).",
            f"VIP, escalate to {full(r)}.",
            f"Call on {phone(r)} after 3pm.",
            "Met at the Berlin conference.",
        )
    )


def stripe_id(r: random.Random) -> str:
    return r.choice(("ch_", "cus_", "in_", "pi_", "txn_", "pm_")) + token(r, 24)


def receipt_number(r: random.Random) -> str:
    return f"{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"


def initial(r: random.Random) -> str:
    return first(r)[0].lower()


def pipedrive_dropbox(r: random.Random) -> str:
    return f"acme-{hexid(r, 6)}+deal{r.randint(100, 99999)}@pipedrivemail.com"


def employee_id(r: random.Random) -> str:
    return f"E{r.randint(10000, 99999)}"


def date(r: random.Random) -> str:
    return f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"


def street_address(r: random.Random) -> str:
    street = r.choice(("Baker Street", "Market St", "Rue de Rivoli", "Hauptstrasse"))
    return f"{r.randint(1, 400)} {street}, {r.choice(('London', 'Paris', 'Berlin', 'Austin'))}"


def twitter_handle(r: random.Random) -> str:
    return "@" + handle(r).replace(".", "_")
