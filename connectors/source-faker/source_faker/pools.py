"""Value pools the generators pick from (sizes are powers of two so a pick is a mask, not a modulo)."""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of `text`."""
    return tuple(text.split())


FIRST_NAMES = words(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra "
    "Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol "
    "Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon "
    "Jeffrey Laura Ryan Cynthia Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda "
    "Stephen Emma Larry Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel "
    "Christine Gregory Helen Alexander Debra Patrick Rachel Frank Carolyn Raymond Janet Jack Maria Dennis "
    "Catherine Jerry Heather Tyler Diane Aaron Olivia Jose Julie Adam Joyce Nathan Victoria Henry Ruth "
    "Zachary Virginia Douglas Lauren Peter Kelly Kyle Christina Noah Joan Ethan Evelyn Jeremy Judith "
    "Walter Andrea Christian Hannah Keith Megan Roger Cheryl Terry Jacqueline Austin Martha Sean Madison "
    "Gerald Teresa Carl Gloria Harold Sara Dylan Janice Arthur Ann Lawrence Kathryn Jordan Abigail Jesse "
    "Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy Joe Isabella Logan Julia Alan Grace Juan "
    "Amber Albert Denise Willie Danielle Elijah Marilyn Wayne Beverly Randy Charlotte Vincent Natalie "
    "Mason Theresa Roy Diana Ralph Brittany Bobby Doris Russell Kayla Bradley Alexis Philip Lori Eugene "
    "Marie Aiko Kenji Priya Arjun Mei Wei Fatima Omar Lucia Mateo Ingrid Lars Chiara Luca Amara Kwame "
    "Yuki Hiroshi Sofia Diego Leila Reza Anya Dmitri Zara Tariq Noor Elif Emre Nadia Ivan Ana Pedro"
)

LAST_NAMES = words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez "
    "Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole "
    "Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens "
    "Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker "
    "Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz "
    "Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley "
    "Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham "
    "Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Yamada "
    "Tanaka Sato Okafor Mensah Kowalski Novak Larsen Berg Rossi Bianchi Muller Schneider Dubois Laurent"
)

EMAIL_DOMAINS = (
    "example.com",
    "mail.example.org",
    "inbox.example.net",
    "post.example.io",
    "example.co.uk",
    "corp.example.com",
    "users.example.dev",
    "home.example.net",
)

STREET_NAMES = words(
    "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park View Sunset Church River Spring Highland "
    "Mill Forest Jackson Lincoln Madison Franklin Chestnut Walnut Willow Meadow Ridge Valley Adams Jefferson "
    "Cherry Birch Spruce Poplar Laurel Magnolia Dogwood Sycamore Hickory Aspen Juniper Lakeview Hillcrest "
    "Fairview Woodland Center Union Market Water High Bridge Prospect Grove Railroad Mountain Harbor Bay "
    "Canyon Mesa Prairie Summit Orchard"
)

STREET_SUFFIXES = ("Street", "Avenue", "Road", "Lane", "Drive", "Court", "Boulevard", "Way")

# (city, state/region, postal code prefix, country code)
LOCATIONS = (
    ("New York", "NY", "100", "US"),
    ("Los Angeles", "CA", "900", "US"),
    ("Chicago", "IL", "606", "US"),
    ("Houston", "TX", "770", "US"),
    ("Phoenix", "AZ", "850", "US"),
    ("Philadelphia", "PA", "191", "US"),
    ("San Antonio", "TX", "782", "US"),
    ("San Diego", "CA", "921", "US"),
    ("Dallas", "TX", "752", "US"),
    ("Austin", "TX", "787", "US"),
    ("Seattle", "WA", "981", "US"),
    ("Denver", "CO", "802", "US"),
    ("Boston", "MA", "021", "US"),
    ("Portland", "OR", "972", "US"),
    ("Atlanta", "GA", "303", "US"),
    ("Miami", "FL", "331", "US"),
    ("Toronto", "ON", "M5V", "CA"),
    ("Vancouver", "BC", "V6B", "CA"),
    ("Montreal", "QC", "H2X", "CA"),
    ("London", "England", "EC1", "GB"),
    ("Manchester", "England", "M1 ", "GB"),
    ("Edinburgh", "Scotland", "EH1", "GB"),
    ("Dublin", "Leinster", "D02", "IE"),
    ("Paris", "Ile-de-France", "750", "FR"),
    ("Lyon", "Auvergne-Rhone-Alpes", "690", "FR"),
    ("Berlin", "Berlin", "101", "DE"),
    ("Munich", "Bavaria", "803", "DE"),
    ("Hamburg", "Hamburg", "203", "DE"),
    ("Amsterdam", "North Holland", "101", "NL"),
    ("Madrid", "Madrid", "280", "ES"),
    ("Barcelona", "Catalonia", "080", "ES"),
    ("Lisbon", "Lisbon", "110", "PT"),
    ("Rome", "Lazio", "001", "IT"),
    ("Milan", "Lombardy", "201", "IT"),
    ("Vienna", "Vienna", "101", "AT"),
    ("Zurich", "Zurich", "800", "CH"),
    ("Stockholm", "Stockholm", "111", "SE"),
    ("Oslo", "Oslo", "015", "NO"),
    ("Copenhagen", "Capital Region", "105", "DK"),
    ("Helsinki", "Uusimaa", "001", "FI"),
    ("Warsaw", "Masovia", "00-", "PL"),
    ("Prague", "Prague", "110", "CZ"),
    ("Tokyo", "Tokyo", "100", "JP"),
    ("Osaka", "Osaka", "530", "JP"),
    ("Seoul", "Seoul", "042", "KR"),
    ("Singapore", "Singapore", "018", "SG"),
    ("Sydney", "NSW", "200", "AU"),
    ("Melbourne", "VIC", "300", "AU"),
    ("Auckland", "Auckland", "101", "NZ"),
    ("Mumbai", "Maharashtra", "400", "IN"),
    ("Bangalore", "Karnataka", "560", "IN"),
    ("Sao Paulo", "SP", "010", "BR"),
    ("Rio de Janeiro", "RJ", "200", "BR"),
    ("Buenos Aires", "CABA", "C10", "AR"),
    ("Mexico City", "CDMX", "060", "MX"),
    ("Bogota", "Bogota", "110", "CO"),
    ("Lima", "Lima", "150", "PE"),
    ("Santiago", "RM", "832", "CL"),
    ("Cape Town", "Western Cape", "800", "ZA"),
    ("Lagos", "Lagos", "100", "NG"),
    ("Nairobi", "Nairobi", "001", "KE"),
    ("Cairo", "Cairo", "115", "EG"),
    ("Istanbul", "Istanbul", "344", "TR"),
    ("Dubai", "Dubai", "000", "AE"),
)

OCCUPATIONS = (
    "Accountant Actor Architect Artist Baker Biologist Carpenter Chef Chemist Consultant Data-Analyst "
    "Data-Engineer Dentist Designer Developer Economist Editor Electrician Engineer Farmer Firefighter "
    "Geologist Historian Journalist Judge Lawyer Librarian Mechanic Musician Nurse Optician Painter "
    "Paramedic Pharmacist Photographer Physicist Pilot Plumber Professor Programmer Psychologist "
    "Researcher Salesperson Scientist Surgeon Teacher Translator Veterinarian Writer Student Retired "
    "Product-Manager Project-Manager Recruiter Statistician Surveyor Tailor Technician Therapist "
    "Urban-Planner Welder Zoologist Cashier Courier"
)
OCCUPATIONS_T = tuple(o.replace("-", " ") for o in words(OCCUPATIONS))

LANGUAGES = words(
    "English Spanish French German Italian Portuguese Dutch Swedish Polish Japanese Korean Chinese Hindi "
    "Arabic Turkish Russian"
)

GENDERS = ("female", "male", "female", "male", "non-binary", "female", "male", "undisclosed")

BLOOD_TYPES = ("O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-")

TAGS = words(
    "vip newsletter beta early-adopter churn-risk enterprise smb trial referral mobile desktop "
    "premium loyal new inactive wholesale"
)

PHONE_KINDS = ("mobile", "home", "work", "mobile")

PRODUCT_MAKES = words(
    "Acme Globex Initech Umbrella Stark Wayne Wonka Tyrell Cyberdyne Soylent Hooli Vandelay Gringotts "
    "Oscorp Aperture Massive Dynamic Pied Piper Monarch Nakatomi Rekall Virtucon Gekko Cogswell Spacely "
    "Duff Krusty Bluth Dunder Sterling Prestige Wernham"
)

PRODUCT_KINDS = words(
    "Laptop Phone Tablet Headphones Speaker Camera Monitor Keyboard Mouse Router Printer Watch Drone "
    "Projector Microphone Charger Backpack Lamp Kettle Blender Toaster Vacuum Heater Fan Bicycle Helmet "
    "Tent Jacket Sneakers Sunglasses Umbrella Mug"
)

PRODUCT_ADJECTIVES = words("Pro Max Mini Ultra Lite Plus Air Neo Prime Classic Sport Eco Smart Turbo Nano Flex")

CURRENCIES = ("USD", "EUR", "GBP", "USD", "USD", "EUR", "JPY", "CAD")

PURCHASE_CHANNELS = ("web", "mobile_app", "store", "web", "mobile_app", "phone", "web", "partner")
