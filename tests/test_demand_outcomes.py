"""Outcomes of demands as claims of their own spans, and demands.outcome derived from them."""

from __future__ import annotations

import pytest

from pipeline.engine.build import assemble
from pipeline.errors import BuildFailed
from pipeline.metadata import load_metadata
from tests.conftest import ROOT

META = load_metadata(ROOT / "datapackage.json")

# A second file on the same source: a claim about a demand defined in mini-news.yaml.
ENDED_FILE = """source: mini-news
spans:
  - span_id: mini-ended
    label: outcome
    quote: "The strike ended."
    outcomes:
      - demand_id: mini-demand-prices
        outcome: {outcome}
        claimant: {claimant}
"""


def _outcome_spans(raw, *claims: tuple[str, str]) -> None:
    for i, (outcome, claimant) in enumerate(claims):
        text = ENDED_FILE.format(outcome=outcome, claimant=claimant).replace("mini-ended", f"mini-ended-{i}")
        (raw / "annotations" / f"mini-outcome-{i}.yaml").write_text(text, encoding="utf-8")


def _demand_outcome(raw) -> str:
    (demand,) = assemble(raw, META).rows["demands"]
    return demand["outcome"]


def test_a_demand_without_outcome_claims_is_unknown(mini_raw):
    assert _demand_outcome(mini_raw) == "unknown"


def test_an_outcome_claim_from_another_file_sets_the_demands_outcome(mini_raw):
    _outcome_spans(mini_raw, ("met", "the article"))
    tables = assemble(mini_raw, META)
    (claim,) = tables.rows["demand_outcomes"]
    assert claim == {
        "outcome_id": "mini-ended-0-mini-demand-prices",
        "demand_id": "mini-demand-prices",
        "outcome": "met",
        "claimant": "the article",
        "span_id": "mini-ended-0",
    }
    assert tables.rows["demands"][0]["outcome"] == "met"


@pytest.mark.parametrize(
    "claims,expected",
    [
        ((("met", "a"), ("rejected", "b")), "disputed"),
        ((("partly_met", "a"), ("met", "b")), "disputed"),
        ((("rejected", "a"), ("unknown", "b")), "rejected"),
        ((("unknown", "a"),), "unknown"),
    ],
)
def test_disagreeing_claims_make_the_outcome_disputed(mini_raw, claims, expected):
    _outcome_spans(mini_raw, *claims)
    assert _demand_outcome(mini_raw) == expected


def test_an_outcome_written_on_the_demand_is_refused(mini_raw):
    ann = mini_raw / "annotations" / "mini-news.yaml"
    ann.write_text(
        ann.read_text(encoding="utf-8").replace(
            "        category: prices\n", "        category: prices\n        outcome: met\n"
        ),
        encoding="utf-8",
    )
    line = ann.read_text(encoding="utf-8").splitlines().index("        outcome: met") + 1
    with pytest.raises(BuildFailed) as failed:
        assemble(mini_raw, META)
    assert str(failed.value).splitlines()[0] == (
        f"raw/annotations/mini-news.yaml:{line}: 'outcome' is not written in demands of span 'mini-demand': the build derives it; "
        "write the outcome as an 'outcomes:' claim (demand_id, outcome, claimant) on the span whose sentence states it"
    )


def test_an_outcome_of_an_unknown_demand_is_refused(mini_raw):
    _outcome_spans(mini_raw, ("met", "the article"))
    path = mini_raw / "annotations" / "mini-outcome-0.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("mini-demand-prices", "mini-demand-wages"), encoding="utf-8"
    )
    with pytest.raises(BuildFailed) as failed:
        assemble(mini_raw, META)
    assert "mini-demand-wages" in str(failed.value) and "demand_outcomes" in str(failed.value)


def test_estimates_of_a_parent_event_include_its_sub_events_claims(mini_raw):
    ann = mini_raw / "annotations" / "mini-news.yaml"
    text = (
        ann.read_text(encoding="utf-8")
        .replace(
            """actors:
""",
            """  - event_id: krasny-shooting-1962
    name: Shooting at the Krasny works
    event_type: massacre
    parent_event_id: krasny-strike-1962
    country: SU
    description: A made-up shooting inside the made-up strike.
actors:
""",
            1,
        )
        .replace(
            """  - span_id: mini-killed-3
    label: casualty
    quote: "officials said 3 were killed"
    event_id: krasny-strike-1962""",
            """  - span_id: mini-killed-3
    label: casualty
    quote: "officials said 3 were killed"
    event_id: krasny-shooting-1962""",
        )
    )
    ann.write_text(text, encoding="utf-8")
    estimates = {r["event_id"]: r for r in assemble(mini_raw, META).rows["casualty_estimates"]}
    parent, child = estimates["krasny-strike-1962"], estimates["krasny-shooting-1962"]
    assert (parent["low"], parent["high"], parent["n_claims"], parent["includes_sub_events"]) == (3, 12, 2, True)
    assert (child["low"], child["high"], child["n_claims"], child["includes_sub_events"]) == (3, 3, 1, False)
