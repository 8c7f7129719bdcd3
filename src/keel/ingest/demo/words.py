"""Word lists the demo sources draw realistic values from."""

from __future__ import annotations

# fmt: off

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "James",
    "Mia", "William", "Amelia", "Benjamin", "Harper", "Lucas", "Evelyn", "Henry", "Abigail",
    "Alexander", "Emily", "Mateo", "Ella", "Daniel", "Elizabeth", "Michael", "Camila", "Mason",
    "Luna", "Sebastian", "Sofia", "Ethan", "Avery", "Logan", "Mila", "Owen", "Aria", "Samuel",
    "Scarlett", "Jacob", "Penelope", "Asher", "Layla", "Aiden", "Chloe", "John", "Victoria",
    "Joseph", "Madison", "Wyatt", "Eleanor", "David", "Grace", "Leo", "Nora", "Priya", "Wei",
    "Fatima", "Hiroshi", "Ingrid", "Kwame", "Lucia", "Mohammed", "Nadia", "Rafael", "Yuki",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Okafor", "Kowalski", "Tanaka",
    "Novak", "Haddad", "Lindqvist", "Chen", "Patel", "Schmidt", "Rossi", "Dubois", "Silva",
)
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Hooli", "Vandelay",
    "Cyberdyne", "Soylent", "Massive", "Tyrell", "Aperture", "Black Mesa", "Gringotts",
    "Monarch", "Oscorp", "Pied Piper", "Prestige", "Sirius", "Nakatomi", "Virtucon", "Zorg",
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Blue Yonder",
    "Proseware", "Lucerne", "Wingtip", "Alpine", "Coho", "Fourth Coffee", "Margie", "Trey",
)
COMPANY_SUFFIXES = (
    "Inc", "LLC", "Corp", "Group", "Labs", "Systems", "Holdings", "Partners", "Technologies",
)
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Logistics",
    "Education", "Media", "Energy", "Telecommunications", "Insurance", "Real Estate",
)
TITLES = (
    "Account Executive", "Senior Account Executive", "Sales Development Representative",
    "Customer Success Manager", "Solutions Engineer", "Regional Sales Director",
    "VP of Sales", "Sales Manager", "Enterprise Account Executive", "Business Development Lead",
)
DEPARTMENTS = (
    "Sales", "Marketing", "Engineering", "Finance", "Customer Success", "Operations",
    "People", "Legal", "Product", "Support",
)
CHANNEL_NAMES = (
    "general", "random", "sales", "deals", "engineering", "support", "announcements",
    "marketing", "customer-success", "product", "design", "finance", "hiring", "incidents",
    "releases", "partnerships", "leadership", "onboarding", "data", "security",
)
TOPICS = (
    "Company-wide announcements", "Pipeline reviews and deal help", "Ask anything",
    "Production incidents and follow-ups", "Release notes and rollout plans",
    "Customer escalations", "Quarterly planning", "Onboarding questions for new joiners",
)
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")
CALL_TOPICS = (
    "pricing", "the renewal", "onboarding", "the security review", "integration options",
    "the pilot results", "contract terms", "the implementation timeline", "data migration",
    "the procurement process", "support coverage", "the product roadmap",
)
SENTENCES = (
    "Thanks for making the time today, I know the quarter is busy on your side.",
    "Could you walk me through how your team handles {topic} right now?",
    "We looked at three vendors last year and the main blocker was {topic}.",
    "That makes sense, and it is the most common thing we hear from teams your size.",
    "Our finance team will want to see the numbers before we commit to anything.",
    "I can send over a short summary of {topic} after the call.",
    "The biggest risk for us is the timeline, we need this live before the next audit.",
    "Happy to loop in our solutions engineer to go deeper on {topic}.",
    "We currently export everything to spreadsheets, which is painful every month.",
    "What would a successful first ninety days look like for you?",
    "Security will need to sign off, so let us plan for a review of {topic}.",
    "Let us pencil in a follow-up for next Tuesday and bring the wider team.",
    "If we can get the pilot done in four weeks, I think we have a strong case.",
    "Honestly the last rollout took too long and people lost interest.",
    "I will check with procurement whether a multi-year agreement changes {topic}.",
    "Great, I will capture the next steps and share them in the channel.",
)
MESSAGES = (
    "Heads up: the deploy is going out at 3pm, shout if anything looks off.",
    "Can someone review my PR for {topic}? It is small, promise.",
    "Great call with the customer this morning, notes are in the doc.",
    "Reminder that the quarterly planning doc is due Friday.",
    "Does anyone know who owns {topic} these days?",
    "Closing the loop: the incident from yesterday is resolved, postmortem to follow.",
    "Welcome to the team! Ping me if you need help getting set up.",
    "Pushed a fix for the flaky test, let me know if it shows up again.",
    "We just signed the renewal, huge thanks to everyone involved!",
    "Lunch and learn on {topic} tomorrow at noon, bring questions.",
)
# fmt: on
