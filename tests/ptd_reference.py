"""NHSRplotthedots, translated line by line into plain Python loops, as the oracle the
vectorised `metrics.spc` is checked against (tests only; never imported by the app).

Sources (nhs-r-community/NHSRplotthedots): `R/ptd_spc_standard.R` (mean, limits, close to the
limits; `screen_outliers = FALSE`, the NHS Excel tool's convention), `R/ptd_calculate_point_type.R`
(the rules, their precedence in `ptd_special_cause_type`, and `ptd_point_type`),
`R/ptd_calculate_assurance_type.R` (assurance on the last point).
"""

from __future__ import annotations

import math


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _part_of_seven(v: list[int]) -> list[int]:
    """`ptd_part_of_seven_trend`: a point is part when it or one of the next 6 is flagged."""
    vp = v + [0] * 6
    return [int(any(abs(vp[i + k]) == 1 for k in range(7))) for i in range(len(v))]


def _seven_one_side(rtm: list[int]) -> list[int]:
    """`ptd_seven_point_one_side_mean`."""
    vp = [0] * 6 + rtm
    return [
        int(all(vp[i] == vp[i - k] for k in range(1, 7)) and vp[i] != 0)
        for i in range(6, len(rtm) + 6)
    ]


def _seven_trend(y: list[float]) -> list[int]:
    """`ptd_seven_point_trend`: +1 for the 7th of 7 rising points, -1 falling."""
    if len(y) < 7:
        return [0] * len(y)
    out = [0] * 6
    for i in range(6, len(y)):
        window = [y[i - k] for k in range(7)]  # y[i - 0:6]
        d = [-_sign(window[k + 1] - window[k]) for k in range(6)]
        out.append(1 if all(x == 1 for x in d) else -1 if all(x == -1 for x in d) else 0)
    return out


def _two_in_three(close: list[int], rtm: list[int]) -> list[int]:
    """`ptd_two_in_three`."""
    vp, rp = [0, 0, *close, 0, 0], [0, 0, *rtm, 0, 0]
    out = []
    for i in range(len(close)):
        out.append(
            int(
                any(
                    sum(vp[i + s : i + s + 3]) >= 2 and abs(sum(rp[i + s : i + s + 3])) == 3
                    for s in range(3)
                )
            )
        )
    return out


def limits(y: list[float], fix_after: int | None = None) -> tuple[float, float, float]:
    """Mean, lower and upper process limits (`ptd_spc_standard`, no outlier screening)."""
    fixed = y[:fix_after] if fix_after else y
    mean = sum(fixed) / len(fixed)
    ranges = [abs(fixed[i] - fixed[i - 1]) for i in range(1, len(fixed))]
    amr = sum(ranges) / len(ranges) if ranges else math.nan
    return mean, mean - 2.66 * amr, mean + 2.66 * amr


def point_types(y: list[float], improvement: int, fix_after: int | None = None) -> list[str]:
    """`ptd_calculate_point_type` for one series: each point's point_type."""
    mean, lpl, upl = limits(y, fix_after)
    amr = (upl - mean) / 2.66
    nlpl, nupl = mean - 2 * (2.66 / 3) * amr, mean + 2 * (2.66 / 3) * amr
    outside = [int(v > upl or v < lpl) for v in y]
    rtm = [_sign(v - mean) for v in y]
    close = [int(not o and (v < nlpl or v > nupl)) for v, o in zip(y, outside, strict=True)]
    trend = _part_of_seven(_seven_trend(y))
    two = [int(a == 1 and c == 1) for a, c in zip(_two_in_three(close, rtm), close, strict=True)]
    side = _part_of_seven(_seven_one_side(rtm))
    sdy = [_sign(y[i + 1] - y[i]) for i in range(len(y) - 1)]
    right = [*sdy, sdy[-1] if sdy else 0]
    left = [0, *sdy]
    nxt = [*trend[1:], 0]
    direction = [right[i] if (nxt[i] and trend[i]) else left[i] for i in range(len(y))]
    types = []
    for i in range(len(y)):
        if outside[i]:
            v = 1 if rtm[i] == 1 else -1
        elif trend[i]:
            v = 1 if direction[i] == 1 else -1
        elif two[i] or side[i]:
            v = 1 if rtm[i] > 0 else -1
        else:
            v = 0
        if v == 0:
            types.append("common_cause")
        elif improvement == 0:
            types.append("special_cause_neutral_" + ("high" if v > 0 else "low"))
        else:
            types.append(
                "special_cause_improvement" if v * improvement > 0 else "special_cause_concern"
            )
    return types


def assurance_type(y: list[float], improvement: int, target: float | None) -> str | None:
    """`ptd_calculate_assurance_type` on the last point."""
    if target is None or improvement == 0:
        return None
    _, lpl, upl = limits(y)
    if target > upl:
        return "consistent_fail" if improvement == 1 else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if improvement == 1 else "consistent_fail"
    return "inconsistent"
