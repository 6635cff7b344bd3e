"""Coordinates: the YAML holds GCJ-02 (as 高德 gives them); standards that mean WGS-84
(iCalendar GEO, schema.org GeoCoordinates, open data ``lat_wgs84``) get converted values.

prcoords implements the published GCJ-02 transform and its precise inverse (Caijun 2014,
iterated to ~0.1 mm), so the conversion is not hand-written here."""

from __future__ import annotations

from functools import lru_cache

import prcoords


@lru_cache(maxsize=1 << 16)  # venues repeat; feeds, pages and open data all ask
def wgs84(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84, rounded to 6 decimals (~0.1 m, beyond the data's own accuracy).
    Points outside mainland China are returned unchanged, as the transform does not apply."""
    here = prcoords.Coords(lat, lng)
    if not prcoords.sanity_in_china_p(here):  # the precise inverse would shift these too
        return lat, lng
    p = prcoords.gcj_wgs_bored(here)
    return round(p.lat, 6), round(p.lon, 6)
