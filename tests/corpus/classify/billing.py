"""JSON documents for the corpus, continued: Stripe, Intercom, Greenhouse, Pipedrive and
Freshdesk objects (field names from the packaged stream schemas; values generated)."""

from __future__ import annotations

import random

from tests.corpus.classify import values as v


def address(r: random.Random) -> dict[str, object]:
    return {
        "city": r.choice(("San Francisco", "Berlin", "Austin")),
        "country": r.choice(("US", "DE")),
        "line1": f"{r.randint(1, 999)} {r.choice(('Market St', 'Main Street', 'Torstrasse'))}",
        "line2": r.choice((None, f"Suite {r.randint(100, 900)}")),
        "postal_code": f"{r.randint(10000, 99999)}",
        "state": r.choice(("CA", "TX", None)),
    }


def stripe_billing_details(r: random.Random) -> object:
    return {"address": address(r), "email": v.email(r), "name": v.full(r), "phone": v.phone(r)}


def stripe_shipping(r: random.Random) -> object:
    return {
        "address": address(r),
        "name": v.full(r),
        "carrier": None,
        "phone": None,
        "tracking_number": None,
    }


def stripe_card(r: random.Random) -> object:
    a = address(r)
    return {
        "id": "card_" + v.token(r, 24),
        "object": "card",
        "name": v.full(r),
        "address_line1": a["line1"],
        "address_city": a["city"],
        "address_zip": a["postal_code"],
        "brand": "Visa",
        "last4": f"{r.randint(0, 9999):04d}",
        "exp_month": r.randint(1, 12),
        "exp_year": 2028,
        "cvc_check": "pass",
        "funding": "credit",
        "fingerprint": v.token(r, 16),
    }


def stripe_payment_method_details(r: random.Random) -> object:
    return {
        "type": "card",
        "card": {
            "brand": r.choice(("visa", "mastercard")),
            "last4": f"{r.randint(0, 9999):04d}",
            "exp_month": r.randint(1, 12),
            "exp_year": 2027,
            "country": "US",
            "funding": "credit",
            "fingerprint": v.token(r, 16),
            "checks": {
                "cvc_check": "pass",
                "address_line1_check": "pass",
                "address_postal_code_check": r.choice(("pass", "unavailable")),
            },
        },
    }


def stripe_outcome(r: random.Random) -> object:
    return {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "risk_score": r.randint(0, 99),
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def stripe_metadata(r: random.Random) -> object:
    return {"order_id": str(r.randint(1000, 9999)), "channel": r.choice(("web", "pos"))}


def stripe_refunds(r: random.Random) -> object:
    return {"object": "list", "data": [], "has_more": False, "url": "/v1/charges/ch_x/refunds"}


def intercom_location(r: random.Random) -> object:
    return {
        "type": "location",
        "country": r.choice(("United States", "Germany")),
        "region": r.choice(("California", "Bavaria")),
        "city": r.choice(("San Francisco", "Munich")),
    }


def intercom_social_profiles(r: random.Random) -> object:
    handle = f"{v.first(r).lower()}{v.last(r).lower().replace(' ', '')}"
    return {
        "type": "list",
        "data": [
            {"type": "social_profile", "name": "Twitter", "url": f"https://twitter.com/{handle}"}
        ],
    }


def intercom_list(kind: str) -> object:
    return lambda r: {
        "type": "list",
        "data": [
            {"type": kind, "id": str(r.randint(1, 10**6)), "url": f"/{kind}s/{r.randint(1, 10**6)}"}
        ],
        "url": f"/contacts/x/{kind}s",
        "total_count": 1,
        "has_more": False,
    }


def intercom_custom_attributes(r: random.Random) -> object:
    return {"plan": r.choice(("pro", "starter")), "seats": r.randint(1, 50)}


def intercom_author(r: random.Random) -> object:
    return {
        "type": r.choice(("admin", "user")),
        "id": str(r.randint(1, 10**7)),
        "name": v.full(r),
        "email": v.email(r),
    }


def intercom_avatar(r: random.Random) -> object:
    return {"type": "avatar", "image_url": v.url(r)}


def typed_values(build: object, kinds: tuple[str, ...] = ("work", "home")) -> object:
    return lambda r: [{"value": build(r), "type": r.choice(kinds)} for _ in range(r.randint(1, 2))]  # type: ignore[operator]


def greenhouse_person(r: random.Random) -> object:
    f, la = v.first(r), v.last(r)
    return {
        "id": r.randint(1, 10**6),
        "first_name": f,
        "last_name": la,
        "name": f"{f} {la}",
        "employee_id": None,
    }


def greenhouse_addresses(r: random.Random) -> object:
    a = address(r)
    return [{"value": f"{a['line1']}, {a['city']} {a['postal_code']}", "type": "home"}]


def greenhouse_employments(r: random.Random) -> object:
    return [
        {
            "id": r.randint(1, 10**6),
            "company_name": r.choice(v.COMPANIES),
            "title": v.title(r),
            "start_date": "2019-01-01T00:00:00.000Z",
            "end_date": None,
        }
    ]


def greenhouse_educations(r: random.Random) -> object:
    return [
        {
            "id": r.randint(1, 10**6),
            "school_name": r.choice(("MIT", "ETH Zurich")),
            "degree": "Bachelor's Degree",
            "discipline": "Computer Science",
        }
    ]


def greenhouse_named(kind: str) -> object:
    return lambda r: [
        {
            "id": r.randint(1, 10**6),
            "name": r.choice(("Sales", "Engineering", "Berlin", "Remote")),
            "parent_id": None,
        }
    ]


def pipedrive_picture(r: random.Random) -> object:
    return {
        "item_type": "person",
        "item_id": r.randint(1, 10**6),
        "active_flag": True,
        "pictures": {"128": v.url(r), "512": v.url(r)},
    }


def slack_icons(r: random.Random) -> object:
    return {"image_48": v.url(r), "emoji": ":robot_face:"}


def channel_names(r: random.Random) -> object:
    return [r.choice(("sales", "deals-2024", "general-old"))]


def email_list(r: random.Random) -> object:
    return [v.email(r) for _ in range(r.randint(1, 2))]


def url_list(r: random.Random) -> object:
    return [f"https://zoom.us/j/{r.randint(10**9, 10**10)}"]


def tags(r: random.Random) -> object:
    return r.sample(["vip", "enterprise", "churn-risk", "beta"], 2)


def empty(r: random.Random) -> object:
    return {}


def empty_list(r: random.Random) -> object:
    return []


def intercom_list_tag(r: random.Random) -> object:
    return intercom_list("tag")(r)  # type: ignore[operator]


def intercom_list_note(r: random.Random) -> object:
    return intercom_list("note")(r)  # type: ignore[operator]


def intercom_list_company(r: random.Random) -> object:
    return intercom_list("company")(r)  # type: ignore[operator]


def intercom_list_subscription(r: random.Random) -> object:
    return intercom_list("subscription")(r)  # type: ignore[operator]


def intercom_assignee(r: random.Random) -> object:
    return {"type": "admin", "id": str(r.randint(1, 10**7))}


def website_addresses(r: random.Random) -> object:
    return [{"value": f"https://www.{r.choice(v.DOMAINS)}", "type": "company"}]


def social_media_addresses(r: random.Random) -> object:
    handle = f"{v.first(r).lower()}{v.last(r).lower().replace(' ', '')}"
    return [{"value": f"https://linkedin.com/in/{handle}"}]


def phone_numbers(r: random.Random) -> object:
    return typed_values(v.phone, ("mobile", "work", "home"))(r)  # type: ignore[operator]


def email_addresses(r: random.Random) -> object:
    return typed_values(v.email, ("personal", "work"))(r)  # type: ignore[operator]


def greenhouse_custom_fields(r: random.Random) -> object:
    return {
        "desired_salary": str(r.randint(80, 200) * 1000),
        "referral_source": r.choice(("LinkedIn", "Referral")),
    }


def greenhouse_keyed_custom_fields(r: random.Random) -> object:
    return {
        "referral_source": {
            "name": "Referral source",
            "type": "short_text",
            "value": r.choice(("LinkedIn", "Job board")),
        }
    }


def greenhouse_departments(r: random.Random) -> object:
    return greenhouse_named("department")(r)  # type: ignore[operator]


def greenhouse_offices(r: random.Random) -> object:
    return greenhouse_named("office")(r)  # type: ignore[operator]


def freshdesk_agent_contact(r: random.Random) -> object:
    return {
        "active": True,
        "email": v.email(r),
        "job_title": v.title(r),
        "language": "en",
        "last_login_at": v.ts(r),
        "mobile": v.phone(r),
        "name": v.full(r),
        "phone": None,
        "time_zone": "Chennai",
        "created_at": v.ts(r),
        "updated_at": v.ts(r),
    }


def freshdesk_source_info(r: random.Random) -> object:
    return {"email_failure_count": None, "received_at": v.ts(r)}
