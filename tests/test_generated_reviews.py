"""The offline stand-in ``generated-long`` shows the SimpleRNN/LSTM gap question 5 asks about.

A SimpleRNN in effect uses only the last few dozen words of a review (its gradients vanish over
longer spans). In a long ``generated-long`` review those last words argue a side drawn at
random: the verdict sits earlier, inside the 500 words the lab keeps. Shorter reviews spread
their verdict evenly, so the last words still carry it. Checked here without training a
network: a bag-of-words logistic regression (scikit-learn, deterministic) reads a chosen
stretch of each padded review. ``benchmarks/lab_accuracy.py --imdb generated-long`` measures the
gap itself.
"""

import keras
import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

import lab_support

RECENT_WORDS = 50  # what "the last few dozen words" stands for in these tests
END = lab_support.MAX_REVIEW_LENGTH
CLOSING = lab_support.CLOSING_WORDS


def padded_reviews(source: str, reviews: int = 4_000):
    """Training and test splits as the lab loads them, with each review's length in words."""
    raw = lab_support._raw_imdb(source)
    limits = (reviews, reviews)
    splits = []
    for x, y in lab_support.keras_postprocess(raw, limits=limits):
        padded = keras.utils.pad_sequences(x, maxlen=END)
        words = np.array([len(review) - 1 for review in x])  # less the start marker
        splits.append((padded, np.asarray(y), words))
    return splits


@pytest.fixture(scope="module")
def long_source():
    return padded_reviews(lab_support.GENERATED_LONG_SOURCE)


@pytest.fixture(scope="module")
def even_source():
    return padded_reviews(lab_support.GENERATED_SOURCE)


def bag_of_words(padded: np.ndarray, first: int, last: int):
    """Word counts over window positions [first, last) of padded reviews (padding and the
    start and unknown markers left out)."""
    part = padded[:, first:last]
    rows = np.repeat(np.arange(len(part)), part.shape[1])
    words = part.ravel()
    keep = words > lab_support.OOV_CHAR
    return sparse.csr_matrix(
        (np.ones(keep.sum()), (rows[keep], words[keep])),
        shape=(len(part), lab_support.VOCABULARY_SIZE),
    )


def accuracy(splits, which, first: int, last: int = END) -> float:
    """Test accuracy of a logistic regression on window positions [first, last) of the
    reviews that ``which`` picks by length."""
    (x_train, y_train, n_train), (x_test, y_test, n_test) = splits
    train, test = which(n_train), which(n_test)
    model = LogisticRegression(C=1.0, max_iter=2_000)
    model.fit(bag_of_words(x_train[train], first, last), y_train[train])
    return model.score(bag_of_words(x_test[test], first, last), y_test[test])


def long(words):
    return words >= lab_support.LONG_REVIEW_WORDS


def short(words):
    return words < lab_support.LONG_REVIEW_WORDS


def test_about_one_review_in_four_is_long(long_source):
    (_, y_train, words), _ = long_source
    assert 0.15 < long(words).mean() < 0.35
    assert 0.45 < y_train[long(words)].mean() < 0.55  # length says nothing about the verdict
    assert (words >= END).mean() > 0.03  # some are cut to their last 500 words


def test_the_last_words_of_a_long_review_do_not_give_its_verdict(long_source):
    assert accuracy(long_source, long, END - RECENT_WORDS) < 0.6
    assert accuracy(long_source, long, END - CLOSING) < 0.6


def test_a_long_review_states_its_verdict_before_its_closing(long_source):
    assert accuracy(long_source, long, 0, END - CLOSING) > 0.95
    assert accuracy(long_source, long, 0) > 0.9  # the whole kept window: what an LSTM reads


def test_the_last_words_of_a_short_review_still_carry_its_verdict(long_source):
    assert accuracy(long_source, short, END - RECENT_WORDS) > 0.9


def test_the_grading_source_spreads_the_verdict_evenly(even_source):
    """What the grader trains on has no closing: its last words give the verdict away, so a
    small budget trains every valid model steadily (the thresholds are calibrated on it)."""
    assert accuracy(even_source, long, END - RECENT_WORDS) > 0.9


def test_the_two_sources_differ_only_in_the_closings():
    even = lab_support.generate_raw_imdb(300, 300)
    argued = lab_support.generate_raw_imdb(300, 300, argued_closing=True)
    for split in ("train", "test"):
        assert np.array_equal(even[f"y_{split}"], argued[f"y_{split}"])
        for a, b in zip(even[f"x_{split}"], argued[f"x_{split}"], strict=True):
            assert len(a) == len(b)
            kept = len(a) if len(a) < lab_support.LONG_REVIEW_WORDS else len(a) - CLOSING
            assert a[:kept] == b[:kept]
