"""The one matcher of identifying values (identity_matcher), as people and scanners write them."""
import pytest

from SceneScrubberLib.identity_matcher import IdentityMatcher, masked, matcher_for, value_keys

SCENE_VALUES = ["DOE^JOHN", "MRN-4815-1623", "19700101", "1.2.840.99.1", "Head CT for John Doe", "M", "3", "12345"]


@pytest.mark.parametrize("text", [
    "DOE^JOHN", "Doe_John_T1.nhdr", "John Doe tumor", "DoeJohn", "doe-john", "DOE_JOHN_chest/", "Doe, John",
    "Doe%20John%20mask.nrrd", "JOHN.DOE", "JohnDoe", "Doe", "see john", "MRN-4815-1623", "mrn48151623",
    "MRN 4815 1623", "id 48151623", "19700101", "1970-01-01", "01/01/1970", "1/1/1970", "01.01.70",
    "1 Jan 1970", "Jan 1, 1970", "January 1st 1970", "1970/01/01", "1.2.840.99.1",
])
def test_every_spelling_is_found(text):
    matcher = IdentityMatcher(SCENE_VALUES)
    assert matcher.found_in(text), text
    assert matcher.redact(text) != text


@pytest.mark.parametrize("text", [
    "Does", "Doerr", "Johnson", "JOHNSON", "Patient 1", "Study 2", "Volume 1", "1.2.840.99.10", "11.2.840.99.1",
    "4815", "window 12345", "M", "3: Axial", "axial", "10120", "1970", "Jan 1970",
])
def test_what_is_not_identity_is_left(text):
    assert not IdentityMatcher(SCENE_VALUES).found_in(text), text


def test_the_scrubbers_own_names_and_words_are_never_values():
    matcher = IdentityMatcher(["Patient 1", "Study 3", "Test^Patient"])
    assert not matcher.found_in("Patient 1 / Study 3 / Volume 1")
    assert matcher.found_in("Test Patient") and matcher.found_in("test") is False


def test_a_users_term_of_three_characters_counts_numbers_too():
    assert not IdentityMatcher(["4815"]).found_in("MRN-4815")           # a scene value: too short a number
    assert IdentityMatcher(terms=["4815"]).found_in("MRN-4815")         # a term: any 3+ characters
    assert IdentityMatcher(terms=["abc"]).redact("x abc y") == "x * y"


def test_a_name_spread_over_lines_or_cells_is_matched_word_by_word_never_joined():
    matcher = IdentityMatcher(["Doe^John"])
    assert matcher.redact("Doe\tJohn") == "*\t*" and matcher.redact("Doe\nJohn") == "*\n*"


def test_masking_and_binary_spellings():
    matcher = IdentityMatcher(SCENE_VALUES)
    assert matcher.masked("scene/Doe_John_T1.nhdr") == "scene/D******n_T1.nhdr"
    assert masked("Doe^John") == "D******n (8 characters)"
    forms = matcher.literal_forms()
    assert {b"doe john", b"john doe", b"doe^john", b"doejohn", b"mrn48151623", b"1970-01-01"} <= set(forms)
    assert all(len(form) >= 6 for form in forms)
    assert matcher_for(SCENE_VALUES) is matcher_for(list(reversed(SCENE_VALUES)))


def test_keys_of_a_name_with_numbers_never_join_the_numbers():
    keys, _literals = value_keys("Doe10^John10")
    assert "1010" not in keys and "doe10john10" in keys and "johndoe" in keys


def test_each_of_several_values_is_found_alone():
    matcher = IdentityMatcher(["1.2.840.99.3 1.2.840.99.4", "Doe^John\\Roe^Jane"])
    assert matcher.found_in("uid 1.2.840.99.4") and matcher.found_in("Jane Roe") and matcher.found_in("John Doe")
    assert not IdentityMatcher(["Head CT 2020"]).found_in("Head")       # words of a description: not alone
