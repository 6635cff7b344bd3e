"""GCJ-02 → WGS-84 (generator/outputs/geo.py), checked against the forward transform and a
known point: converting back gives the 高德 coordinates to well under a metre."""

from __future__ import annotations

import math

import prcoords
import pytest

from generator.outputs.geo import wgs84


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[0] + b[0]) / 2)
    return math.hypot((a[0] - b[0]) * 111_320, (a[1] - b[1]) * 111_320 * math.cos(lat))


@pytest.mark.parametrize("gcj", [(39.90872, 116.39747), (31.8106, 119.9741), (30.5728, 104.0668),
                                 (35.3268, 113.9153), (22.5431, 114.0579)])
def test_round_trip_within_a_metre(gcj: tuple[float, float]) -> None:
    w = wgs84(*gcj)
    back = prcoords.wgs_gcj(prcoords.Coords(*w))
    assert metres((back.lat, back.lon), gcj) < 0.5
    assert 100 < metres(w, gcj) < 1000, "GCJ-02 is a few hundred metres off WGS-84 in China"


def test_known_point() -> None:
    # 天安门 as 高德 gives it, and its WGS-84 position (as published with the transform)
    assert metres(wgs84(39.90872, 116.39747), (39.907319, 116.391229)) < 1


def test_outside_china_unchanged() -> None:
    assert wgs84(48.85, 2.35) == (48.85, 2.35)
