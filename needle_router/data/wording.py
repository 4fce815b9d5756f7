"""Varied request wording for the synthetic generator: shapes, registers, numbers, enum synonyms.

Requests written by people rarely follow the tool's own words: they open with context ("I'm flying
out soon."), ask indirectly ("any chance you could..."), state a need without the action verb ("a
table for four at Nora's, please"), join two asks in many ways, say numbers as words or with
thousands separators, misspell, and speak casually, tersely or very politely. Everything here works
on the request *template* (values are placeholders `\\x01N\\x02`, filled in afterwards), or says a
value in a way the policy's grounding still reads (numbers) or that needs no grounding (enum
members), so gold answers stay exactly right.
"""

from __future__ import annotations

import random
import re

from needle_router.data import wordnet
from needle_router.data.values import spell_number

# -- frames -------------------------------------------------------------------------------------
# Indirect asks and polite/casual requests ({c}: the clause; {C}: capitalised). GERUND frames take
# the clause as a gerund ("turning on the lights"), used only when the gerund is known.
INDIRECT = (
    "Any chance you could {c}?", "Is there any way you can {c}?", "Is it possible to {c}?",
    "I was hoping you could {c}.", "Can I get you to {c}?", "Do me a favor and {c}.",
    "When you get a sec, {c}.", "I'd appreciate it if you could {c}.", "If you could {c}, that'd be great.",
    "Think you could {c}?", "{C}, if you can.", "{C} when you get a chance.", "{C}, thanks in advance!",
    "Need you to {c}.", "We need to {c}.", "Can we {c}?", "I'd like to {c}.", "Would it be possible to {c}?",
    "Could I ask you to {c}?", "I was wondering if you could {c}.", "Mind helping me {c}?",
    "Okay so I need to {c}.", "Can you go ahead and {c}?", "Please go ahead and {c}.", "Just {c}.",
    "Can you just {c}?", "Let's go ahead and {c}.", "Right, {c}.", "{C} for me, would you?",
    "You think you can {c}?", "I'm trying to {c}.", "Want to {c} for me?", "Be a star and {c}.",
)
GERUND = (
    "Would you mind {c}?", "How about {c}?", "Mind {c} for me?", "Could you look into {c}?",
    "I'd appreciate you {c}.", "Can you take care of {c}?", "What about {c}?",
)
POLITE = (
    "Hello! Would you please {c}? Thank you!", "Good morning! I'd be grateful if you could {c}.",
    "Excuse me, could you kindly {c}?", "If it's not too much trouble, could you {c}?",
    "Sorry to bother you, but could you {c}?", "I'd really appreciate it if you could {c}. Thanks so much!",
    "Hi there, would you be so kind as to {c}?", "Please, when you have a moment, {c}. Many thanks.",
    "Hello, I would like you to {c}, please.", "Could you possibly {c}? Thank you in advance.",
)
CASUAL = (
    "yo can u {c}", "{c} pls", "{c} plz", "hey {c} real quick", "{c} thx", "ok {c}", "lemme {c}",
    "can u {c}", "gotta {c}", "wanna {c}", "u mind if we {c}", "{c} k thx", "need to {c} lol",
    "hey can you {c} for me", "{c} when u can",
)
TERSE = ("{c}", "{C}.", "{c} now", "{c}, quick", "{C}. Now.", "{c} asap", "{C}!")
QUESTION_MORE = (
    "Could you tell me {c}?", "I'd like to know {c}.", "Can you find out {c}?", "Wondering {c}?",
    "Do you happen to know {c}?", "Curious, {c}?", "Real quick, {c}?", "I need to know {c}.",
    "Any idea {c}? Thanks.", "Hey, quick question: {c}?",
)
# Needs stated without the action verb ({n}: the clause with its verb removed: "a table for four").
NEED_INDEF = ("I need {n}.", "I'd like {n}.", "Can I get {n}?", "Looking for {n}.", "{N}, please.",
              "I could use {n}.", "Could I have {n}?", "{N} for me, please.", "Got to get {n}.")
NEED_DEF = ("{N}, please.", "{N}?", "{N} - can you?", "Now {n}, please.", "{N}. Thanks.", "{N} pls")
# The object first, then the action on a pronoun ({o}: "the kitchen lights"; {a}: "turn them on").
TOPIC = ("{O}: {a}.", "{O} - {a}, please.", "About {o}: can you {a}?", "{O}, {a}.", "So, {o}. {A}.",
         "{O}? {A}, please.", "Re {o}: {a}.")
NEED_VERBS = frozenset("""get find book reserve order buy create make add schedule play show give fetch grab
    pull check open rent request generate display list search put""".split())
_DEF_START = ("the ", "my ", "our ")
_INDEF_START = ("a ", "an ", "some ", "another ")

# Requests not to act (each says "don't", "do not", "never", "no need" or "shouldn't").
NEGATED_MORE = (
    "Please don't {c} just yet.", "We don't need to {c} anymore.", "No need to {c} after all.",
    "Don't worry, no need to {c}.", "I've changed my mind, don't {c}.", "Scratch that, do not {c}.",
    "dont {c} pls", "Do not {c} under any circumstances.", "There's no need to {c}.",
    "You don't have to {c}.", "Hmm, actually never mind, don't {c}.", "Don't {c} until I say so.",
)

# -- context sentences ----------------------------------------------------------------------------
# No values, numbers, dates, places or negations: they must not supply (or contradict) an argument.
CONTEXT_MORE = (
    "Okay, so.", "Quick thing.", "Hey, got a second?", "So I was thinking.", "Alright, here's what I need.",
    "Before I head out.", "Another for you.", "Hi again.", "Busy morning.", "Sorry, me again.",
    "Let's get this sorted.", "Okay, here goes.", "So, small request.", "Right then.",
    "I'm in a bit of a rush.", "Easy request.", "Here's the plan.", "Just remembered something.",
)
DOMAIN_CONTEXT: dict[str, tuple[str, ...]] = {
    "smart_home": ("It's freezing in here.", "I just got home.", "Getting ready for bed.", "Guests are coming over."),
    "media": ("Movie night!", "I need some background noise.", "Settling in for the evening.", "I'm bored."),
    "messaging": ("I'm running late.", "I owe someone a reply.", "Need to reach someone.", "Forgot to tell them."),
    "email": ("Work stuff.", "Inbox is a mess.", "Need to follow up on something.", "This is for work."),
    "calendar": ("My week is packed.", "Trying to plan ahead.", "Need to block some time.", "Busy week ahead."),
    "reminders": ("I keep forgetting things.", "My memory is terrible.", "So I remember.", "Note to self."),
    "navigation": ("I'm in the car.", "I'm heading out.", "Running a bit late.", "I'm lost."),
    "weather": ("Planning my day.", "Thinking about going for a walk.", "Wondering what to wear.",
                "We might go out later."),
    "finance": ("Payday finally.", "Sorting out my money.", "Bills are piling up.", "Doing my budget."),
    "investing": ("Watching the markets.", "Checking on my portfolio.", "Thinking about investing.",
                  "The market's wild lately."),
    "shopping": ("I need a few things.", "Doing some shopping.", "Running low on stuff.", "Treating myself."),
    "travel": ("I'm flying out soon.", "Planning a trip.", "Vacation time!", "Work trip coming up."),
    "food": ("I'm starving.", "Dinner plans.", "Too tired to cook.", "Lunch time."),
    "health": ("Feeling a bit rough.", "Doctor's orders.", "Keeping track of my health.", "Feeling a bit off."),
    "fitness": ("Just finished a workout.", "Trying to get in shape.", "Gym day.", "Back from a run."),
    "sports": ("Big game coming up.", "Following the season.", "Sports question.", "Game night!"),
    "automotive": ("My car's acting up.", "About to drive.", "Car stuff.", "Need to sort the car out."),
    "files": ("Cleaning up my files.", "Organising my documents.", "Working on a project.", "File stuff."),
    "devops": ("Production is on fire.", "Deploy day.", "On call this week.", "Ops question."),
    "databases": ("Data question.", "Working on the database.", "Need some data.", "Running some queries."),
    "crm": ("Sales stuff.", "Following up with a client.", "Pipeline review.", "Customer call coming up."),
    "hr": ("HR question.", "People stuff.", "Admin time.", "Team admin."),
    "education": ("Studying tonight.", "Homework time.", "Exam season.", "Back to class."),
    "math_science": ("Quick calculation.", "Science question.", "Helping with homework.", "Math time."),
    "iot": ("Checking the sensors.", "Device stuff.", "Something's off with a device.", "Gadget time."),
    "security": ("Security stuff.", "Something looks suspicious.", "Locking things down.", "Better safe than sorry."),
    "social": ("Social media time.", "Want to share something.", "Scrolling around.", "Posting time."),
    "news": ("Catching up on the news.", "What's going on in the world.", "Morning news.", "Keeping up."),
    "language": ("Language question.", "Learning a new language.", "Translation help.", "Word question."),
    "productivity": ("Getting organised.", "To-do time.", "Trying to be productive.", "Work mode."),
    "entertainment": ("Looking for something fun.", "Weekend plans.", "Bored at home.", "Fun stuff."),
    "pets": ("The dog needs attention.", "Pet stuff.", "My cat is being weird.", "Pet care time."),
    "real_estate": ("House hunting.", "Thinking about moving.", "Property question.", "Apartment search."),
}

# -- joining two or more asks -------------------------------------------------------------------
JOINERS_MORE = (
    ". Oh, and ", ", and while you're at it, ", ". Once that's done, ", ". Then ", " & ", ", also ",
    ". And ", ", and then also ", ". Next, ", ", after which ", " + ", ". Another thing: ", " and then ",
    ". Oh and also ", " then ",
)
FIRST_THEN = (("First ", ", then "), ("First, ", ". After that, "), ("Couple of things: ", ", and "),
              ("A couple of things: ", "; and "), ("To start, ", ". Then "))

# -- enum members said as synonyms (the gold answer stays the schema member) -----------------------
ENUM_ALSO: dict[str, tuple[str, ...]] = {
    "daily": ("every day", "each day", "once a day"), "weekly": ("every week", "once a week"),
    "monthly": ("every month", "once a month"), "hourly": ("every hour", "once an hour"),
    "biweekly": ("every other week", "fortnightly"), "nightly": ("every night",),
    "yearly": ("every year", "annually"), "once": ("just once", "one time"),
    "urgent": ("critical", "top priority"), "high": ("important", "high-priority"), "low": ("minor", "low-priority"),
    "medium": ("normal priority", "mid"), "normal": ("regular", "standard"),
    "walking": ("on foot", "by walking"), "driving": ("by car", "car"), "transit": ("public transport", "by bus"),
    "cycling": ("by bike", "bike"), "vegetarian": ("veggie", "meat-free"), "vegan": ("plant-based",),
    "gluten_free": ("gluten free", "no gluten"), "keto": ("low-carb",),
    "prod": ("production", "live"), "production": ("prod", "live"), "dev": ("development",),
    "staging": ("stage", "pre-prod"), "quiet": ("silent", "low noise"), "turbo": ("full blast", "boost"),
    "max": ("maximum", "full"), "standard": ("normal", "regular"), "sci_fi": ("science fiction", "sci-fi"),
    "documentary": ("docs", "documentaries"), "comedy": ("something funny", "comedies"),
    "horror": ("something scary", "scary movies"), "romance": ("romantic", "rom-com"),
    "kilometers": ("km", "kilometres"), "kilograms": ("kg", "kilos"), "grams": ("g", "grammes"),
    "liters": ("litres", "L"), "milliliters": ("ml", "millilitres"), "teaspoons": ("tsp",),
    "tablespoons": ("tbsp",), "ounces": ("oz",), "pounds": ("lbs", "lb"), "feet": ("ft",),
    "meters": ("metres", "m"), "miles": ("mi",), "gallons": ("gal",), "cups": ("cup",),
    "docx": ("Word doc", "Word document"), "xlsx": ("Excel", "spreadsheet"), "txt": ("plain text", "text file"),
    "markdown": ("md",), "html": ("a web page",), "pdf": ("PDF file", "a pdf"),
    "newest": ("most recent", "latest"), "price_low": ("cheapest first", "lowest price"),
    "price_high": ("most expensive first", "highest price"), "relevance": ("best match", "most relevant"),
    "rating": ("top rated", "best reviewed"), "vacation": ("holiday", "PTO", "time off"),
    "sick": ("sick leave", "sick day"), "personal": ("personal day",), "spam": ("junk",),
    "misinformation": ("fake news", "false information"), "harassment": ("bullying",),
    "window": ("window seat",), "aisle": ("aisle seat",), "middle": ("middle seat",),
    "premium": ("premium tier",), "luxury": ("fancy", "high-end"), "compact": ("small car",),
    "suv": ("an SUV", "sport utility"), "van": ("minivan",), "economy": ("the cheap seats",),
    "warm_white": ("warm", "soft white"), "cool_white": ("cool", "daylight"),
    "front_door": ("front entrance", "main door"), "back_door": ("back entrance", "rear door"),
    "garage_door": ("garage",), "patio_door": ("patio",), "living_room": ("lounge", "family room"),
    "only_me": ("just me", "private"), "friends": ("my friends", "friends only"), "public": ("everyone",),
    "all": ("everything", "all of them"), "heat": ("heating",), "cool": ("cooling", "AC"),
    "eco": ("energy saving", "economy"), "auto": ("automatic",), "away": ("away from home",),
    "stay": ("home", "at home"), "night": ("night-time",), "beginner": ("novice", "easy"),
    "intermediate": ("mid-level",), "advanced": ("expert", "hard"), "easy": ("simple",), "hard": ("difficult",),
    "sev1": ("severity one", "sev 1", "highest severity"), "sev2": ("severity two", "sev 2"),
    "sev3": ("severity three", "sev 3"), "sev4": ("severity four", "sev 4"),
    "damaged": ("broken", "arrived damaged"), "wrong_item": ("the wrong item", "wrong product"),
    "too_small": ("too small",), "too_large": ("too big",), "lost": ("missing",), "stolen": ("was stolen",),
    "english": ("EN",), "spanish": ("ES", "Español"), "french": ("FR", "Français"), "german": ("DE", "Deutsch"),
    "call": ("a phone call", "phone"), "email": ("e-mail", "mail"), "sms": ("text", "text message"),
    "video": ("a video",), "image": ("a picture", "a photo"), "song": ("track",), "album": ("record", "LP"),
}

# members whose aliases already say "priority" or need it ("at important priority" reads badly)
PRIORITIES = frozenset(("urgent", "high", "low", "medium", "normal"))

# -- typos --------------------------------------------------------------------------------------
MISSPELL: dict[str, tuple[str, ...]] = {
    "please": ("plese", "pleas", "plz"), "the": ("teh", "th"), "you": ("yuo", "yu"), "could": ("coud", "cud"),
    "message": ("mesage", "messgae"), "schedule": ("schedual", "shedule"), "calendar": ("calender", "calandar"),
    "appointment": ("apointment", "appointmnet"), "restaurant": ("restaraunt", "resturant"),
    "weather": ("wether", "weahter"), "thermostat": ("thermostate", "thermastat"), "reminder": ("remider",),
    "receipt": ("reciept",), "address": ("adress",), "tomorrow": ("tomorow", "tmrw"), "tonight": ("tonite",),
    "because": ("cuz", "bc"), "thanks": ("thnks", "thx"), "favorite": ("favourite", "fav"),
    "playlist": ("play list", "playlst"), "volume": ("volum",), "temperature": ("temprature", "temp"),
    "delete": ("delet",), "account": ("acount",), "payment": ("paymnet",), "subscription": ("subscripton",),
    "notification": ("notifcation",), "available": ("availble",), "definitely": ("definately",),
    "separate": ("seperate",), "necessary": ("neccessary",), "something": ("somethin", "smth"),
}
KEYBOARD = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def gerund(clause: str) -> str | None:
    """"turn on the lights" -> "turning on the lights"; None when the first word is not a plain verb."""
    first, sep, rest = clause.partition(" ")
    if not first.isalpha() or not first.islower() or first in ("what", "how", "is", "are", "i", "my", "it"):
        return None
    g = wordnet.inflect(first, "ing", "v")
    return None if g is None else g + sep + rest


def need_form(clause: str) -> tuple[str, bool] | None:
    """The clause without its action verb and whether the object is indefinite ("a table for two"),
    or None when the clause does not start with a need-like verb and an object."""
    first, _, rest = clause.partition(" ")
    if first.lower() not in NEED_VERBS:
        return None
    for p in ("me ", "up ", "out "):
        if rest.startswith(p):
            rest = rest[len(p):]
    if rest.startswith(_INDEF_START):
        return rest, True
    if rest.startswith(_DEF_START):
        return rest, False
    return None


_TOPIC_DETS = ("the", "my", "our", "this", "that", "these", "those", "all")
_NP_END = frozenset("""to for in on at by with from into about as and or but then so than via per after before
    until while if when which who named called titled saying that""".split())
_PARTICLES = frozenset("up down on off out in over back away".split())


def topicalize(clause: str) -> tuple[str, str] | None:
    """("the kitchen lights", "turn them on") from "turn on the kitchen lights": the object said
    first, the action on a pronoun; None when the clause is not verb [particle] + a definite object."""
    words = clause.split(" ")
    if len(words) < 3 or not words[0].isalpha() or not words[0].islower():
        return None
    if words[0] in ("what", "how", "is", "are", "i", "my", "it", "who", "where", "when", "do", "does"):
        return None
    i = 1
    particle = ""
    if words[1] in _PARTICLES:
        particle, i = words[1], 2
    if i >= len(words) or words[i] not in _TOPIC_DETS:
        return None
    j = i + 1
    while j < len(words) and words[j].lower() not in _NP_END and words[j][-1:] not in ",.;:!?":
        j += 1
    np = words[i:j]
    head = np[-1]
    if len(np) < 2 or "\x01" in head and len(np) == 2 or not re.fullmatch(r"[a-z\x01\x02\d-]+", head):
        return None
    plural = np[0] in ("these", "those", "all") or (head.endswith("s") and not head.endswith("ss") and head.isalpha())
    pron = "them" if plural else "it"
    rest = " ".join(words[j:])
    action = f"{words[0]} {pron}" + (f" {particle}" if particle else "") + (f" {rest}" if rest else "")
    return " ".join(np), action


def say_number(r: random.Random, n: int | float) -> str:
    """Another way to say an in-range number that grounding still reads: "1,250", "twelve hundred"
    style words up to a million, "a dozen"; digits otherwise."""
    if isinstance(n, float) and not float(n).is_integer():
        if abs(n) >= 1000 and r.random() < 0.5:
            whole, frac = repr(float(n)).split(".")
            return f"{int(whole):,}.{frac}"
        return repr(float(n))
    n = int(n)
    k = r.random()
    if abs(n) >= 1000:
        if k < 0.45:
            return f"{n:,}"
        if k < 0.6 and 0 < n < 1_000_000 and (n % 100 == 0 or n < 10_000):
            return spell_number(n)
        return str(n)
    if n == 12 and k < 0.2:
        return "a dozen"
    if 0 <= n < 1000 and k < 0.3:
        return spell_number(n)
    return str(n)


def casualise(r: random.Random, text: str) -> str:
    """Chat-style spelling on a template: u, pls, thx, wanna, gonna, no final punctuation."""
    subs = ((r"\byou\b(?!')", "u"), (r"\bplease\b", "pls"), (r"\bthanks\b", "thx"), (r"\bwant to\b", "wanna"),
            (r"\bgoing to\b", "gonna"), (r"\bI'm\b", "im"), (r"\bdon't\b", "dont"), (r"\bare\b", "r"),
            (r"\bbecause\b", "cuz"), (r"\bokay\b", "ok"))
    for pat, rep in subs:
        if r.random() < 0.6:
            text = re.sub(pat, rep, text, flags=re.IGNORECASE)
    if r.random() < 0.6:
        text = text.lower()
    return text.rstrip(".!") if r.random() < 0.7 else text


def tersify(text: str) -> str:
    """Drop articles and politeness: "set the thermostat to 70" -> "set thermostat to 70"."""
    text = re.sub(r"\b(?:the|a|an|please|kindly)\s+", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", text).strip()


def typos(r: random.Random, text: str) -> str:
    """One or two typos in template words: common misspellings, keyboard slips, swaps, drops."""
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if w.isalpha() and (len(w) >= 4 or w.lower() in MISSPELL)]
    for i in r.sample(idx, min(len(idx), r.randint(1, 2))):
        w = words[i]
        low = w.lower()
        k = r.random()
        if low in MISSPELL and k < 0.6:
            words[i] = r.choice(MISSPELL[low])
            continue
        if len(w) < 3:
            continue
        j = r.randrange(1, len(w) - 1)
        c = w[j].lower()
        if k < 0.75 and c in KEYBOARD:
            words[i] = w[:j] + r.choice(KEYBOARD[c]) + w[j + 1:]
        elif k < 0.85:
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
        elif k < 0.95:
            words[i] = w[:j] + w[j + 1:]
        else:
            words[i] = w[:j] + w[j] + w[j:]
    return " ".join(words)
