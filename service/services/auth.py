"""Who is calling: a Principal, and what each role may see."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    username: str
    role: str  # admin | agent | county | bot
    county: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "agent")

    def can_see_county(self, county: str | None) -> bool:
        return self.sees_everything or (self.role == "county" and county is not None
                                        and county == self.county)
