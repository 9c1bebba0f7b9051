"""Residence registration and permits: who may hold a 暂住证 / 居住证 in a city on a date.

The national regulation (居住证暂行条例 第二条) gives a permit after six months of residence with one of a stable
job, a stable home or study; Shenzhen 2016 (深府〔2016〕58号 （九）) asks for a stable home AND a stable job; the 2005
temporary permit (深府〔2005〕125号 （七）) asked only for registration of residence. Guangzhou
(穗府〔2016〕3号 （八）) and Chengdu (成府发〔2017〕23号 三（三）1) make the permit the carrier of services
and set no conditions of their own: their variants apply the national rule.
"""

from __future__ import annotations

import numpy as np

from policies.contract import Parameters, Params
from policies.decision import Decision, Points, decide
from policies.schema import PersonColumns

__all__ = ["ROLE", "PARAMETERS", "eligible"]

ROLE = "permit"
PARAMETERS = Parameters(required=("min_months", "requires_job", "requires_home", "job_or_home_suffices"))


def eligible(persons: PersonColumns, params: Params, points: Points | None) -> Decision:
    """居住证暂行条例 第二条 / 深府〔2016〕58号 （九）: months of residence and the home/job conditions of the date.

    ``job_or_home_suffices`` is the national rule (either condition); ``requires_job`` and ``requires_home`` make
    one condition compulsory (Shenzhen 2016 sets both). ``points`` is not read (the model passes None).
    """
    n = len(persons)
    job, home = persons.employed, persons.stable_home
    either = (job | home) if params["job_or_home_suffices"] else np.ones(n, dtype=bool)
    return decide({
        f"fewer than {params['min_months']} months of residence": persons.months_in_city >= params["min_months"],
        "no stable job": job if params["requires_job"] else True,
        "no stable home": home if params["requires_home"] else True,
        "neither a stable job nor a stable home": either,
    }, n)
