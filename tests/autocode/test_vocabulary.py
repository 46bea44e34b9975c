"""The shipped codebook's vocabulary on fictional interview sentences (none from the sample).

Each sentence is written the way managers, cluster managers and public advisers talk (bokmål,
nynorsk, spoken word order, loanwords); the tests check the top codes `codebooks/klynge.yaml`
assigns, that false friends stay uncoded, and that negated statements carry the negated flag.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.autocode import CompiledCodebook
from qualcode.codebook import load_codebook

KLYNGE = Path(__file__).resolve().parents[2] / "codebooks" / "klynge.yaml"


@pytest.fixture(scope="module")
def klynge() -> CompiledCodebook:
    """The project's codebook, compiled once for this module."""
    return CompiledCodebook(load_codebook(KLYNGE))


def top_codes(compiled: CompiledCodebook, text: str) -> set[str]:
    return {path.split("/", 1)[0] for path in compiled.code_text(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # forankring: management ownership, time set aside, one enthusiast, daily rush, region
        ("Ledelsen står bak dette, og vi har satt av timer til klyngearbeidet hver måned.", "forankring"),
        ("Det er bare én person her som vet hva klyngen driver med.", "forankring"),
        ("Hos oss er det drifta som går føre, klynga er det første som ryk når det blir travelt.", "forankring"),
        ("Vi har ingen mål for medlemskapet, vi er med fordi naboen er med.", "forankring"),
        ("Halve bygda har jobba på smelteverket i generasjoner, det sitter i veggene.", "forankring"),
        # tillit: spoken and nynorsk word order, sharing failures, fear of sharing
        ("Eg stolar meir på dei no enn for fem år sidan.", "tillit"),
        ("Folk er rause og deler erfaringer, vi lærer av hverandre.", "tillit"),
        ("På samlingene forteller de faktisk om det som gikk galt i fjor.", "tillit"),
        ("Mange er redde for å skrive noe i forumet som alle kan lese.", "tillit"),
        # samkonkurranse: rules for talking prices, joint bids, outsiders
        ("Vi snakker aldri om timepriser med de andre leverandørene.", "samkonkurranse"),
        ("Me er for små åleine, så me la inn eit felles tilbod med to andre.", "samkonkurranse"),
        ("Når det kommer et stort firma utenfra, så står vi sammen.", "samkonkurranse"),
        ("Compliance-folka har gått gjennom konkurranseloven med oss før samlingene.", "samkonkurranse"),
        # fasilitering: what a cluster management concretely does
        ("Klyngeledelsen har en fadderordning som satte oss i kontakt med en større bedrift.", "fasilitering"),
        ("Kurset i regi av klyngen var nyttig for lærlingene.", "fasilitering"),
        ("Vi i administrasjonen har medlemssamtaler med alle bedriftene hvert år.", "fasilitering"),
    ],
)
def test_realistic_phrasings_get_their_code(klynge: CompiledCodebook, text: str, expected: str) -> None:
    assert expected in top_codes(klynge, text)


@pytest.mark.parametrize(
    ("text", "not_expected"),
    [
        ("Helt ærlig, jeg lever litt fra uke til uke om dagen.", "tillit"),
        ("Jeg lurer på om det blir regn i morgen.", "tillit"),
        ("Hun er tillitsvalgt for sveiserne.", "tillit"),
        ("Vi er konkurransedyktige på pris, det er det viktigste.", "samkonkurranse"),
        ("Fasilitetene på verkstedet er gamle.", "fasilitering"),
        ("Vi hadde et møte med banken om lånet.", "fasilitering"),
        ("Oppgaven er godt forankret i teorien om næringsklynger.", "forankring"),
        ("Jeg er daglig leder, og vi har tolv ansatte.", "forankring"),
        ("Vi har leid nye lokaler like ved kaia.", "forankring"),
    ],
)
def test_false_friends_and_passing_mentions_stay_uncoded(
    klynge: CompiledCodebook, text: str, not_expected: str
) -> None:
    assert not_expected not in top_codes(klynge, text)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Vi har aldri hatt noen tillit til dem.", "tillit"),
        ("Ingen hos oss har hørt om klyngen.", "forankring"),
        ("Det har aldri vært forankret i ledelsen.", "forankring"),
        ("Vi snakker aldri om timepriser med dem.", "samkonkurranse"),
        ("Me har ikkje vore på ei klyngesamling på to år.", "fasilitering"),
    ],
)
def test_negated_statements_are_coded_and_flagged(klynge: CompiledCodebook, text: str, code: str) -> None:
    coded = klynge.code_text(text)
    matches = [m for path, ms in coded.items() if path.split("/", 1)[0] == code for m in ms]
    assert matches, f"{code} not coded in {text!r}"
    assert any(m.negated for m in matches)


def test_generic_meeting_word_is_not_an_arena(klynge: CompiledCodebook) -> None:
    """«møte» is too common to code fasilitering, even beside one weak arena word; two arenas do."""
    assert "fasilitering" not in top_codes(klynge, "Vi hadde et møte på kontoret.")
    assert "fasilitering" not in top_codes(klynge, "Vi møtes på konferansen i Bergen.")
    assert "fasilitering" in top_codes(klynge, "Vi var på konferansen og på et seminar etterpå.")
