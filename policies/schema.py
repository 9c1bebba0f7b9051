"""The person columns every rule reads, their codes, and the points profile of one person.

Rules are pure functions of a ``Persons`` batch: the model builds one from its columnar migrant state for the
migrants a phase concerns, the points calculator builds a batch of one from a profile. The same function then scores
one person and a million migrants (docs/contracts.md §3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import DTypeLike
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "EDUCATION", "TITLE", "SKILL", "HOUSING", "SEX", "INSURANCES", "WINDOW_YEARS",
    "PersonColumns", "Persons", "Profile", "code_of",
]

EDUCATION = ("none", "junior_high", "high_school", "secondary_vocational", "junior_college", "bachelor", "master",
             "doctorate")
TITLE = ("none", "junior", "intermediate", "deputy_senior", "senior")
SKILL = ("none", "grade5", "grade4", "grade3", "grade2", "grade1")  # 初级工, 中级工, 高级工, 技师, 高级技师
HOUSING = ("rented", "owned", "employer", "relative")
SEX = ("female", "male")
INSURANCES = ("pension", "medical", "unemployment", "work_injury", "maternity")
WINDOW_YEARS = 5  # social-service windows (blood donation, volunteering) look back five calendar years


def code_of(table: tuple[str, ...], name: str) -> int:
    """The integer code of a category name (its position in the table)."""
    return table.index(name)


class PersonColumns(Protocol):
    """What a rule reads: the columns of ``Persons`` (meanings and codes there), one entry per person, read-only.

    ``Persons`` has them, and so has the model's ``sim.population.MigrantBatch``, which gathers each column from
    the migrant state on first read: rules take either.
    """

    @property
    def age(self) -> np.ndarray: ...
    @property
    def sex(self) -> np.ndarray: ...
    @property
    def education(self) -> np.ndarray: ...
    @property
    def full_time_degree(self) -> np.ndarray: ...
    @property
    def professional_title(self) -> np.ndarray: ...
    @property
    def skill_level(self) -> np.ndarray: ...
    @property
    def shortage_occupation(self) -> np.ndarray: ...
    @property
    def si_pension(self) -> np.ndarray: ...
    @property
    def si_medical(self) -> np.ndarray: ...
    @property
    def si_unemployment(self) -> np.ndarray: ...
    @property
    def si_work_injury(self) -> np.ndarray: ...
    @property
    def si_maternity(self) -> np.ndarray: ...
    @property
    def residence_permit_months(self) -> np.ndarray: ...
    @property
    def months_in_city(self) -> np.ndarray: ...
    @property
    def housing_type(self) -> np.ndarray: ...
    @property
    def mortgaged(self) -> np.ndarray: ...
    @property
    def home_district(self) -> np.ndarray: ...
    @property
    def work_district(self) -> np.ndarray: ...
    @property
    def employed(self) -> np.ndarray: ...
    @property
    def stable_home(self) -> np.ndarray: ...
    @property
    def tax_paid_3y(self) -> np.ndarray: ...
    @property
    def patents_invention(self) -> np.ndarray: ...
    @property
    def patents_utility(self) -> np.ndarray: ...
    @property
    def blood_donations(self) -> np.ndarray: ...
    @property
    def volunteer_hours(self) -> np.ndarray: ...
    @property
    def criminal(self) -> np.ndarray: ...
    @property
    def bad_credit(self) -> np.ndarray: ...

    def __len__(self) -> int: ...

    def take(self, index: np.ndarray) -> PersonColumns:
        """The sub-batch at ``index`` (an integer index or a boolean mask)."""
        ...


@dataclass(frozen=True)
class Persons:
    """A batch of people as columns (one entry per person), on ``date``.

    Codes index the tables above (``education == 5`` is a bachelor's degree). Months are counted in the city
    whose rules are applied. ``blood_donations`` and ``volunteer_hours`` are ``(n, WINDOW_YEARS)`` arrays, column 0
    the calendar year before ``date``, column 1 the year before that, and so on.
    """

    date: dt.date
    age: np.ndarray                     # whole years
    sex: np.ndarray                     # 0 female, 1 male
    education: np.ndarray               # EDUCATION code
    full_time_degree: np.ndarray        # bool
    professional_title: np.ndarray      # TITLE code
    skill_level: np.ndarray             # SKILL code
    shortage_occupation: np.ndarray     # bool
    si_pension: np.ndarray              # months of each insurance in this city
    si_medical: np.ndarray
    si_unemployment: np.ndarray
    si_work_injury: np.ndarray
    si_maternity: np.ndarray
    residence_permit_months: np.ndarray  # continuous months holding a residence permit in this city
    months_in_city: np.ndarray          # months lived in this city
    housing_type: np.ndarray            # HOUSING code
    mortgaged: np.ndarray               # bool
    home_district: np.ndarray           # adcode of the home
    work_district: np.ndarray           # adcode of the workplace
    employed: np.ndarray                # bool: a legal stable job (labour contract or business licence)
    stable_home: np.ndarray             # bool: a legal stable home (owned, employer, relative, registered lease)
    tax_paid_3y: np.ndarray             # personal income tax paid in this city over the last three tax years, RMB
    patents_invention: np.ndarray
    patents_utility: np.ndarray
    blood_donations: np.ndarray         # (n, WINDOW_YEARS)
    volunteer_hours: np.ndarray         # (n, WINDOW_YEARS)
    criminal: np.ndarray                # bool
    bad_credit: np.ndarray              # bool

    def __len__(self) -> int:
        return int(self.age.shape[0])

    def take(self, index: np.ndarray) -> Persons:
        """The sub-batch at ``index`` (an integer index or a boolean mask)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return Persons(**{k: (v if k == "date" else v[index]) for k, v in values.items()})

    @classmethod
    def from_profiles(cls, profiles: list[Profile], date: dt.date) -> Persons:
        """A batch built from points profiles (the calculator's input)."""
        def col(get: Callable[[Profile], Any], dtype: DTypeLike) -> np.ndarray:
            return np.array([get(p) for p in profiles], dtype=dtype)

        def window(get: Callable[[Profile], Mapping[int, float]]) -> np.ndarray:
            rows = []
            for p in profiles:
                by_year = get(p)
                rows.append([by_year.get(date.year - 1 - k, 0) for k in range(WINDOW_YEARS)])
            return np.array(rows, dtype=np.float32).reshape(len(profiles), WINDOW_YEARS)

        si = {name: col(attrgetter(f"social_insurance_months.{name}"), np.int32) for name in INSURANCES}
        return cls(
            date=date,
            age=col(lambda p: p.age, np.int32),
            sex=col(lambda p: code_of(SEX, p.sex), np.int8),
            education=col(lambda p: code_of(EDUCATION, p.education), np.int8),
            full_time_degree=col(lambda p: p.full_time_degree, bool),
            professional_title=col(lambda p: code_of(TITLE, p.professional_title), np.int8),
            skill_level=col(lambda p: code_of(SKILL, p.skill_level), np.int8),
            shortage_occupation=col(lambda p: p.shortage_occupation, bool),
            si_pension=si["pension"], si_medical=si["medical"], si_unemployment=si["unemployment"],
            si_work_injury=si["work_injury"], si_maternity=si["maternity"],
            residence_permit_months=col(lambda p: p.residence_permit_months, np.int32),
            months_in_city=col(lambda p: max(p.months_in_city, p.residence_permit_months), np.int32),
            housing_type=col(lambda p: code_of(HOUSING, p.housing.type), np.int8),
            mortgaged=col(lambda p: p.housing.mortgaged, bool),
            home_district=col(lambda p: p.housing.district, np.int32),
            work_district=col(lambda p: p.work_district, np.int32),
            employed=col(lambda p: p.employed, bool),
            stable_home=col(lambda p: p.housing.type != "rented" or p.housing.registered_lease, bool),
            tax_paid_3y=col(lambda p: p.tax_paid_3y, np.float64),
            patents_invention=col(lambda p: p.patents.invention, np.float32),
            patents_utility=col(lambda p: p.patents.utility_model, np.float32),
            blood_donations=window(lambda p: p.blood_donations_by_year),
            volunteer_hours=window(lambda p: p.volunteer_hours_by_year),
            criminal=col(lambda p: p.record.criminal, bool),
            bad_credit=col(lambda p: p.record.bad_credit, bool),
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InsuranceMonths(_Strict):
    """Months of each of the five social insurances paid in this city (least favourable default: none)."""

    pension: int = Field(0, ge=0, le=1200)
    medical: int = Field(0, ge=0, le=1200)
    unemployment: int = Field(0, ge=0, le=1200)
    work_injury: int = Field(0, ge=0, le=1200)
    maternity: int = Field(0, ge=0, le=1200)


class Housing(_Strict):
    """Where the person lives and on what terms."""

    type: Literal["rented", "owned", "employer", "relative"] = "rented"
    mortgaged: bool = False
    registered_lease: bool = Field(False, description="a rented home whose lease is registered (租赁登记备案): a "
                                   "stable home for the channels' conditions; no points table scores it")
    district: int = Field(0, ge=0, description="adcode of the home district (0 = unknown)")


class Patents(_Strict):
    """Granted patents, counted as the points tables count them."""

    invention: float = Field(0, ge=0)
    utility_model: float = Field(0, ge=0)


class Record(_Strict):
    """Criminal and credit record (deductions and exclusions)."""

    criminal: bool = False
    bad_credit: bool = False


class Profile(_Strict):
    """One person's points profile (docs/contracts.md §6); every key optional except ``age`` and ``education``.

    Defaults are the least favourable value, so a profile that leaves a key out never gains points from it.
    """

    age: int = Field(ge=0, le=120)
    sex: Literal["female", "male"] = "female"
    education: Literal["none", "junior_high", "high_school", "secondary_vocational", "junior_college",
                       "bachelor", "master", "doctorate"]
    full_time_degree: bool = False
    professional_title: Literal["none", "junior", "intermediate", "deputy_senior", "senior"] = "none"
    skill_level: Literal["none", "grade5", "grade4", "grade3", "grade2", "grade1"] = "none"
    shortage_occupation: bool = False
    social_insurance_months: InsuranceMonths = InsuranceMonths()
    residence_permit_months: int = Field(0, ge=0, le=1200)
    months_in_city: int = Field(0, ge=0, le=1200)
    employed: bool = False
    housing: Housing = Housing()
    work_district: int = Field(0, ge=0)
    tax_paid_3y: float = Field(0, ge=0)
    patents: Patents = Patents()
    blood_donations_by_year: dict[int, int] = {}
    volunteer_hours_by_year: dict[int, float] = {}
    record: Record = Record()
    family_hukou_member: bool = Field(False, description="a spouse, parent or child who holds this city's hukou "
                                      "(family entry, 政策性迁户/投靠, is for them)")

    @field_validator("blood_donations_by_year", "volunteer_hours_by_year")
    @classmethod
    def _non_negative(cls, value: dict[int, float]) -> dict[int, float]:
        for year, amount in value.items():
            if amount < 0:
                raise ValueError(f"negative amount in year {year}")
        return value
