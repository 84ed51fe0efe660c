"""A synthetic ATIS-style corpus of flight requests for slot filling, deterministic under a seed.

ATIS (the Air Travel Information System corpus) is the classic slot-filling benchmark, but it is
licensed and cannot ship with tinyseq. This module writes utterances in its style instead, with
its slot names and BIO tags:

    show me morning flights from the city of salt lake city to denver on friday
    O    O  B-depart_time.period_of_day O O O O O B-fromloc.city_name I-fromloc.city_name
    I-fromloc.city_name O B-toloc.city_name O B-depart_date.day_name

Utterances come from five sentence frames (requests, "i want to ..." clauses, questions, fare
questions, flight-number requests) filled with phrases, paraphrased verbs and a few hundred cities,
many of them several words long. As in ATIS, a date or time is a departure unless a verb says
otherwise. Some slots can only be told apart from context a few words away:

    i want to arrive in taipei on november second    -> toloc.city_name, arrive_date.*
    i want to leave taipei on november second        -> fromloc.city_name, depart_date.*
    flights to the city of san francisco             -> toloc ("to" is four words before "francisco")

A window of two words either side cannot tag those; a recurrent tagger can (see contrast_pairs()).

The splits test generalisation, not memory. Each utterance has a template: its frame and the
ordered kinds of phrase it is built from ("request | premod:period | from:plain | to:arrive+date").
Templates are hashed (with the seed) into train, valid and test, so no test utterance shares its
template with a training one; and some slot combinations (the set of slot types an utterance uses)
are held out, so that they occur in test and never in train or valid. Every phrase kind and every
slot type is still seen in training, in other combinations.

    corpus = make_flights_corpus(seed=0)     # a SlotCorpus of SlotExample(tokens, tags, intent)
    write_flights_corpus("data/flights")     # the same, as train/valid/test/seq.in, seq.out, label
"""

import random
import zlib

from .atis_format import SlotCorpus, SlotExample, write_slot_folder

# ----------------------------------------------------------------------------------------------
# Slot values

CITIES = tuple(
    """
    atlanta | austin | baltimore | boston | burbank | charlotte | chicago | cincinnati | cleveland |
    columbus | dallas | dallas fort worth | denver | detroit | fort worth | houston | indianapolis |
    kansas city | las vegas | long beach | los angeles | memphis | miami | milwaukee | minneapolis |
    nashville | newark | new york | oakland | oklahoma city | ontario | orlando | philadelphia |
    phoenix | pittsburgh | portland | salt lake city | san diego | san francisco | san jose |
    seattle | st. louis | st. paul | st. petersburg | tampa | tacoma | washington | san antonio |
    new orleans | el paso | albuquerque | anchorage | honolulu | baton rouge | birmingham | boise |
    buffalo | cedar rapids | charleston | colorado springs | corpus christi | des moines |
    fort lauderdale | fort myers | fresno | grand rapids | green bay | hartford | jacksonville |
    knoxville | lexington | little rock | louisville | madison | omaha | palm springs | providence |
    raleigh | reno | richmond | rochester | sacramento | santa barbara | santa fe | savannah |
    spokane | syracuse | tucson | tulsa | virginia beach | wichita | west palm beach | ann arbor |
    atlantic city | jersey city | sioux falls | rapid city | lake charles | myrtle beach |
    daytona beach | key west | san juan | san luis obispo | santa ana | santa rosa | juneau |
    fairbanks | kona | hilo | burlington | bangor | new haven | albany | white plains |
    newport news | norfolk | greensboro | winston salem | asheville | columbia | augusta |
    montgomery | mobile | pensacola | tallahassee | gainesville | sarasota | fort wayne |
    south bend | dayton | akron | toledo | lansing | flint | kalamazoo | peoria | springfield |
    duluth | fargo | bismarck | billings | missoula | great falls | cheyenne | twin falls | eugene |
    medford | bellingham | yakima | walla walla | amarillo | lubbock | midland | laredo |
    brownsville | waco | college station | shreveport | jackson | gulfport | chattanooga |
    las cruces | flagstaff | yuma | bakersfield | modesto | monterey | san bernardino | lincoln |
    sioux city | iowa city | traverse city | cape girardeau | bowling green |
    taipei | kaohsiung | tokyo | osaka | sapporo | seoul | busan | beijing |
    shanghai | guangzhou | shenzhen | hong kong | macau | singapore | bangkok | chiang mai |
    kuala lumpur | manila | cebu | jakarta | bali | ho chi minh city | hanoi | da nang | phnom penh |
    yangon | new delhi | mumbai | bangalore | chennai | kolkata | colombo | kathmandu | dhaka |
    karachi | lahore | dubai | abu dhabi | doha | muscat | riyadh | jeddah | kuwait city |
    istanbul | ankara | tel aviv | amman | beirut | cairo | casablanca | marrakesh | tunis |
    cape town | johannesburg | durban | nairobi | addis ababa | lagos | accra | dakar | kigali |
    dar es salaam | london | manchester | glasgow | edinburgh | dublin | paris | nice | lyon |
    marseille | frankfurt | munich | berlin | hamburg | amsterdam | brussels | zurich | geneva |
    vienna | rome | milan | venice | naples | madrid | barcelona | seville | lisbon | porto |
    athens | prague | warsaw | krakow | budapest | bucharest | copenhagen | stockholm | oslo |
    helsinki | reykjavik | moscow | kiev | sydney | melbourne | brisbane | perth | adelaide |
    auckland | wellington | christchurch | vancouver | calgary | edmonton | winnipeg | ottawa |
    montreal | toronto | quebec city | halifax | mexico city | cancun | guadalajara | monterrey |
    puerto vallarta | panama city | guatemala city | san salvador | managua | havana |
    santo domingo | port of spain | kingston | nassau | bogota | medellin | lima | quito | la paz |
    santiago | buenos aires | montevideo | rio de janeiro | sao paulo | caracas | las palmas
    """.replace("\n", " ").split("|")
)
CITIES = tuple(city.strip() for city in CITIES)

AIRLINES = (
    "american", "american airlines", "delta", "delta airlines", "united", "united airlines",
    "us air", "continental", "northwest", "alaska airlines", "southwest", "jetblue",
    "hawaiian airlines", "frontier", "midwest express", "air canada", "aeromexico", "lufthansa",
    "air france", "british airways", "klm", "iberia", "china airlines", "eva air",
    "cathay pacific", "japan airlines", "korean air", "singapore airlines", "qantas", "emirates",
)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
             "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth").split()
DAY_NUMBERS = (*_ORDINALS, "twentieth", *(f"twenty {ordinal}" for ordinal in _ORDINALS[:9]),
               "thirtieth", "thirty first")
TIMES = (*(f"{hour}{minutes} {half}" for hour in range(1, 13) for minutes in ("", "15", "30", "45")
           for half in ("am", "pm")), "noon", "midnight")

# The values of each leaf slot, by the last part of its name: "toloc.city_name" -> CITIES.
VALUES = {
    "city_name": CITIES,
    "day_name": DAYS,
    "month_name": MONTHS,
    "day_number": DAY_NUMBERS,
    "date_relative": ("next", "this"),
    "today_relative": ("today", "tomorrow"),
    "time": TIMES,
    "time_relative": ("before", "after", "around"),
    "period_of_day": ("morning", "afternoon", "evening"),
    "airline_name": AIRLINES,
    "flight_number": tuple(str(number) for number in range(10, 1000, 7)),
    "class_type": ("first class", "business class", "business", "economy", "economy class", "coach"),
    "round_trip": ("round trip", "one way"),
    "cost_relative": ("cheapest", "least expensive", "lowest"),
    "flight_stop": ("nonstop", "direct"),
    "meal_description": ("breakfast", "lunch", "dinner", "snacks"),
}

# ----------------------------------------------------------------------------------------------
# Dates and times: a placeholder such as {arrive_date} becomes one of these, with ROLE = arrive_date.

DATE_FORMS = (
    "on {ROLE.day_name}",
    "on {ROLE.month_name} {ROLE.day_number}",
    "on {ROLE.day_name} {ROLE.month_name} {ROLE.day_number}",
    "on the {ROLE.day_number} of {ROLE.month_name}",
    "{ROLE.month_name} {ROLE.day_number}",
    "{ROLE.date_relative} {ROLE.day_name}",
    "{ROLE.today_relative}",
)
TIME_FORMS = (
    "at {ROLE.time}",
    "{ROLE.time_relative} {ROLE.time}",
    "in the {ROLE.period_of_day}",
)
COMPOSITE_SLOTS = {
    "depart_date": DATE_FORMS, "arrive_date": DATE_FORMS, "return_date": DATE_FORMS,
    "depart_time": TIME_FORMS, "arrive_time": TIME_FORMS,
}

# ----------------------------------------------------------------------------------------------
# Verbs, by the event they name and the form a frame needs:
#   base: "i want to leave ...", "what flights leave ..."
#   ing:  "flights leaving ..."
#   rel:  "flights that leave ..."
# With a city ("leave boston") or without one ("leave on monday").

VERBS_WITH_CITY = {
    "depart": {
        "base": ("leave", "depart from", "fly out of", "leave from"),
        "ing": ("leaving", "departing from", "flying out of", "leaving from"),
        "rel": ("that leave", "that depart from", "which leave", "that fly out of"),
    },
    # No "fly into": "fly" + "into denver" is also how a plain trip reads ("i want to fly into
    # denver from boston on monday"), where ATIS calls the date a departure.
    "arrive": {
        "base": ("arrive in", "get into", "land in", "arrive at", "get to"),
        "ing": ("arriving in", "getting into", "landing in", "arriving at", "getting to"),
        "rel": ("that arrive in", "that land in", "which get into", "that get to"),
    },
}
VERBS_WITHOUT_CITY = {
    "depart": {"base": ("leave", "depart"), "ing": ("leaving", "departing"),
               "rel": ("that leave", "that depart")},
    "arrive": {"base": ("arrive", "get in", "land"), "ing": ("arriving", "getting in", "landing"),
               "rel": ("that arrive", "that get in", "that land")},
    "return": {"base": ("return", "come back", "fly back"),
               "ing": ("returning", "coming back", "flying back"),
               "rel": ("returning", "coming back", "flying back")},
}
# Plain prepositional phrases; the "the city of" forms put the cue word far from the city.
FROM_PHRASES = ("from {fromloc.city_name}", "from the city of {fromloc.city_name}",
                "out of {fromloc.city_name}", "from downtown {fromloc.city_name}",
                "out of the {fromloc.city_name} area")
TO_PHRASES = ("to {toloc.city_name}", "to the city of {toloc.city_name}", "into {toloc.city_name}",
              "to downtown {toloc.city_name}", "into the {toloc.city_name} area")
STOP_PHRASES = ("with a stop in {stoploc.city_name}", "stopping in {stoploc.city_name}",
                "via {stoploc.city_name}", "connecting in {stoploc.city_name}")
AIRLINE_PHRASES = ("on {airline_name}", "with {airline_name}", "flying {airline_name}")
CLASS_PHRASES = ("in {class_type}",)
MEAL_PHRASES = ("that serve {meal_description}", "with {meal_description}")
EVENT_ROLES = {"depart": ("fromloc", "depart"), "arrive": ("toloc", "arrive")}

REQUEST_OPENINGS = (
    "show me", "show me the", "show me all", "list", "list all", "list the", "give me", "give me the",
    "what are the", "which are the", "i want", "i would like", "i need", "i'm looking for",
    "find me", "please list", "can you show me", "do you have any", "are there any",
    "i need information on", "tell me about", "get me", "what",
)
WANT_OPENINGS = ("i want to", "i would like to", "i need to", "i'd like to", "we want to", "we need to",
                 "i have to", "i plan to", "my wife needs to", "i'm trying to")
QUESTION_OPENINGS = ("what flights", "which flights", "are there any flights that",
                     "show me flights that", "list flights that", "do any flights")
FLY_VERBS = ("fly", "travel", "go", "get a flight", "book a flight")


class _Piece:
    """A phrase before its slots are filled: its pattern, its kind (for the template) and the event
    its verb names ("depart", "arrive", "return", or "" for no verb)."""

    def __init__(self, pattern, kind, event=""):
        self.pattern, self.kind, self.event = pattern, kind, event


# ----------------------------------------------------------------------------------------------
# Phrase builders


def _event_clause(rng, event, form, date_probability=0.5, time_probability=0.3):
    """A verb with its city and maybe its own date and time: "arriving in {toloc.city_name} {arrive_date}"."""
    location, role = EVENT_ROLES[event]
    parts = [rng.choice(VERBS_WITH_CITY[event][form]), f"{{{location}.city_name}}"]
    kind = f"{location}:{event}"
    if rng.random() < date_probability:
        parts.append(f"{{{role}_date}}")
        kind += "+date"
    if rng.random() < time_probability:
        parts.append(f"{{{role}_time}}")
        kind += "+time"
    return _Piece(" ".join(parts), kind, event)


def _from_and_to(rng):
    """A plain "from X" phrase and a plain "to Y" phrase, in that order."""
    return [_Piece(rng.choice(FROM_PHRASES), "from:plain"), _Piece(rng.choice(TO_PHRASES), "to:plain")]


def _event_without_city(rng, event, form, what):
    """A verb with only a date or time: "arriving {arrive_date}", "coming back {return_date}"."""
    verb = rng.choice(VERBS_WITHOUT_CITY[event][form])
    return _Piece(f"{verb} {{{event}_{what}}}", f"{event}:{what}", event)


def _order_modifiers(rng, pieces):
    """Shuffle post-modifiers, but keep every verb-less date and time (a departure, by ATIS'
    convention) before any arrival phrase, where a reader would attach it to the arrival instead;
    and put return phrases last."""
    verbless = [piece for piece in pieces if piece.kind in ("depart_date", "depart_time")]
    returns = [piece for piece in pieces if piece.event == "return"]
    others = [piece for piece in pieces if piece not in verbless and piece not in returns]
    rng.shuffle(others)
    arrivals = [index for index, piece in enumerate(others) if piece.event == "arrive"]
    first_arrival = arrivals[0] if arrivals else len(others)
    ordered = others[:first_arrival]
    for piece in verbless:  # each goes to a random place among the phrases before the first arrival
        ordered.insert(rng.randint(0, len(ordered)), piece)
    return ordered + others[first_arrival:] + returns


def _request(rng):
    """show me [the cheapest morning] flights from X to Y on DATE ..."""
    premods = []
    for slot, probability in (("cost_relative", 0.12), ("depart_time.period_of_day", 0.12),
                              ("flight_stop", 0.1), ("round_trip", 0.1), ("airline_name", 0.12),
                              ("class_type", 0.08)):
        if len(premods) < 2 and rng.random() < probability:
            premods.append(slot)
    noun = rng.choice(("flights", "flights", "flight", "fares", "tickets", "airfare"))
    form = rng.choice(("ing", "rel"))
    # One departure time per utterance: "morning flights" already gives it.
    period_premod = "depart_time.period_of_day" in premods
    modifiers = []
    depart_clause = arrive_clause = False
    if rng.random() < 0.9:
        depart_clause = rng.random() < 0.35
        modifiers.append(_event_clause(rng, "depart", form, time_probability=0.0 if period_premod else 0.3)
                         if depart_clause
                         else _Piece(rng.choice(FROM_PHRASES), "from:plain"))
    if rng.random() < 0.9:
        arrive_clause = rng.random() < 0.35
        modifiers.append(_event_clause(rng, "arrive", form) if arrive_clause
                         else _Piece(rng.choice(TO_PHRASES), "to:plain"))
    if not depart_clause:
        date_choice = rng.random()
        if date_choice < 0.4:
            modifiers.append(_Piece("{depart_date}", "depart_date"))
        elif date_choice < 0.5:
            modifiers.append(_event_without_city(rng, "depart", form, "date"))
        if not period_premod and rng.random() < 0.3:
            modifiers.append(_Piece("{depart_time}", "depart_time"))
    if not arrive_clause and rng.random() < 0.2:
        modifiers.append(_event_without_city(rng, "arrive", form, rng.choice(("date", "time"))))
    if rng.random() < (0.5 if "round_trip" in premods else 0.08):
        modifiers.append(_event_without_city(rng, "return", "ing", "date"))
    for slot, phrases, probability in (("stoploc", STOP_PHRASES, 0.12),
                                       ("airline_name", AIRLINE_PHRASES, 0.12),
                                       ("class_type", CLASS_PHRASES, 0.1),
                                       ("meal", MEAL_PHRASES, 0.07)):
        if slot not in premods and rng.random() < probability:
            modifiers.append(_Piece(rng.choice(phrases), slot))
    pieces = [_Piece(rng.choice(REQUEST_OPENINGS), "")]
    pieces += [_Piece(f"{{{slot}}}", f"premod:{slot}") for slot in premods]
    pieces.append(_Piece(noun, ""))
    pieces += _order_modifiers(rng, modifiers)
    intent = "atis_airfare" if noun in ("fares", "tickets", "airfare") else "atis_flight"
    return "request", pieces, intent


def _want(rng):
    """i want to leave X on DATE and arrive in Y at TIME ..."""
    pieces = [_Piece(rng.choice(WANT_OPENINGS), "")]
    plan = rng.choice(("fly", "fly", "depart", "arrive", "depart arrive", "depart arrive", "arrive depart"))
    for index, event in enumerate(plan.split()):
        if index:
            pieces.append(_Piece("and", ""))
        if event == "fly":
            places = _from_and_to(rng)
            rng.shuffle(places)
            pieces.append(_Piece(rng.choice(FLY_VERBS), ""))
            pieces += places
            if rng.random() < 0.6:
                pieces.append(_Piece("{depart_date}", "depart_date"))
            if rng.random() < 0.3:
                pieces.append(_Piece("{depart_time}", "depart_time"))
        else:
            pieces.append(_event_clause(rng, event, "base", date_probability=0.65, time_probability=0.35))
    if rng.random() < 0.12:
        pieces += [_Piece("and", ""), _event_without_city(rng, "return", "base", "date")]
    for slot, phrases, probability in (("airline_name", AIRLINE_PHRASES, 0.1),
                                       ("class_type", CLASS_PHRASES, 0.08)):
        if rng.random() < probability:
            pieces.append(_Piece(rng.choice(phrases), slot))
    return "want", pieces, "atis_flight"


def _question(rng):
    """what flights leave X on DATE and arrive in Y ..."""
    pieces = [_Piece(rng.choice(QUESTION_OPENINGS), "")]
    plan = rng.choice(("fly", "depart", "arrive", "depart arrive", "depart arrive", "arrive depart"))
    for index, event in enumerate(plan.split()):
        if index:
            pieces.append(_Piece("and", ""))
        if event == "fly":
            pieces += [_Piece(rng.choice(("go", "fly")), ""), *_from_and_to(rng)]
            if rng.random() < 0.6:
                pieces.append(_Piece("{depart_date}", "depart_date"))
        else:
            pieces.append(_event_clause(rng, event, "base", date_probability=0.6, time_probability=0.35))
    if rng.random() < 0.1:
        pieces.append(_Piece(rng.choice(STOP_PHRASES), "stoploc"))
    return "question", pieces, "atis_flight"


def _fare(rng):
    """how much is a first class ticket from X to Y / what is the cheapest fare from X to Y"""
    if rng.random() < 0.5:
        pieces = [_Piece(rng.choice(("how much is a", "how much does a", "what does a")), ""),
                  _Piece("{class_type}", "premod:class_type"), _Piece(rng.choice(("ticket", "seat")), "")]
    else:
        pieces = [_Piece(rng.choice(("what is the", "give me the", "find the")), ""),
                  _Piece("{cost_relative}", "premod:cost_relative"),
                  _Piece(rng.choice(("fare", "airfare", "price")), "")]
    pieces += _from_and_to(rng)
    if rng.random() < 0.4:
        pieces.append(_Piece("{depart_date}", "depart_date"))
    if rng.random() < 0.3:
        pieces.append(_Piece("{round_trip}", "round_trip"))
    return "fare", pieces, "atis_airfare"


def _flight_number(rng):
    """show me delta flight 296 from X to Y / when does delta flight 296 leave X"""
    if rng.random() < 0.5:
        pieces = [_Piece(rng.choice(("show me", "i need", "give me information on", "what about")), ""),
                  _Piece("{airline_name} flight {flight_number}", "flight_number"), *_from_and_to(rng)]
        if rng.random() < 0.5:
            pieces.append(_Piece("{depart_date}", "depart_date"))
        return "flight_number", pieces, "atis_flight"
    event = rng.choice(("depart", "arrive"))
    pieces = [_Piece("when does", ""), _Piece("{airline_name} flight {flight_number}", "flight_number"),
              _event_clause(rng, event, "base", date_probability=0.5, time_probability=0.0)]
    return "flight_time", pieces, "atis_flight_time"


FRAMES = ((_request, 0.44), (_want, 0.2), (_question, 0.2), (_fare, 0.08), (_flight_number, 0.08))


# ----------------------------------------------------------------------------------------------
# From pieces to tagged tokens


def _slot_name_leaf(slot):
    return slot.rsplit(".", 1)[-1]


def _render(pattern, rng, tokens, tags):
    """Append the tokens and BIO tags of pattern, filling each {slot} with a value (recursively
    for dates and times)."""
    for word in pattern.split():
        if not (word.startswith("{") and word.endswith("}")):
            tokens.append(word)
            tags.append("O")
            continue
        slot = word[1:-1]
        if slot in COMPOSITE_SLOTS:
            _render(rng.choice(COMPOSITE_SLOTS[slot]).replace("ROLE", slot), rng, tokens, tags)
            continue
        value = rng.choice(VALUES[_slot_name_leaf(slot)]).split()
        tokens += value
        tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(value) - 1)


def _utterance(rng):
    """One random utterance as (SlotExample, template)."""
    functions, weights = zip(*FRAMES)
    frame, pieces, intent = rng.choices(functions, weights)[0](rng)
    tokens, tags = [], []
    for piece in pieces:
        _render(piece.pattern, rng, tokens, tags)
    template = " | ".join([frame] + [piece.kind for piece in pieces if piece.kind])
    return SlotExample(tuple(tokens), tuple(tags), intent), template


def slot_combination(example):
    """The set of slot types an example uses, e.g. {"fromloc.city_name", "toloc.city_name"}."""
    return frozenset(tag[2:] for tag in example.tags if tag != "O")


def _unit_hash(seed, kind, key):
    """A deterministic number in [0, 1) for key (Python's hash() changes between runs)."""
    return zlib.crc32(f"{seed}|{kind}|{key}".encode()) / 2**32


MIN_TEMPLATE_SHARE = 0.05
"""The smallest fraction of templates any split gets, however small it is next to the others."""


def make_flights_corpus(n_train=4000, n_valid=500, n_test=800, seed=0, heldout_combinations=0.15,
                        return_templates=False):
    """Generate the synthetic flight corpus: a SlotCorpus of SlotExample(tokens, tags, intent).

    n_train, n_valid, n_test: utterances per split (each >= 1).
    seed: the same seed gives the same corpus, in any process.
    heldout_combinations: the fraction of slot combinations with four or more slot types that only
        the test split may use.
    Templates are split between train, valid and test in proportion to the split sizes (each split
    gets at least MIN_TEMPLATE_SHARE of them), so the three splits share no template; train and valid examples whose slot combination is held out
    are dropped (the test split keeps its own).
    return_templates: also return a SlotCorpus of the examples' template strings, for inspection.
    Always returns or raises: RuntimeError if a split cannot be filled within 200 * total + 100000
    utterances (no seed is known to do that).
    """
    for name, value in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if isinstance(heldout_combinations, bool) or not isinstance(heldout_combinations, (int, float)):
        raise TypeError(f"heldout_combinations must be a number in [0, 1), got {heldout_combinations!r}")
    if not 0.0 <= heldout_combinations < 1.0:
        raise ValueError(f"heldout_combinations must be in [0, 1), got {heldout_combinations!r}")
    rng = random.Random(seed)
    wanted = {"train": n_train, "valid": n_valid, "test": n_test}
    total = n_train + n_valid + n_test
    # Each split's share of the template hashes follows its size, but is at least MIN_TEMPLATE_SHARE:
    # with n_valid = 1 next to n_train = 100000, a share of 1 / 100002 would hold no template at
    # all and the loop below would wait forever for a valid utterance.
    shares = {split: max(count / total, MIN_TEMPLATE_SHARE) for split, count in wanted.items()}
    valid_end = shares["valid"] / sum(shares.values())
    test_end = valid_end + shares["test"] / sum(shares.values())
    splits = {"train": [], "valid": [], "test": []}
    templates = {"train": [], "valid": [], "test": []}
    # A bound on the draws, so that no argument can make this loop run forever: with every share at
    # least 5%, filling a split takes about 20 draws per utterance, far below this.
    max_draws = 200 * total + 100_000
    draws = 0
    while any(len(splits[split]) < wanted[split] for split in splits):
        draws += 1
        if draws > max_draws:
            short = [f"{split} has {len(splits[split])} of {wanted[split]}" for split in splits
                     if len(splits[split]) < wanted[split]]
            raise RuntimeError(
                f"make_flights_corpus: gave up after {max_draws} utterances: {', '.join(short)} "
                f"(too few templates hash into that split for seed={seed!r}); try another seed or sizes"
            )
        example, template = _utterance(rng)
        position = _unit_hash(seed, "template", template)
        if position < valid_end:
            split = "valid"
        elif position < test_end:
            split = "test"
        else:
            split = "train"
        combination = slot_combination(example)
        heldout = (len(combination) >= 4
                   and _unit_hash(seed, "combination", sorted(combination)) < heldout_combinations)
        if heldout and split != "test":
            continue
        if len(splits[split]) < wanted[split]:
            splits[split].append(example)
            templates[split].append(template)
    corpus = SlotCorpus(splits["train"], splits["valid"], splits["test"])
    if return_templates:
        return corpus, SlotCorpus(templates["train"], templates["valid"], templates["test"])
    return corpus


def write_flights_corpus(root, n_train=4000, n_valid=500, n_test=800, seed=0, heldout_combinations=0.15):
    """Generate the corpus and write it in the ATIS folder layout under root (see atis_format).

    Returns Path(root); tinyseq.datasets.read_slot_folder(root) reads it back.
    """
    corpus = make_flights_corpus(n_train, n_valid, n_test, seed, heldout_combinations)
    return write_slot_folder(corpus, root)


# ----------------------------------------------------------------------------------------------
# Contrast pairs: the same words around a slot, different tags, decided by a word further away.


def _annotated(text):
    """"fly to [new york:toloc.city_name]" -> SlotExample with BIO tags for the bracketed spans."""
    tokens, tags = [], []
    for part in text.replace("[", "|[").replace("]", "]|").split("|"):
        if part.startswith("["):
            words, slot = part[1:-1].rsplit(":", 1)
            words = words.split()
            tokens += words
            tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(words) - 1)
        else:
            tokens += part.split()
            tags += ["O"] * len(part.split())
    return SlotExample(tuple(tokens), tuple(tags), "atis_flight")


_CONTRAST_TEXTS = (
    ("i want to arrive in [taipei:toloc.city_name] on [november:arrive_date.month_name] "
     "[second:arrive_date.day_number]",
     "i want to leave [taipei:fromloc.city_name] on [november:depart_date.month_name] "
     "[second:depart_date.day_number]"),
    ("show me flights to the city of [san francisco:toloc.city_name] on [friday:depart_date.day_name]",
     "show me flights from the city of [san francisco:fromloc.city_name] on [friday:depart_date.day_name]"),
    ("which flights arrive in [salt lake city:toloc.city_name] on the [twenty first:arrive_date.day_number] "
     "of [march:arrive_date.month_name]",
     "which flights leave [salt lake city:fromloc.city_name] on the [twenty first:depart_date.day_number] "
     "of [march:depart_date.month_name]"),
    ("i need to get into [los angeles:toloc.city_name] in the [evening:arrive_time.period_of_day]",
     "i need to leave [los angeles:fromloc.city_name] in the [evening:depart_time.period_of_day]"),
)


def contrast_pairs():
    """Pairs of utterances whose tags differ where a two-word window either side looks the same.

    Returns a list of (SlotExample, SlotExample). In each pair the words next to the date, time or
    city are identical; only a verb or preposition further away ("arrive in" / "leave", "to the
    city of" / "from the city of") decides between arrive_ and depart_, toloc and fromloc. Every
    phrase they use is one the generator produces, so a tagger trained on the corpus has seen the
    pattern.
    """
    return [(_annotated(first), _annotated(second)) for first, second in _CONTRAST_TEXTS]


