"""Value pools for synthetic queries: people, places, products, songs, ... combined combinatorially.

Each pool is a function `rng -> str`; most combine two or three word lists so the number of
distinct values is in the thousands or more, which keeps a model from memorising argument values
and forces it to copy them from the query instead.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

Pool = Callable[[random.Random], str]


def _w(text: str) -> tuple[str, ...]:
    """A word list written as one whitespace- or comma-separated string (compact to write)."""
    sep = "," if "," in text else None
    return tuple(x.strip() for x in text.split(sep) if x.strip())


FIRST = _w(
    "Alice Bob Carol David Emma Frank Grace Henry Isla Jack Karen Liam Maya Noah Olivia Peter Quinn Rosa"
    " Sam Tara Uma Victor Wendy Xavier Yara Zoe Aaron Beatrice Carlos Diana Elena Felix Gabriel Hannah"
    " Ivan Julia Kenji Laura Marco Nadia Oscar Priya Rahul Sofia Tomas Ursula Valentina William Yusuf"
    " Zara Ahmed Bianca Chen Dmitri Esther Fatima Giulia Hiro Ingrid Jonas Keiko Lucas Mei Nikolai Omar"
    " Paula Ravi Sven Thandiwe Ana Ben Chloe Daniel Eve Finn Hugo Iris Jamal Kofi Leila Mateo Nora Pablo"
    " Rania Sara Theo Wei Amara Bruno Camila Dev Elif Gwen Hamza Ines Joao Kai Lena Miguel Nina Ola"
)
LAST = _w(
    "Smith Johnson Garcia Miller Davis Rodriguez Martinez Lopez Wilson Anderson Thomas Taylor Moore"
    " Jackson Martin Lee Perez Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright"
    " Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter"
    " Roberts Kim Patel Singh Chen Wang Müller Schmidt Rossi Dubois Silva Costa Kowalski Novak Jensen"
    " Okafor Mensah Tanaka Sato Ivanova Haddad Cohen Murphy O'Brien Fischer Moreau Santos Yilmaz Ali"
)
CITY = _w(
    "Paris,London,Tokyo,New York,Berlin,Madrid,Rome,Lisbon,Amsterdam,Vienna,Prague,Dublin,Oslo,Stockholm,"
    "Helsinki,Copenhagen,Warsaw,Budapest,Athens,Istanbul,Cairo,Nairobi,Lagos,Cape Town,Mumbai,Delhi,"
    "Bangalore,Singapore,Bangkok,Hanoi,Seoul,Osaka,Beijing,Shanghai,Hong Kong,Sydney,Melbourne,Auckland,"
    "Toronto,Vancouver,Montreal,Chicago,Boston,Seattle,San Francisco,Los Angeles,Austin,Denver,Miami,"
    "Atlanta,Mexico City,Bogota,Lima,Santiago,Buenos Aires,Sao Paulo,Rio de Janeiro,Reykjavik,Zurich,"
    "Geneva,Munich,Hamburg,Lyon,Marseille,Barcelona,Valencia,Porto,Milan,Naples,Krakow,Dubai,Doha,"
    "Tel Aviv,Marrakesh,Accra,Kyoto,Taipei,Manila,Jakarta,Kuala Lumpur,Perth,Brisbane,Calgary,Portland,"
    "Nashville,New Orleans,Phoenix,Philadelphia,Pittsburgh,Edinburgh,Glasgow,Manchester,Bristol,Antwerp,"
    "Brussels,Bruges,Seville,Florence,Venice,Salzburg,Tallinn,Riga,Vilnius,Ljubljana,Zagreb,Split"
)
COUNTRY = _w(
    "France,Germany,Japan,Brazil,Canada,Kenya,India,Mexico,Spain,Italy,Portugal,Norway,Sweden,Egypt,"
    "Australia,New Zealand,Chile,Peru,Argentina,Vietnam,Thailand,South Korea,Nigeria,Ghana,Morocco,"
    "Ireland,Iceland,Poland,Greece,Turkey,Netherlands,Belgium,Austria,Switzerland,Denmark,Finland"
)
ROOM = _w(
    "living room,kitchen,bedroom,master bedroom,bathroom,office,garage,hallway,dining room,basement,"
    "nursery,guest room,patio,attic,laundry room,kids room,study,porch,den,backyard"
)
DEVICE_KIND = _w("lamp light fan speaker tv heater plug purifier humidifier blinds camera doorbell")
ADJ = _w(
    "Blue Golden Silent Electric Broken Wild Quiet Midnight Neon Crimson Lonely Velvet Hidden Burning"
    " Frozen Distant Paper Silver Little Endless Sweet Bitter Northern Rainy Lucky Hollow Bright Secret"
    " Savage Gentle Restless Sunday Summer Winter Autumn Crystal Wandering Fading Copper Static"
)
NOUN = _w(
    "River Heart Sky Road Dream Fire Garden Ocean Mirror Window Shadow Storm Moon Highway City Light"
    " Letter Echo Horizon Train Harbor Forest Island Engine Anthem Parade Signal Paradise Kingdom"
    " Machine Diary Orchard Circus Lantern Tide Compass Canyon Meadow Satellite"
)
ARTIST_B = _w(
    "Tigers Lights Kids Strangers Wolves Brothers Sisters Collective Orchestra Project Club Engines"
    " Ghosts Pilots Rebels Daughters Machines Foxes Keys Comets"
)
GENRE = _w("jazz,rock,pop,hip hop,classical,lo-fi,techno,house,country,blues,reggae,metal,folk,soul,"
           "funk,ambient,indie,k-pop,latin,punk,r&b,disco,bossa nova,gospel")
BRAND = _w(
    "Acme Nimbus Orion Vertex Zenith Apex Lumen Nova Pioneer Summit Kestrel Atlas Harbor Cobalt Everly"
    " Bramble Quill Tundra Solstice Ember Mosaic Juniper Falcon Riverstone Halcyon"
)
ITEM = _w(
    "wireless earbuds,running shoes,coffee maker,yoga mat,desk lamp,backpack,water bottle,phone case,"
    "mechanical keyboard,office chair,air fryer,electric kettle,winter jacket,sunglasses,blender,"
    "hiking boots,laptop stand,usb-c charger,bluetooth speaker,notebook,throw pillow,rice cooker,"
    "monitor,webcam,gaming mouse,tent,sleeping bag,camera tripod,smart watch,toaster,vacuum cleaner,"
    "bath towels,frying pan,board game,puzzle,desk organizer,wall clock,travel mug,scarf,umbrella"
)
COMPANY_A = _w(
    "Blue Harbor,Northwind,Redwood,Silverline,Greenfield,Brightpath,Ironclad,Clearwater,Summit Peak,"
    "Oakridge,Starlight,Stonebridge,Riverbend,Sunrise,Highland,Evergreen,Cedar,Maple,Granite,Lakeside"
)
COMPANY_B = _w("Labs,Systems,Logistics,Partners,Holdings,Analytics,Foods,Health,Media,Robotics,Energy,"
               "Capital,Studios,Software,Consulting,Motors,Pharma,Networks,Industries,Outfitters")
CUISINE = _w("Italian,Mexican,Thai,Japanese,Indian,Chinese,Korean,Vietnamese,Greek,Lebanese,Ethiopian,"
             "French,Spanish,Turkish,Peruvian,Brazilian,vegan,sushi,pizza,burger,ramen,tapas,seafood")
DISH = _w(
    "margherita pizza,pad thai,chicken tikka masala,veggie burger,caesar salad,beef pho,sushi platter,"
    "falafel wrap,ramen,lasagna,burrito bowl,fish tacos,bibimbap,mushroom risotto,green curry,"
    "pepperoni pizza,poke bowl,club sandwich,tomato soup,pancakes,chicken shawarma,gnocchi,dumplings"
)
INGREDIENT = _w(
    "eggs,milk,flour,butter,sugar,olive oil,garlic,onions,tomatoes,rice,pasta,chicken breast,spinach,"
    "avocados,bananas,apples,lemons,cheddar,yogurt,coffee beans,oat milk,bread,basil,carrots,potatoes,"
    "salmon,tofu,black beans,honey,peanut butter,cereal,ground beef,mushrooms,bell peppers,cucumbers"
)
AIRPORT = _w("JFK LAX SFO ORD ATL SEA BOS MIA DEN DFW LHR CDG FRA AMS MAD FCO LIS DUB ZRH VIE CPH ARN"
             " HND NRT ICN SIN BKK DXB DOH SYD MEL YYZ YVR MEX GRU EZE JNB NBO CAI IST")
AIRLINE = _w("Delta,United,American Airlines,Lufthansa,Air France,KLM,British Airways,Emirates,Qatar Airways,"
             "Singapore Airlines,ANA,Iberia,TAP,Ryanair,easyJet,JetBlue,Alaska Airlines,Turkish Airlines")
TICKER = _w("AAPL MSFT GOOGL AMZN TSLA NVDA META NFLX IBM ORCL INTC AMD SAP SHOP UBER ABNB DIS KO PEP"
            " NKE JPM V MA BA XOM CVX PFE")
CURRENCY = _w("USD EUR GBP JPY CHF CAD AUD INR BRL MXN SEK NOK DKK PLN CNY KRW SGD ZAR")
CRYPTO = _w("bitcoin ethereum solana cardano dogecoin litecoin polkadot")
TEAM_A = _w("Lions,Tigers,Eagles,Sharks,Bears,Wolves,Falcons,Hawks,Rangers,Rovers,United,City,Athletic,"
            "Kings,Giants,Pirates,Vikings,Spartans,Comets,Dragons")
SPORT = _w("soccer,basketball,tennis,baseball,cricket,rugby,hockey,volleyball,golf,formula 1,cycling,"
           "american football,badminton,table tennis")
CAR = _w("Model 3,Civic,Corolla,Golf,Mustang,RAV4,Outback,Leaf,Ioniq 5,F-150,CR-V,Prius,Polo,Clio,"
         "Model Y,Camry,Mazda3,Kona,Niro,i3,A4,X5,Wrangler,Bolt")
MEDICATION = _w("ibuprofen,paracetamol,amoxicillin,vitamin D,metformin,lisinopril,cetirizine,omeprazole,"
                "aspirin,melatonin,iron supplement,fish oil,magnesium,insulin,levothyroxine")
SYMPTOM = _w("headache,sore throat,back pain,fever,cough,nausea,fatigue,dizziness,rash,insomnia,"
             "stomach ache,runny nose,joint pain,shortness of breath")
EXERCISE = _w("running,cycling,swimming,yoga,pilates,rowing,hiking,walking,weightlifting,HIIT,"
              "boxing,climbing,spinning,crossfit,stretching,elliptical")
SUBJECT = _w("algebra,calculus,chemistry,biology,physics,world history,spanish,french,economics,"
             "statistics,computer science,geography,literature,art history,music theory,psychology")
LANGUAGE = _w("English,Spanish,French,German,Italian,Portuguese,Japanese,Chinese,Korean,Arabic,Hindi,"
              "Russian,Dutch,Swedish,Polish,Turkish,Greek,Hebrew,Vietnamese,Thai,Indonesian,Swahili")
WORD = _w(
    "budget report invoice notes draft summary roadmap backlog slides contract resume photos receipts"
    " minutes proposal schedule inventory plan agenda design logo specs metrics survey payroll"
    " onboarding release changelog taxes lease recipe itinerary feedback"
)
EXT = _w("pdf docx xlsx csv txt png jpg md pptx json zip mp3 mp4")
SERVICE = _w("auth-service,payments-api,checkout,search-indexer,user-profile,notification-worker,gateway,"
             "billing,inventory-svc,recommendations,media-transcoder,analytics-etl,web-frontend,cron-runner")
ENV = _w("staging production dev qa sandbox canary")
TABLE = _w("users orders payments sessions products invoices events customers shipments subscriptions"
           " audit_log inventory employees tickets reviews")
DEPARTMENT = _w("engineering,marketing,sales,finance,legal,operations,design,support,research,"
                "human resources,procurement,product,data science,security,facilities")
JOB = _w("software engineer,product manager,designer,data analyst,account executive,recruiter,"
         "accountant,marketing manager,support specialist,devops engineer,sales director,nurse,"
         "teacher,operations lead,legal counsel,qa engineer")
SKILL = _w("python,sql,project management,negotiation,public speaking,kubernetes,excel,figma,react,"
           "machine learning,copywriting,accounting,spanish,customer service,leadership")
TOPIC = _w(
    "climate change,electric cars,the stock market,space exploration,artificial intelligence,"
    "the world cup,local elections,housing prices,renewable energy,vaccines,remote work,inflation,"
    "the olympics,cybersecurity,quantum computing,ocean plastic,college admissions,coffee prices"
)
MSG_A = _w(
    "running 10 minutes late,on my way,see you at the cafe,can we move our call,thanks for dinner last night,"
    "the package arrived,happy birthday,don't forget the keys,call me when you land,meeting is cancelled,"
    "I left the report on your desk,let's grab lunch tomorrow,the build is green again,good luck today,"
    "pick up milk on the way home,the kids are asleep,I'll be there at 7,sent you the slides,"
    "great job on the demo,can you review my PR,dinner is ready,traffic is terrible,"
    "the meeting room changed to 4B,I found your wallet,rent is due friday"
)
MSG_B = ("", "", "", "", "!", " ok?", " thanks!", " love you", " cheers", " see you soon", " talk later", " sorry!",
         " no rush", " let me know", " ttyl")
TITLE_A = _w(
    "Team standup,Dentist appointment,Project kickoff,Lunch with,Coffee with,Quarterly review,"
    "Sprint planning,Parent teacher meeting,Yoga class,Budget sync,Interview with,Book club,"
    "Design review,Flight to,Doctor visit,Haircut,Piano lesson,Board meeting,1:1 with,Demo day"
)
NOTE = _w(
    "buy more printer paper,ideas for the garden,call the plumber about the leak,passport renewal steps,"
    "gift ideas for mom,wifi password is on the fridge,books to read this summer,questions for the landlord,"
    "pack chargers and adapters,renew car insurance,try the new ramen place,backup the laptop,"
    "water the plants on sunday,ask about the refund,update the resume"
)
SEARCH = _w(
    "best hiking trails nearby,how to fix a leaky faucet,cheap flights to Lisbon,python list comprehension,"
    "vegan lasagna recipe,symptoms of dehydration,how tall is mount everest,best noise cancelling headphones,"
    "history of the roman empire,how to train a puppy,used cars under 10000,learn guitar chords,"
    "sourdough starter tips,electric bike reviews,how to write a cover letter,home workout plans"
)
PET = _w("Biscuit Luna Max Bella Charlie Coco Milo Daisy Rocky Nala Oreo Pepper Simba Ziggy Mochi")
STREET_A = _w("Main,Oak,Maple,Cedar,Pine,Elm,Washington,Lake,Hill,Park,Sunset,River,Church,High,Station,"
              "Mill,King,Queen,Bridge,Harbor")
STREET_B = _w("Street,Avenue,Road,Lane,Boulevard,Drive,Way,Court,Place")
PLACE = _w(
    "the airport,the train station,downtown,the office,home,the nearest gas station,the mall,"
    "the hospital,the university,central park,the beach,the stadium,the library,the museum,"
    "the gym,the pharmacy,the supermarket,the harbor,the zoo,the city center"
)
WIFI = _w("HomeNet,CafeGuest,Office-5G,Linksys,Netgear42,GardenAP,Studio-Wifi,Attic_2G")
PROJECT = _w("Apollo,Hermes,Phoenix,Orion,Atlas,Mercury,Gemini,Neptune,Helios,Titan,Aurora,Zephyr,"
             "Cobalt,Falcon,Redwood,Sequoia,Lighthouse,Nimbus")
HASHTAG = _w("#travel #foodie #tbt #fitness #nofilter #mondaymotivation #sunset #bookworm #coding #art")
PLANT = _w("basil,tomatoes,orchid,fern,succulents,roses,lavender,monstera,peace lily,tulips,mint")
CHEM = _w("water,ethanol,sodium chloride,glucose,methane,carbon dioxide,ammonia,benzene,caffeine,"
          "sulfuric acid,acetone,oxygen,hydrogen peroxide,calcium carbonate")
ELEMENT = _w("hydrogen,helium,carbon,nitrogen,oxygen,iron,gold,silver,copper,uranium,neon,sodium,"
             "calcium,zinc,mercury,lead,silicon,titanium")
CHITCHAT = (
    "tell me a joke",
    "how are you doing today",
    "what's the meaning of life",
    "who won the world cup in 1998",
    "thanks, that's all",
    "you're awesome",
    "what is your favorite color",
    "explain quantum entanglement like I'm five",
    "write me a haiku about autumn",
    "good night",
    "why is the sky blue",
    "what does serendipity mean",
    "recommend a good sci-fi novel",
    "I'm bored",
    "how many legs does a spider have",
    "say something nice",
    "what's the capital of Australia",
    "is a tomato a fruit",
    "hello there",
    "what can you do",
)


def _full_name(r: random.Random) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def _email(r: random.Random) -> str:
    first, last = r.choice(FIRST).lower(), r.choice(LAST).lower().replace("'", "").replace("ü", "u")
    user = r.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{r.randint(1, 99)}", first))
    dom = r.choice(("gmail.com", "example.com", "outlook.com", "proton.me", "acme.io", "work.org"))
    return f"{user}@{dom}"


def _song(r: random.Random) -> str:
    a, n = r.choice(ADJ), r.choice(NOUN)
    return r.choice((f"{a} {n}", f"The {a} {n}", f"{n} of {r.choice(NOUN)}s", f"{a} {n}s", n + " Song"))


def _artist(r: random.Random) -> str:
    return r.choice((_full_name(r), f"The {r.choice(ADJ)} {r.choice(ARTIST_B)}", f"{r.choice(FIRST)} & the "
                     f"{r.choice(ARTIST_B)}", f"DJ {r.choice(NOUN)}"))


def _product(r: random.Random) -> str:
    return f"{r.choice(BRAND)} {r.choice(ITEM)}" if r.random() < 0.6 else r.choice(ITEM)


def _company(r: random.Random) -> str:
    return f"{r.choice(COMPANY_A)} {r.choice(COMPANY_B)}"


def _restaurant(r: random.Random) -> str:
    return r.choice((f"The {r.choice(ADJ)} {r.choice(NOUN)}", f"{r.choice(FIRST)}'s {r.choice(CUISINE)} Kitchen",
                     f"{r.choice(NOUN)} Bistro", f"Cafe {r.choice(FIRST)}"))


def _file(r: random.Random) -> str:
    a, b = r.choice(WORD), r.choice(WORD)
    stem = r.choice((a, f"{a}_{b}", f"{a}-{r.randint(2019, 2026)}", f"{a}_v{r.randint(1, 9)}"))
    return f"{stem}.{r.choice(EXT)}"


def _folder(r: random.Random) -> str:
    return "/" + "/".join(r.sample(("home", "docs", "projects", "shared", r.choice(WORD), r.choice(PROJECT).lower(),
                                    "archive", "2025", "team", "backups"), r.randint(2, 3)))


def _message(r: random.Random) -> str:
    return r.choice(MSG_A) + r.choice(MSG_B)


def _title(r: random.Random) -> str:
    t = r.choice(TITLE_A)
    if t.endswith((" with", " to")):
        who = r.choice(FIRST) if t.endswith("with") else r.choice(CITY)
        return f"{t} {who}"
    return t if r.random() < 0.7 else f"{t} ({r.choice(PROJECT)})"


def _id(prefix: str, digits: int = 5) -> Pool:
    def make(r: random.Random) -> str:
        return f"{prefix}{r.randint(10 ** (digits - 1), 10 ** digits - 1)}"

    return make


def _code(r: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "".join(r.choice(letters) for _ in range(r.randint(2, 3))) + "-" + str(r.randint(100, 9999))


def _phone(r: random.Random) -> str:
    a, b = r.randint(200, 989), r.randint(1000, 9999)
    return r.choice((f"+1 {a} 555 {b}", f"555-{b}", f"+44 20 7946 {b}", f"({a}) 555-{b}"))


def _url(r: random.Random) -> str:
    host = r.choice(("example.com", "news.site", "blog.dev", "shop.io", "docs.org", "wiki.net"))
    return f"https://{host}/{r.choice(WORD)}/{r.choice(WORD)}-{r.randint(1, 999)}"


def _host(r: random.Random) -> str:
    kind = r.choice(("web", "db", "cache", "api", "worker", "edge"))
    return f"{kind}-{r.randint(1, 40):02d}.{r.choice(ENV)}.internal"


def _repo(r: random.Random) -> str:
    return f"{r.choice(PROJECT).lower()}-{r.choice(('api', 'web', 'cli', 'core', 'infra', 'mobile', 'docs'))}"


def _branch(r: random.Random) -> str:
    return f"{r.choice(('feature', 'fix', 'chore', 'release'))}/{r.choice(WORD)}-{r.choice(WORD)}"


def _team(r: random.Random) -> str:
    return f"{r.choice(CITY)} {r.choice(TEAM_A)}"


def _street(r: random.Random) -> str:
    return f"{r.randint(1, 2400)} {r.choice(STREET_A)} {r.choice(STREET_B)}"


def _username(r: random.Random) -> str:
    sep, tail = r.choice(("_", ".", "")), r.choice(("", str(r.randint(1, 99))))
    return f"@{r.choice(FIRST).lower()}{sep}{r.choice(NOUN).lower()}{tail}"


def _zip(r: random.Random) -> str:
    return str(r.randint(10000, 99999))


def _plate(r: random.Random) -> str:
    return f"{r.randint(1, 9)}{_letters(r, 3)}{r.randint(100, 999)}"


def _letters(r: random.Random, n: int) -> str:
    return "".join(r.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))


def _book(r: random.Random) -> str:
    return r.choice((f"The {r.choice(ADJ)} {r.choice(NOUN)}", f"A {r.choice(NOUN)} in {r.choice(CITY)}",
                     f"{r.choice(NOUN)}s and {r.choice(NOUN)}s", f"The Last {r.choice(NOUN)}"))


def _dish(r: random.Random) -> str:
    return r.choice(DISH)


def _choice(words: tuple[str, ...]) -> Pool:
    def pick(r: random.Random) -> str:
        return r.choice(words)

    return pick


POOLS: dict[str, Pool] = {
    "person": _full_name,
    "first": _choice(FIRST),
    "contact": lambda r: r.choice(FIRST) if r.random() < 0.5 else _full_name(r),
    "email": _email,
    "phone": _phone,
    "city": _choice(CITY),
    "country": _choice(COUNTRY),
    "place": lambda r: r.choice(PLACE) if r.random() < 0.4 else r.choice(CITY),
    "street": _street,
    "zip": _zip,
    "room": _choice(ROOM),
    "device": lambda r: f"{r.choice(ROOM)} {r.choice(DEVICE_KIND)}",
    "song": _song,
    "artist": _artist,
    "album": lambda r: f"{r.choice(ADJ)} {r.choice(NOUN)}s" if r.random() < 0.5 else _song(r),
    "playlist": lambda r: r.choice((f"{r.choice(ADJ)} {r.choice(GENRE)}", f"{r.choice(FIRST)}'s mix",
                                    r.choice(("Morning", "Workout", "Chill", "Focus")) + f" {r.choice(NOUN)}s")),
    "podcast": lambda r: f"The {r.choice(NOUN)} {r.choice(('Show', 'Hour', 'Podcast', 'Report', 'Talk'))}",
    "movie": _book,
    "show": lambda r: f"{r.choice(ADJ)} {r.choice(NOUN)}" if r.random() < 0.5 else _book(r),
    "genre": _choice(GENRE),
    "book": _book,
    "author": _full_name,
    "product": _product,
    "brand": _choice(BRAND),
    "company": _company,
    "restaurant": _restaurant,
    "cuisine": _choice(CUISINE),
    "dish": _dish,
    "ingredient": _choice(INGREDIENT),
    "airport": _choice(AIRPORT),
    "airline": _choice(AIRLINE),
    "hotel": lambda r: " ".join((r.choice(("Grand", "Hotel", "The", "Royal", "Park")), r.choice(NOUN),
                                 r.choice(("Inn", "Hotel", "Suites", "Lodge", "Resort")))),
    "ticker": _choice(TICKER),
    "currency": _choice(CURRENCY),
    "crypto": _choice(CRYPTO),
    "message": _message,
    "note": _choice(NOTE),
    "title": _title,
    "subject_line": lambda r: r.choice(("Re: ", "", "Fwd: ", ""))
    + f"{r.choice(WORD).capitalize()} for {r.choice(PROJECT)}",
    "team": _team,
    "sport": _choice(SPORT),
    "car": _choice(CAR),
    "plate": _plate,
    "medication": _choice(MEDICATION),
    "symptom": _choice(SYMPTOM),
    "exercise": _choice(EXERCISE),
    "subject": _choice(SUBJECT),
    "language": _choice(LANGUAGE),
    "url": _url,
    "host": _host,
    "service": _choice(SERVICE),
    "env": _choice(ENV),
    "repo": _repo,
    "branch": _branch,
    "file": _file,
    "folder": _folder,
    "table": _choice(TABLE),
    "ticket": lambda r: f"{r.choice(('BUG', 'OPS', 'SUP', 'ENG', 'HR'))}-{r.randint(100, 9999)}",
    "order": _id("ORD-", 6),
    "tracking": lambda r: f"1Z{_letters(r, 3)}{r.randint(10 ** 9, 10 ** 10 - 1)}",
    "username": _username,
    "hashtag": _choice(HASHTAG),
    "project": _choice(PROJECT),
    "department": _choice(DEPARTMENT),
    "employee": _id("E", 5),
    "job": _choice(JOB),
    "skill": _choice(SKILL),
    "topic": _choice(TOPIC),
    "query": _choice(SEARCH),
    "pet": _choice(PET),
    "plant": _choice(PLANT),
    "wifi": _choice(WIFI),
    "code": _code,
    "chemical": _choice(CHEM),
    "element": _choice(ELEMENT),
    "word": _choice(WORD),
    "sentence": lambda r: r.choice(MSG_A + NOTE),
    "expression": lambda r: r.choice((
        f"{r.randint(2, 99)} * {r.randint(2, 99)}", f"sqrt({r.randint(2, 999)})",
        f"({r.randint(1, 50)} + {r.randint(1, 50)}) / {r.randint(2, 9)}",
        f"{r.randint(2, 9)}^{r.randint(2, 8)}", f"x^2 + {r.randint(1, 9)}x - {r.randint(1, 20)}",
    )),
    "account": lambda r: r.choice(("checking", "savings", "credit card", "joint account", "business account")),
    "merchant": lambda r: r.choice((_company(r), _restaurant(r), f"{r.choice(BRAND)} Store")),
    "id": _id("", 6),
}

# API-style values (identifiers, tokens, codes, resource names) for tools inferred from real APIs.
REGION = _w("us-east-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-1 ap-northeast-1 us-central1 europe-west4"
            " asia-east1 eastus westeurope northeurope uksouth ca-central-1 sa-east-1")
LOCALE = _w("en-US en-GB fr-FR de-DE es-ES it-IT pt-BR ja-JP ko-KR zh-CN nl-NL sv-SE pl-PL tr-TR")
LANG_CODE = _w("en fr de es it pt ja ko zh nl sv pl tr ar hi ru")
COUNTRY_CODE = _w("US GB DE FR ES IT NL SE NO JP KR CN IN BR MX CA AU NZ ZA KE NG EG IE PL")
TIMEZONE = _w("Europe/Berlin Europe/London America/New_York America/Los_Angeles Asia/Tokyo Asia/Kolkata"
              " Australia/Sydney America/Sao_Paulo Africa/Nairobi UTC Europe/Paris Asia/Singapore")
STATUS = _w("active inactive pending approved rejected open closed archived draft published completed failed"
            " cancelled enabled disabled running stopped")
SLUG_A = _w("prod staging dev billing payments orders users analytics media web api core search reports"
            " marketing shop inventory events logs backup main")
SLUG_B = _w("db cluster bucket queue service app worker store index pool group team site cache vault fn")
TLD = _w("com org io net dev co.uk de app")
COLOR = _w("red blue green black white orange purple yellow #ff5733 #1e90ff #00a86b #333333")
_B62 = "ABCDEFGHIJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"


def _uuid(r: random.Random) -> str:
    h = "".join(r.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


def _ident(r: random.Random) -> str:
    """An identifier as APIs write them: numeric, hex, UUID, prefixed or a dashed code."""
    k = r.random()
    if k < 0.3:
        return str(r.randint(100, 9_999_999))
    if k < 0.45:
        return _uuid(r)
    if k < 0.6:
        return "".join(r.choice("0123456789abcdef") for _ in range(r.choice((8, 12, 24))))
    if k < 0.8:
        pre = r.choice(("usr", "ord", "inv", "cus", "prj", "itm", "acct", "evt", "doc", "msg", "tkt"))
        return f"{pre}_{''.join(r.choice(_B62) for _ in range(r.randint(6, 14)))}"
    return _code(r)


def _slug(r: random.Random) -> str:
    a, b = r.choice(SLUG_A), r.choice(SLUG_B)
    return r.choice((f"{a}-{b}", f"{a}-{b}-{r.randint(1, 20)}", f"{r.choice(PROJECT).lower()}-{a}", f"{a}_{b}"))


def _token(r: random.Random) -> str:
    return "".join(r.choice(_B62) for _ in range(r.randint(12, 28)))


def _date_str(r: random.Random) -> str:
    return (random_today(r) + dt.timedelta(days=r.randint(-400, 400))).isoformat()


def _datetime_str(r: random.Random) -> str:
    return f"{_date_str(r)}T{r.randint(0, 23):02d}:{r.choice((0, 15, 30, 45)):02d}:00Z"


def _domain(r: random.Random) -> str:
    return f"{r.choice(PROJECT).lower()}{r.choice(('', '-labs', 'app', '-shop', 'hq'))}.{r.choice(TLD)}"


def _resource_path(r: random.Random) -> str:
    proj = f"{r.choice(PROJECT).lower()}-{r.choice(SLUG_A)}"
    return r.choice((f"projects/{proj}", f"projects/{proj}/locations/{r.choice(REGION)}",
                     f"accounts/{r.randint(1000, 99999)}", f"organizations/{r.randint(10 ** 8, 10 ** 9)}"))


def _filter(r: random.Random) -> str:
    return r.choice((f"status = {r.choice(STATUS)}", f"name:{r.choice(SLUG_A)}", f"type eq '{r.choice(WORD)}'",
                     f"created_at > {_date_str(r)}", f"labels.env={r.choice(ENV)}"))


def _version(r: random.Random) -> str:
    return r.choice((f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 30)}", f"v{r.randint(1, 5)}",
                     f"{r.randint(2019, 2026)}-{r.randint(1, 12):02d}-01"))


API_POOLS: dict[str, Pool] = {
    "ident": _ident,
    "uuid": _uuid,
    "slug": _slug,
    "token": _token,
    "date_str": _date_str,
    "datetime_str": _datetime_str,
    "region": _choice(REGION),
    "locale": _choice(LOCALE),
    "lang_code": _choice(LANG_CODE),
    "country_code": _choice(COUNTRY_CODE),
    "timezone": _choice(TIMEZONE),
    "status": _choice(STATUS),
    "domain": _domain,
    "resource_path": _resource_path,
    "filter": _filter,
    "version": _version,
    "color": _choice(COLOR),
    "ip": lambda r: f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
    "sort": lambda r: r.choice(("created_at", "-created_at", "name", "updated_at desc", "price asc", "date")),
    "person_name": _full_name,
    "last": _choice(LAST),
    "year": lambda r: str(r.randint(2015, 2027)),
    "login": lambda r: r.choice((f"{r.choice(FIRST).lower()}{r.choice(('', '-', '_'))}{r.choice(LAST).lower()}",
                                 f"{r.choice(PROJECT).lower()}-{r.choice(('labs', 'hq', 'dev', 'inc', 'team', 'io'))}",
                                 f"{r.choice(FIRST).lower()}{r.randint(1, 99)}")).replace("'", "").replace("ü", "u"),
    "arn": lambda r: (f"arn:aws:{r.choice(('iam', 's3', 'lambda', 'sns', 'sqs', 'ec2', 'dynamodb', 'kms'))}:"
                      f"{r.choice(REGION[:6])}:{r.randint(10 ** 11, 10 ** 12 - 1)}:{r.choice(SLUG_B)}/{_slug(r)}"),
    "cron": lambda r: r.choice((f"0 {r.randint(0, 23)} * * *", f"*/{r.choice((5, 10, 15, 30))} * * * *",
                                f"{r.choice((0, 30))} {r.randint(6, 20)} * * {r.randint(1, 5)}", "0 0 1 * *")),
    "numstr": lambda r: str(r.choice((r.randint(1, 10), r.randint(1, 100), r.choice((10, 20, 25, 50, 100, 200))))),
    "resname": lambda r: _slug(r) if r.random() < 0.75 else r.choice((_book, lambda q: q.choice(PROJECT)))(r),
    "name_any": lambda r: r.choice((_slug, _company, _full_name, _book, lambda q: q.choice(PROJECT)))(r),
}
POOLS.update(API_POOLS)

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
        " sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(n: int) -> str:
    """English words for 0 <= n < 1,000,000 (larger or negative numbers stay digits)."""
    if n < 0 or n >= 1_000_000:
        return str(n)
    if n >= 1000:
        th, rest = divmod(n, 1000)
        return f"{spell_number(th)} thousand" + (f" {spell_number(rest)}" if rest else "")
    if n < 20:
        return ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return TENS[t] + (f"-{ONES[o]}" if o else "")
    h, rest = divmod(n, 100)
    return f"{ONES[h]} hundred" + (f" and {spell_number(rest)}" if rest else "")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January February March April May June July August September October November December").split()
EPOCH = dt.date(2024, 1, 1)


def random_today(r: random.Random) -> dt.date:
    return EPOCH + dt.timedelta(days=r.randint(0, 1000))


def date_phrase(r: random.Random, today: dt.date | None, bare: bool = False) -> tuple[dt.date, str]:
    """A date and one way to say it, relative to `today` or absolute. `bare`: the phrase follows a
    preposition ("by {v}"), so no "on ..." / "in 3 days" forms. `today` None: the request carries no
    date context, so only absolute dates that state their year can be resolved."""
    d, said = _date_phrase(r, today)
    if bare:
        while said.startswith("in "):
            d, said = _date_phrase(r, today)
        if said.startswith("on "):
            said = said[3:]
    return d, said


def _date_phrase(r: random.Random, today: dt.date | None) -> tuple[dt.date, str]:
    if today is None:
        d = random_today(r) + dt.timedelta(days=r.randint(1, 300))
        return d, r.choice((f"on {d.isoformat()}", f"on {MONTHS[d.month - 1]} {d.day}, {d.year}",
                            f"on {d.day} {MONTHS[d.month - 1][:3]} {d.year}"))
    k = r.random()
    if k < 0.12:
        return today, "today"
    if k < 0.3:
        return today + dt.timedelta(days=1), "tomorrow"
    if k < 0.36:
        return today + dt.timedelta(days=2), "the day after tomorrow"
    if k < 0.5:
        wd = r.randrange(7)
        delta = (wd - today.weekday()) % 7 or 7
        word = r.choice(("next ", "on ", "this coming ", ""))
        return today + dt.timedelta(days=delta), f"{word}{WEEKDAYS[wd]}"
    if k < 0.6:
        n = r.randint(2, 20)
        return today + dt.timedelta(days=n), f"in {n if r.random() < 0.6 else spell_number(n)} days"
    if k < 0.65:
        n = r.randint(1, 4)
        return today + dt.timedelta(weeks=n), "in a week" if n == 1 else f"in {n} weeks"
    d = today + dt.timedelta(days=r.randint(1, 300))
    style = r.randrange(4)
    if style == 0:
        return d, f"on {d.isoformat()}"
    if style == 1:
        return d, f"on {MONTHS[d.month - 1]} {d.day}" + (f", {d.year}" if r.random() < 0.5 else "")
    if style == 2:
        return d, f"on the {d.day}{_ordinal(d.day)} of {MONTHS[d.month - 1]}"
    return d, f"on {d.day} {MONTHS[d.month - 1][:3]} {d.year}"


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def time_phrase(r: random.Random) -> tuple[str, str]:
    """A clock time as "HH:MM" and one way to say it."""
    h, m = r.randint(0, 23), r.choice((0, 0, 0, 15, 30, 30, 45, 10, 20, 5))
    value = f"{h:02d}:{m:02d}"
    if h == 12 and m == 0 and r.random() < 0.4:
        return value, "noon"
    if r.random() < 0.45:
        return value, value
    h12 = h % 12 or 12
    suffix = r.choice(("am", "AM", "a.m.")) if h < 12 else r.choice(("pm", "PM", "p.m."))
    return value, (f"{h12}" if m == 0 and r.random() < 0.6 else f"{h12}:{m:02d}") + r.choice((" ", "")) + suffix
