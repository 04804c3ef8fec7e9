"""The open link's form is served from memory, yet never after its survey or departments changed."""

from __future__ import annotations

import re

from helpers import csrf_token


def test_each_visitor_gets_the_same_page_with_its_own_token(app):
    """New visitors get the cached page, each with a token of its own that its session accepts."""
    pages = [app.test_client().get("/s/acme").get_data(as_text=True) for _ in range(3)]
    tokens = [csrf_token(page) for page in pages]
    keys = [re.search(r'name="form_key" value="([0-9a-f]{32})"', page).group(1) for page in pages]
    assert len(set(tokens)) == 3 and len(set(keys)) == 3  # one form key per rendered form, too
    bare = {page.replace(token, "").replace(key, "") for page, token, key in zip(pages, tokens, keys, strict=True)}
    assert len(bare) == 1


def test_changes_committed_by_another_connection_show_on_the_next_visit(client, db):
    """Another worker or a command renaming a department or closing the survey is seen at once."""
    assert "Beta" in client.get("/s/acme").get_data(as_text=True)
    db.execute("UPDATE departments SET name = 'Renamed' WHERE code = 'B'")
    db.conn.commit()
    page = client.get("/s/acme").get_data(as_text=True)
    assert "Renamed" in page and "Beta" not in page
    db.execute("UPDATE surveys SET status = 'closed' WHERE slug = 'acme'")
    db.conn.commit()
    assert "This survey is closed" in client.get("/s/acme").get_data(as_text=True)
