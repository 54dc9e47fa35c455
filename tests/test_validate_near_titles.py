"""The near-duplicate title index finds exactly what comparing every pair would find."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecdigest.validate import NEAR_TITLE, NearTitles, _bigrams, dice

# A small alphabet makes near-duplicates common, which is where a filter could miss one.
titles = st.text(alphabet="电商直播快递跨境数字平台发展", min_size=2, max_size=14)


@settings(max_examples=200, deadline=None)
@given(st.lists(titles, min_size=1, max_size=40), titles)
def test_prefix_filter_equals_brute_force(corpus: list[str], query: str) -> None:
    sets = [_bigrams(t) for t in corpus]
    index = NearTitles(sets)
    for q in [*sets, _bigrams(query)]:
        brute = sorted(n for n, s in enumerate(sets) if s and dice(q, s) >= NEAR_TITLE)
        assert sorted(n for _, n in index.matches(q)) == brute
