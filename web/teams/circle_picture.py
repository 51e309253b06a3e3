"""The Circle tab's network picture, laid out here so the page needs no script.

The client sits in the middle of a spine, their circle above and below, and each practitioner
the viewer may see hangs off the client whose team they are on, as a node labelled with name and
role whose shape and fill pattern (not colour alone) say what kind of organisation they work for.
One column keeps labels legible on a phone: the picture only grows taller, so ten circle members
of ten practitioners each are a tall picture, never a cramped one. Text widths are estimated
generously: a label that might not fit wraps, then ends in "…"; the list below has it whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from models.clients import Client
from models.organisations import SERVICE_TYPES, Organisation
from models.teams import Membership

#: Kinds of organisation in the legend's order: what it says, the node's shape, its fill.
KINDS = {
    "health": ("Health", "circle", "solid"),
    "social": ("Social services and child protection", "square", "stripes"),
    "education": ("Education", "diamond", "dots"),
    "police": ("Police", "triangle", "bars"),
    "other": ("Other services", "hexagon", "checks"),
}
SERVICES_OF = {
    "health": "Maternal & Child Health|School Nursing|Health|General Practice|Mental Health|"
    "Alcohol & Other Drugs",
    "social": "Child Protection|Family Services|Youth Services|Housing|Family Violence|Disability",
    "education": "Education",
    "police": "Police",
}
KIND_OF = {service: kind for kind, names in SERVICES_OF.items() for service in names.split("|")}
assert set(KIND_OF) | {"Other"} == set(SERVICE_TYPES)

#: The picture's width in its own units; it is drawn at the column's width, about 1.1 units
#: to the pixel on a 390 px phone, so 13-unit text renders at 12 px or more from 320 px up.
WIDTH = 320
SPINE_X = 26
PERSON_R, CENTRE_R = 18, 22
PERSON_LABEL_X = 56
SHAPE_X, SHAPE_HALF = 64, 12
SEAT_LABEL_X = 84
NAME_SIZE, PERSON_NAME_SIZE, SMALL_SIZE = 15, 16, 13
LINE, PERSON_LINE = 17, 19  # from one line of text to the next
PERSON_ROW = 56
GROUP_PAD, GROUP_GAP, MARGIN = 6, 14, 4
FONT_SIZES = (NAME_SIZE, PERSON_NAME_SIZE, SMALL_SIZE)


def kind_of(organisation: Organisation) -> str:
    return KIND_OF.get(organisation.service_type, "other")


#: Estimated advance of each character, in ems: a little wider than DejaVu Sans, the widest
#: of the faces `system-ui` becomes (phones' own faces are narrower still).
NARROW, WIDE = set("fijlrtI!.,;:'’|()[] "), set("mwMWOQGCDHNU@%&—")


def text_width(text: str, size: float, bold: bool = False) -> float:
    ems = sum(
        0.34 if c in NARROW else 0.9 if c in WIDE else 0.68 if c.isdigit() or c.isupper() else 0.6
        for c in text
    )
    return ems * size * (1.2 if bold else 1.05)


def pieces(text: str) -> list[str]:
    """Where a line may break: at spaces (kept before the word) and after hyphens."""
    found = []
    for word in text.split():
        parts = re.findall(r"[^-]+-*|-+", word)
        found += [" " + parts[0], *parts[1:]]
    return found


def wrapped(text: str, size: float, width: float, lines: int, bold: bool = False) -> list[str]:
    """`text` in at most `lines` lines of `width`, the last cut short with "…" if need be."""
    out: list[str] = []
    rest = pieces(text)
    while rest and len(out) < lines:
        line = rest.pop(0).lstrip()
        while rest and text_width(line + rest[0], size, bold) <= width:
            line += rest.pop(0)
        out.append(line)
    if rest or (out and text_width(out[-1], size, bold) > width):
        last = (out[-1] + "".join(rest)).strip()
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1].rstrip()
        out[-1] = last + "…"
    return out


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, b: Box) -> bool:
        return self.x0 < b.x1 and b.x0 < self.x1 and self.y0 < b.y1 and b.y0 < self.y1

    @staticmethod
    def around(x: float, y: float, half: float) -> Box:
        return Box(x - half, y - half, x + half, y + half)


def text_box(
    x: float, baseline: float, lines: list[str], size: float, bold: bool, line: float = LINE
) -> Box:
    """Where lines of text starting at `x`, the first on `baseline`, are drawn."""
    width = max((text_width(text, size, bold) for text in lines), default=0)
    return Box(
        x, baseline - 0.8 * size, x + width, baseline + line * (len(lines) - 1) + 0.25 * size
    )


@dataclass(frozen=True)
class Seat:
    """One practitioner's node, linking to their card in the list."""

    anchor: str
    y: float
    top: float
    bottom: float
    name: list[str]
    role: list[str]
    label: str  # the link's accessible name: everything, unabridged
    kind: str

    @property
    def name_y(self) -> float:
        return self.top + 18

    @property
    def role_y(self) -> float:
        return self.name_y + LINE * len(self.name)

    def boxes(self) -> list[Box]:
        return [
            Box.around(SHAPE_X, self.y, SHAPE_HALF),
            text_box(SEAT_LABEL_X, self.name_y, self.name, NAME_SIZE, True),
            text_box(SEAT_LABEL_X, self.role_y, self.role, SMALL_SIZE, False),
        ]


@dataclass(frozen=True)
class Person:
    """A client's node and the practitioners hanging off it, `top` to `bottom`."""

    anchor: str
    y: float
    r: int
    initials: str
    name: list[str]
    note: list[str]
    label: str
    centre: bool
    seats: list[Seat]
    head: float  # where the client's own row ends and their team's begins
    top: float
    bottom: float

    @property
    def note_y(self) -> float:
        return self.y - 4 + PERSON_LINE * len(self.name)

    @property
    def frame(self) -> Box:
        """The group's background, around the client and their team."""
        return Box(MARGIN, self.top, WIDTH - MARGIN, self.bottom)

    def boxes(self) -> list[Box]:
        return [
            Box.around(SPINE_X, self.y, self.r),
            text_box(PERSON_LABEL_X, self.y - 4, self.name, PERSON_NAME_SIZE, True, PERSON_LINE),
            text_box(PERSON_LABEL_X, self.note_y, self.note, SMALL_SIZE, False),
        ]


@dataclass(frozen=True)
class Picture:
    width: int
    height: float
    people: list[Person]
    kinds: list[tuple[str, str, str, str]]  # (kind, label, shape, pattern) of nodes drawn
    spine: tuple[float, float]
    #: Where the template draws what every node shares.
    geometry: ClassVar[dict[str, float]] = {
        "spine_x": SPINE_X,
        "person_label_x": PERSON_LABEL_X,
        "shape_x": SHAPE_X,
        "shape_half": SHAPE_HALF,
        "seat_label_x": SEAT_LABEL_X,
        "line": LINE,
        "person_line": PERSON_LINE,
        "margin": MARGIN,
    }

    def boxes(self) -> list[Box]:
        return [
            box for p in self.people for box in p.boxes() + [b for s in p.seats for b in s.boxes()]
        ]


@dataclass(frozen=True)
class Group:
    """What the picture shows of one client: who they are to the centre, and their team."""

    client: Client
    relationship: str  # "" for the client whose circle it is
    team: list[Membership]


def practitioners(count: int) -> str:
    return f"{count} practitioner{'s' if count != 1 else ''}" if count else "no one you can see"


def draw(centre: Group, circle: list[Group], viewer_id: int) -> Picture:
    """Lay out the centre client, their circle (half above, half below) and every team."""
    half = len(circle) // 2
    order = [*circle[:half], centre, *circle[half:]]
    people: list[Person] = []
    y: float = MARGIN + GROUP_PAD
    for group in order:
        person, y = place(group, group is centre, y, viewer_id)
        people.append(person)
        y += GROUP_GAP + GROUP_PAD
    ends = [p.y for p in people] + [s.y for p in people for s in p.seats]
    present = {s.kind for p in people for s in p.seats}
    return Picture(
        width=WIDTH,
        height=y - GROUP_GAP + MARGIN,
        people=people,
        kinds=[(kind, *KINDS[kind]) for kind in KINDS if kind in present],
        spine=(min(ends), max(ends)),
    )


def place(group: Group, is_centre: bool, top: float, viewer_id: int) -> tuple[Person, float]:
    """A client's node at `top`, their practitioners below it; returns where the group ends."""
    client = group.client
    label_width = WIDTH - PERSON_LABEL_X - MARGIN - GROUP_PAD
    kin = "This client" if is_centre else group.relationship
    note = f"{kin} · {practitioners(len(group.team))}"
    name = wrapped(client.full_name, PERSON_NAME_SIZE, label_width, 2, bold=True)
    y = top + PERSON_ROW / 2
    head = top + PERSON_ROW + PERSON_LINE * (len(name) - 1)
    seats: list[Seat] = []
    bottom = head
    for membership in group.team:
        seat = seat_at(client, membership, bottom, viewer_id)
        seats.append(seat)
        bottom = seat.bottom
    person = Person(
        anchor=f"c-{client.id}",
        y=y,
        r=CENTRE_R if is_centre else PERSON_R,
        initials=(client.given_name[:1] + client.family_name[:1]).upper(),
        name=name,
        note=wrapped(note, SMALL_SIZE, label_width, 1),
        label=f"{client.full_name}, {kin.lower()}, {practitioners(len(group.team))}",
        centre=is_centre,
        seats=seats,
        head=head,
        top=top - GROUP_PAD,
        bottom=bottom + GROUP_PAD,
    )
    return person, bottom


def seat_at(client: Client, membership: Membership, top: float, viewer_id: int) -> Seat:
    practitioner = membership.practitioner
    organisation = practitioner.organisation
    kind = kind_of(organisation)
    you = " (you)" if practitioner.id == viewer_id else ""
    width = WIDTH - SEAT_LABEL_X - MARGIN - GROUP_PAD
    name = wrapped(practitioner.name + you, NAME_SIZE, width, 2, bold=True)
    role = wrapped(membership.role, SMALL_SIZE, width, 2)
    height = max(44, 10 + LINE * (len(name) + len(role)))
    return Seat(
        anchor=f"p-{client.id}-{practitioner.id}",
        y=top + height / 2,
        top=top,
        bottom=top + height,
        name=name,
        role=role,
        label=(
            f"{practitioner.name}{you}, {membership.role}, {organisation.name} "
            f"({KINDS[kind][0]}): phone and email"
        ),
        kind=kind,
    )
