"""The demo deployment's fixed story and fabricated material: councils and services, the
PRODUCT.md personas, and names drawn from Australia's real diversity. Never real people."""

from __future__ import annotations

from dataclasses import dataclass

from web.core.legal_bases import legal_bases

BRIMBANK, WYNDHAM, MELTON, MARIBYRNONG = "LGA21180", "LGA27260", "LGA24650", "LGA24330"
MELBOURNE, BRIMBANK_MELTON = "LGA24600", "AU-VIC-D03"

#: Councils with their own services in the demo: code → (council name, email slug).
COUNCILS = {
    BRIMBANK: ("Brimbank City Council", "brimbank"),
    WYNDHAM: ("Wyndham City Council", "wyndham"),
    MELTON: ("Melton City Council", "melton"),
    MARIBYRNONG: ("Maribyrnong City Council", "maribyrnong"),
    "LGA23110": ("Hobsons Bay City Council", "hobsonsbay"),
    MELBOURNE: ("City of Melbourne", "melbourne"),
    "LGA27350": ("Yarra City Council", "yarracity"),
    "LGA23430": ("Kingston City Council", "kingston"),
    "LGA23270": ("Hume City Council", "hume"),
    "LGA21610": ("Casey City Council", "casey"),
    "LGA22750": ("City of Greater Geelong", "geelong"),
    "LGA20570": ("City of Ballarat", "ballarat"),
    "LGA22620": ("City of Greater Bendigo", "bendigo"),
    "LGA27450": ("Yarra Ranges Council", "yarraranges"),
}

#: Other services: (name, service type, council code, domain, sensitive, job titles).
SERVICES: list[tuple[str, str, str, str, bool, tuple[str, ...]]] = [
    (
        "Department of Families, Fairness and Housing — Child Protection",
        "Child Protection",
        BRIMBANK,
        "dffh.example",
        False,
        ("Child Protection Practitioner",),
    ),
    (
        "Westside Recovery Service",
        "Alcohol & Other Drugs",
        BRIMBANK,
        "westsiderecovery.example",
        True,
        ("Clinician", "AOD Counsellor"),
    ),
    (
        "Northern Minds Youth Mental Health",
        "Mental Health",
        "LGA23270",
        "northernminds.example",
        True,
        ("Mental Health Clinician", "Psychologist"),
    ),
    (
        "Safe Harbour Family Violence Service",
        "Family Violence",
        MELBOURNE,
        "safeharbour.example",
        True,
        ("Family Violence Case Manager",),
    ),
    (
        "Victoria Police — Family Violence Investigation Unit West",
        "Police",
        MARIBYRNONG,
        "police.example",
        False,
        ("Detective Senior Constable", "Family Violence Liaison Officer"),
    ),
    (
        "Homes West Housing",
        "Housing",
        WYNDHAM,
        "homeswest.example",
        False,
        ("Housing Officer", "Tenancy Support Worker"),
    ),
    (
        "Sunshine Family Medical",
        "General Practice",
        BRIMBANK,
        "sunshinemedical.example",
        False,
        ("General Practitioner", "Practice Nurse"),
    ),
    (
        "Werribee Secondary College",
        "Education",
        WYNDHAM,
        "werribeesc.example",
        False,
        ("Student Wellbeing Coordinator", "School Nurse"),
    ),
    (
        "Footscray Primary School",
        "Education",
        MARIBYRNONG,
        "footscrayps.example",
        False,
        ("Assistant Principal", "Student Wellbeing Coordinator"),
    ),
    (
        "Brimbank Family Services",
        "Family Services",
        BRIMBANK,
        "brimbankfamily.example",
        False,
        ("Family Support Worker", "Family Services Team Leader"),
    ),
    (
        "Geelong Family Services",
        "Family Services",
        "LGA22750",
        "geelongfamily.example",
        False,
        ("Family Support Worker",),
    ),
    (
        "Casey Community Health",
        "Health",
        "LGA21610",
        "caseyhealth.example",
        False,
        ("Community Health Nurse", "Speech Pathologist"),
    ),
    (
        "Municipal Association of Victoria",
        "Other",
        MELBOURNE,
        "mav.example",
        False,
        ("Program Manager",),
    ),
]


@dataclass(frozen=True)
class Persona:
    name: str
    email: str
    job_title: str
    organisation: str
    areas: tuple[str, ...]
    role: str = "practitioner"
    phone: str = ""
    mobile: str = ""
    admin_areas: tuple[str, ...] = ()


#: The fixed personas of PRODUCT.md, used by the docs and the tests.
PERSONAS = (
    Persona(
        "Priya Nair",
        "priya.nair@brimbank.example",
        "Maternal & Child Health Nurse",
        "Brimbank City Council — Maternal & Child Health",
        (BRIMBANK,),
        phone="03 5550 1234",
        mobile="0491 570 156",
    ),
    Persona(
        "Tom Walsh",
        "tom.walsh@wyndham.example",
        "Youth Worker",
        "Wyndham City Council — Youth Services",
        (WYNDHAM,),
        phone="03 5550 2345",
        mobile="0491 570 157",
    ),
    Persona(
        "Aroha Ngata",
        "aroha.ngata@dffh.example",
        "Child Protection Practitioner",
        "Department of Families, Fairness and Housing — Child Protection",
        (BRIMBANK, MELTON),
        phone="03 5550 3456",
        mobile="0491 570 158",
    ),
    Persona(
        "Sam Lee",
        "sam.lee@westsiderecovery.example",
        "Clinician",
        "Westside Recovery Service",
        (BRIMBANK, MARIBYRNONG),
        phone="03 5550 4567",
        mobile="0491 570 159",
    ),
    Persona(
        "Grace Okafor",
        "grace.okafor@mav.example",
        "Program Manager",
        "Municipal Association of Victoria",
        (),
        role="local_admin",
        phone="03 5550 5678",
        admin_areas=(BRIMBANK_MELTON,),
    ),
    # Not one of PRODUCT.md's personas: the demo's state administrator, so the whole
    # deployment's administration can be tried too.
    Persona(
        "Morgan Reid",
        "morgan.reid@mav.example",
        "Statewide Program Lead",
        "Municipal Association of Victoria",
        (),
        role="state_admin",
        phone="03 5550 6789",
    ),
)

COUNCIL_SERVICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Maternal & Child Health",
        "Maternal & Child Health",
        ("Maternal & Child Health Nurse", "Enhanced MCH Nurse"),
    ),
    ("Youth Services", "Youth Services", ("Youth Worker", "Youth Support Coordinator")),
)


VICTORIAN_BASES = tuple(legal_bases("AU-VIC"))
ATTENTION_TEXTS = (
    "Missed two appointments — please call me",
    "Family has moved within the area; new contact details with me",
    "Can we meet this week to plan the next steps together?",
    "School attendance has dropped this term — worth a chat",
    "Mum has asked for help with housing; who is best placed?",
    "Court date set for next month — let's talk before then",
)
