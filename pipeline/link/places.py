"""Places: ISO 3166-1 codes for the countries (and territories) our records name.

In:  place records (countries, regions, cities, venues), pycountry's copy of the ISO 3166-1
     list (the Debian iso-codes data it ships).
Out: review-file candidates `iso3166-1:XX` for every place whose label or alternative label is
     an ISO 3166-1 name; published, once a person accepted them, as `schema:identifier` with
     the ISO Online Browsing Platform page of the code as the reference (`link_triples`).

Wikidata QIDs of places are added by hand (`method: manual`) with the public page or data
file where the QID is seen (docs/linking.md); online runs then check them for merges like any
accepted item.
"""

from __future__ import annotations

from functools import lru_cache

from .common import Actor, normalise

ISO_PAGE = "https://www.iso.org/obp/ui/#iso:code:3166:"
ISO_AGENCY = "https://www.iso.org/iso-3166-country-codes.html"
ISO_PROPERTY = "ISO 3166-1 alpha-2"


def pycountry_release() -> str:
    """'pycountry 26.2.16 (iso-codes data)': the release the codes were read from."""
    try:
        from importlib.metadata import version

        return f"pycountry {version('pycountry')} (iso-codes data)"
    except Exception:  # noqa: BLE001 - a missing distribution only changes the label
        return "pycountry (iso-codes data)"


@lru_cache(maxsize=1)
def _iso_names() -> dict[str, list[tuple[str, str]]]:
    """normalised name -> [(alpha-2, the name as ISO writes it)]."""
    import pycountry

    out: dict[str, list[tuple[str, str]]] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if not value:
                continue
            forms = [value]
            if ", " in value:  # "Korea, Republic of" is also "Republic of Korea"
                head, _, tail = value.partition(", ")
                forms.append(f"{tail} {head}")
            for form in forms:
                pairs = out.setdefault(normalise(form), [])
                if (country.alpha_2, value) not in pairs:
                    pairs.append((country.alpha_2, value))
    return out


def iso_candidates(place: Actor) -> list[dict]:
    """`iso3166-1:XX` candidates for a place whose name is an ISO 3166-1 name."""
    import pycountry

    found: dict[str, tuple[str, str]] = {}
    for name in place.names:
        if name.kind == "misspelling":
            continue
        for code, iso_name in _iso_names().get(normalise(name.text), []):
            found.setdefault(code, (name.text, iso_name))
    release = pycountry_release()
    out = []
    for code, (ours, iso_name) in sorted(found.items()):
        country = pycountry.countries.get(alpha_2=code)
        official = getattr(country, "official_name", "") or country.name
        evidence = [f"name: our '{ours}' equals the ISO 3166-1 name '{iso_name}' (after "
                    f"normalising case and punctuation; {release})",
                    f"ISO 3166-1: alpha-2 {code}, alpha-3 {country.alpha_3}, numeric "
                    f"{country.numeric}, name '{country.name}'"]
        if place.type != "country":
            evidence.append(f"our record is a {place.type}, not a country: ISO 3166-1 lists "
                            f"'{country.name}' as a country or territory of its own")
        out.append({
            "target": f"iso3166-1:{code}",
            "label": country.name,
            "description": f"ISO 3166-1 {code} / {country.alpha_3} / {country.numeric}: "
                           f"{official}",
            "score": "1.000" if len(found) == 1 else "0.900",
            "method": "iso3166-name-match",
            "match_type": "exact",
            "evidence": evidence,
            "reference": ISO_PAGE + code,
            "reference_release": release,
            "decision": "proposed",
        })
    return out
