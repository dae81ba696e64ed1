"""The country list for address forms: ISO 3166 codes and names from pycountry, sorted by name."""

from __future__ import annotations

import pycountry

COUNTRIES = {country.alpha_2: country.name for country in sorted(pycountry.countries, key=lambda c: c.name)}
