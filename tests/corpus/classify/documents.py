"""JSON documents for the corpus's object/array columns, shaped as the connectors document
them (field names from the packaged stream schemas; values generated)."""

from __future__ import annotations

import random

from tests.corpus.classify import values as v


def slack_profile(r: random.Random) -> object:
    f, la = v.first(r), v.last(r)
    return {
        "title": v.title(r),
        "phone": v.phone(r) if r.random() < 0.6 else "",
        "real_name": f"{f} {la}",
        "display_name": f.lower(),
        "email": v.email(r),
        "first_name": f,
        "last_name": la,
        "status_text": r.choice(("", "In a meeting", "Vacationing")),
        "status_emoji": r.choice(("", ":palm_tree:")),
        "image_72": f"https://avatars.slack-edge.com/{v.hexid(r, 12)}_72.png",
        "avatar_hash": v.hexid(r, 12),
        "team": "T0" + v.hexid(r, 8).upper(),
    }


def slack_blocks(r: random.Random) -> object:
    return [
        {
            "type": "rich_text",
            "block_id": v.token(r, 5),
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": v.chat(r)}]}
            ],
        }
    ]


def slack_attachments(r: random.Random) -> object:
    return [
        {
            "id": 1,
            "title": f"{r.choice(v.WORDS).title()} plan",
            "title_link": v.url(r),
            "service_name": r.choice(("Google Docs", "Jira", "GitHub")),
            "fallback": f"[{r.choice(v.WORDS)}] update",
        }
    ]


def slack_bot_profile(r: random.Random) -> object:
    name = r.choice(("Gong", "Jira Cloud", "GitHub", "Google Calendar"))
    return {"id": "B0" + v.hexid(r, 8).upper(), "app_id": "A0" + v.hexid(r, 8), "name": name}


def slack_reactions(r: random.Random) -> object:
    return [{"name": "thumbsup", "users": [v.slack_user(r)], "count": 1}]


def slack_topic(r: random.Random) -> object:
    return {
        "value": f"{r.choice(v.WORDS).title()} updates",
        "creator": v.slack_user(r),
        "last_set": 0,
    }


def hubspot_email_properties(r: random.Random) -> object:
    return {
        "hs_email_direction": r.choice(("EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL")),
        "hs_email_from_email": v.email(r),
        "hs_email_from_firstname": v.first(r),
        "hs_email_subject": v.subject(r),
        "hs_email_status": r.choice(("SENT", "BOUNCED")),
        "hs_object_id": v.num_id(r),
        "hs_timestamp": v.ts(r),
    }


def hubspot_call_properties(r: random.Random) -> object:
    return {
        "hs_call_title": v.call_title(r),
        "hs_call_to_number": v.phone(r),
        "hs_call_status": "COMPLETED",
        "hs_call_duration": str(r.randint(1000, 900000)),
        "hs_object_id": v.num_id(r),
    }


def hubspot_note_properties(r: random.Random) -> object:
    return {"hs_note_body": v.body(r), "hs_object_id": v.num_id(r), "hs_timestamp": v.ts(r)}


def hubspot_meeting_properties(r: random.Random) -> object:
    return {
        "hs_meeting_title": v.call_title(r),
        "hs_meeting_body": v.notes(r),
        "hs_meeting_outcome": r.choice(("SCHEDULED", "COMPLETED")),
        "hs_i_cal_uid": v.ical_uid(r),
    }


def hubspot_task_properties(r: random.Random) -> object:
    return {
        "hs_task_subject": f"Follow up with {v.full(r)}",
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": r.choice(("HIGH", "LOW")),
    }


def associations(r: random.Random) -> object:
    return [v.num_id(r) for _ in range(r.randint(1, 3))]


def email_headers(r: random.Random) -> object:
    """hs_email_headers: a JSON document held in a string property."""
    return {
        "from": {"email": v.email(r), "firstName": v.first(r)},
        "to": [{"email": v.email(r), "raw": v.raw_address(r)}],
        "cc": [],
        "bcc": [],
        "sender": {"email": v.email(r)},
    }


def gong_spoken_languages(r: random.Random) -> object:
    return [{"language": r.choice(("en-US", "de-DE", "es-ES")), "primary": True}]


def gong_settings(r: random.Random) -> object:
    return {
        "webConferencesRecorded": True,
        "preventWebConferenceRecording": False,
        "telephonyCallsImported": False,
        "emailsImported": True,
    }


def zendesk_via(r: random.Random) -> object:
    return {
        "channel": "email",
        "source": {
            "from": {"address": v.email(r), "name": v.full(r)},
            "to": {"address": "support@acme.zendesk.com", "name": "Acme Support"},
            "rel": None,
        },
    }


def zendesk_comment_metadata(r: random.Random) -> object:
    return {
        "system": {
            "client": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
            "ip_address": f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            "location": r.choice(("Lisbon, 11, Portugal", "Austin, TX, United States")),
            "latitude": 38.7,
            "longitude": -9.1,
        },
        "custom": {},
    }


def attachments(r: random.Random) -> object:
    return [
        {
            "id": r.randint(1, 10**9),
            "file_name": f"{r.choice(v.WORDS)}.pdf",
            "content_url": v.url(r),
            "content_type": "application/pdf",
            "size": r.randint(1000, 10**6),
        }
    ]


def zendesk_photo(r: random.Random) -> object:
    return {"content_url": v.url(r), "file_name": "profile.png", "size": r.randint(1000, 9000)}


def zendesk_user_fields(r: random.Random) -> object:
    return {"plan": r.choice(("pro", "enterprise")), "region": r.choice(("emea", "amer"))}
