"""/api/docs runs Swagger UI from the portal's own files (the pinned fastapi-offline package), no CDN."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.api.conftest import Api

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def referenced(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


def test_the_docs_page_references_only_the_portals_own_origin(api: Api) -> None:
    page = api.anonymous.get("/api/docs")
    assert page.status_code == 200
    html = page.text
    assert "SwaggerUIBundle" in html
    assert "://" not in html  # no https:// (nor protocol-relative //) address of any other host
    urls = referenced(html)
    assert len(urls) >= 3  # the script, the styles, the icon
    for url in urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        assert not urlsplit(url).netloc
    assert '"validatorUrl": null' in html  # no schema sent to swagger.io's validator


def test_the_docs_script_styles_and_icon_load_from_the_portal(api: Api) -> None:
    html = api.anonymous.get("/api/docs").text
    for url in referenced(html):
        asset = api.anonymous.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert ASSET_TYPES[suffix] in asset.headers["content-type"], url
        assert len(asset.content) > 1000, url
    script = api.anonymous.get("/api/docs/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in script
    # Swagger UI 5 or later: it reads the OpenAPI 3.1 schema FastAPI writes (version 4 refuses it).
    assert api.anonymous.get("/api/openapi.json").json()["openapi"].startswith("3.1")


def test_nothing_outside_the_assets_folder_is_served(api: Api) -> None:
    assert api.anonymous.get("/api/docs/assets/%2e%2e/core.py").status_code == 404
    assert api.anonymous.get("/api/docs/assets/nothing.js").status_code == 404
