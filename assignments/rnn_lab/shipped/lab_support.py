"""Support code for the recurrent-networks lab.

This module ships next to the student notebook. It loads the data, applies the
training budget of the active profile and holds the adder's character table.
It contains no solution to any exercise.

Choosing the data (environment variable ``RNNLAB_IMDB`` or the ``source`` argument):
  * ``keras``      the real IMDB reviews, downloaded and cached by Keras (default);
  * ``generated``  a synthetic stand-in in the same format, for offline work;
  * ``generated-long``  the same, but long reviews end with a closing that argues a random
                   side, so that the SimpleRNN/LSTM gap of question 5 shows offline too
                   (the grader trains on ``generated``, which small budgets learn steadily);
  * a file path    a local copy of Keras' ``imdb.npz``.

Choosing the budget (environment variable ``RNNLAB_PROFILE``):
  * ``full``     the lab as written (default when you run the notebook yourself);
  * ``grading``  small subsets and few epochs, chosen automatically by the grader;
  * ``smoke``    tiny, for the toolkit's own tests.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from labkit.profiles import (  # noqa: F401  (set_seeds: for the notebook and the checks)
    GradingLimits,
    import_keras_quietly,
    in_a_notebook,
    profiles_beside,
    set_seeds,
)
from labkit.profiles import active_profile as _active_profile

VOCABULARY_SIZE = 10_000
MAX_REVIEW_LENGTH = 500
EMBEDDING_DIM = 100

ALPHABET = "0123456789+ "
MAX_OPERAND = 999
QUESTION_LENGTH = 7  # "999+999"
ANSWER_LENGTH = 4  # "1998"

import_keras_quietly()

PROFILE_ENV = "RNNLAB_PROFILE"
IMDB_SOURCE_ENV = "RNNLAB_IMDB"
DATA_ENV = IMDB_SOURCE_ENV  # the name the toolkit reads (autograder.lab.folder)
DEFAULT_IMDB_SOURCE = "keras"
GENERATED_SOURCE = "generated"
GENERATED_LONG_SOURCE = "generated-long"

# Keras' own post-processing of imdb.npz (keras.datasets.imdb.load_data defaults).
KERAS_SHUFFLE_SEED = 113
START_CHAR = 1
OOV_CHAR = 2
INDEX_FROM = 3


@dataclass(frozen=True)
class Profile(GradingLimits):
    """A training budget, and the limits a graded run has in it (``GradingLimits``). ``None``
    means "as much as the lab asks for".

    In a grading run the notebook's own training is skipped (``notebook_epochs`` 0): the
    grade comes from fresh copies the checker trains. The checks' budget is what the
    accuracy thresholds are calibrated against.
    """

    name: str
    train_reviews: int | None  # reviews an accuracy check trains on (and the notebook loads)
    test_reviews: int | None  # held-out reviews an accuracy check measures on
    check_epochs: int  # epochs an accuracy check trains a fresh copy of a model for
    adder_problems: int  # additions the adder check trains on (and the notebook generates)
    adder_check_epochs: int
    notebook_epochs: int | None  # cap on the epochs of the notebook's own training
    notebook_examples: int | None  # cap on the examples the notebook's own training uses


# The budgets themselves are data: profiles.toml beside this file, checked against Profile.
PROFILES = profiles_beside(__file__, Profile)


def active_profile() -> Profile:
    """The profile named by ``RNNLAB_PROFILE``, else ``grading`` in a grading run, else ``full``."""
    return _active_profile(PROFILES, PROFILE_ENV)


# --------------------------------------------------------------------------- IMDB data


@dataclass(frozen=True)
class ImdbData:
    """Padded reviews and 0/1 labels, as the lab uses them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def imdb_source_name(source: str | None = None) -> str:
    """``keras``, ``generated``, ``generated-long`` or a path: the argument, else
    ``RNNLAB_IMDB``, else ``keras``."""
    return source or os.environ.get(IMDB_SOURCE_ENV) or DEFAULT_IMDB_SOURCE


def imdb_source_kind(source: str | None = None) -> str:
    """The source's name for a synthetic stand-in, ``imdb`` for the real reviews (any copy)."""
    name = imdb_source_name(source)
    return name if name in (GENERATED_SOURCE, GENERATED_LONG_SOURCE) else "imdb"


def load_imdb(source: str | None = None, profile: Profile | None = None) -> ImdbData:
    """Load the reviews, keep the profile's share of them and pad each to 500 tokens."""
    profile = profile or active_profile()
    return _padded_imdb(imdb_source_name(source), profile.train_reviews, profile.test_reviews)


@lru_cache(maxsize=2)
def _padded_imdb(source: str, train_reviews: int | None, test_reviews: int | None) -> ImdbData:
    """Cached as compact padded arrays: the raw reviews, lists of Python ints, take about
    ten times the memory and are dropped as soon as the kept share is padded."""
    import keras

    limits = (train_reviews, test_reviews)
    (x_train, y_train), (x_test, y_test) = keras_postprocess(_raw_imdb(source), limits=limits)
    return ImdbData(
        x_train=keras.utils.pad_sequences(x_train, maxlen=MAX_REVIEW_LENGTH),
        y_train=np.asarray(y_train),
        x_test=keras.utils.pad_sequences(x_test, maxlen=MAX_REVIEW_LENGTH),
        y_test=np.asarray(y_test),
        source=source,
    )


@dataclass(frozen=True)
class RawReviews:
    """Training reviews before padding: lists of token ids of any length, and 0/1 labels."""

    x_train: np.ndarray  # object array of lists of ints
    y_train: np.ndarray


def load_raw_reviews(source: str | None = None, profile: Profile | None = None) -> RawReviews:
    """The profile's share of training reviews, unpadded: the same reviews, in the same
    order, as ``load_imdb()``'s ``x_train`` before it pads them to 500 tokens."""
    profile = profile or active_profile()
    raw = _raw_imdb(imdb_source_name(source))
    (x_train, y_train), _ = keras_postprocess(raw, limits=(profile.train_reviews, 0))
    return RawReviews(x_train, np.asarray(y_train))


def load_imdb_sequences(source: str, num_words: int = VOCABULARY_SIZE):
    """Unpadded reviews ``((x_train, y_train), (x_test, y_test))`` exactly as Keras returns them."""
    return keras_postprocess(_raw_imdb(source), num_words=num_words)


def _raw_imdb(source: str) -> dict[str, np.ndarray]:
    if source in (GENERATED_SOURCE, GENERATED_LONG_SOURCE):
        return _generated_imdb(argued_closing=source == GENERATED_LONG_SOURCE)
    if source == "keras":
        return read_raw_imdb(_download_imdb())
    return read_raw_imdb(Path(source))


def _download_imdb() -> Path:
    import keras

    try:
        return Path(keras.utils.get_file("imdb.npz", origin=IMDB_ORIGIN, file_hash=IMDB_SHA256))
    except Exception as error:  # Keras raises several kinds for a failed download
        raise RuntimeError(
            "Could not download the IMDB reviews through Keras "
            f"({type(error).__name__}: {error}). Either connect to the internet, point "
            f"{IMDB_SOURCE_ENV} at a local copy of imdb.npz, or set "
            f"{IMDB_SOURCE_ENV}={GENERATED_LONG_SOURCE} to work offline on synthetic reviews."
        ) from error


IMDB_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
IMDB_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
RAW_KEYS = ("x_train", "y_train", "x_test", "y_test")


def read_raw_imdb(path: Path) -> dict[str, np.ndarray]:
    """Read a file in Keras' raw imdb.npz format without allowing arbitrary unpickling."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No IMDB file at {path}. Set {IMDB_SOURCE_ENV} to the path of a copy of Keras' "
            f"imdb.npz, to 'keras' to download it, or to '{GENERATED_LONG_SOURCE}' for "
            "synthetic reviews."
        )
    try:
        from keras.src.datasets.npz_utils import load_npz
    except ImportError:  # Keras < 3.15.1 has no restricted loader
        with np.load(path, allow_pickle=True) as archive:
            raw = {key: archive[key] for key in archive.files}
    else:
        raw = load_npz(path)
    missing = [key for key in RAW_KEYS if key not in raw]
    if missing:
        raise ValueError(f"{path} is not an IMDB file in Keras' format: it lacks {missing}.")
    return raw


@lru_cache(maxsize=1)
def _generated_imdb(argued_closing: bool) -> dict[str, np.ndarray]:
    """The generated reviews, made once per process and kept compact (about 45 MB): the
    notebook reads them twice (``load_raw_reviews``, ``load_imdb``) and making them takes
    about a second."""
    return generate_raw_imdb(argued_closing=argued_closing, compact=True)


def _keras_ids(review, num_words: int) -> list[int]:
    """One review's word ranks as Keras' ``imdb.load_data`` returns them: a start mark, then
    each rank moved up by ``INDEX_FROM``, those past the vocabulary as ``OOV_CHAR``."""
    if isinstance(review, np.ndarray):  # a compact generated review: the same, vectorised
        shifted = review.astype(np.int64) + INDEX_FROM
        return [START_CHAR, *np.where(shifted < num_words, shifted, OOV_CHAR).tolist()]
    return [START_CHAR] + [
        w + INDEX_FROM if w + INDEX_FROM < num_words else OOV_CHAR for w in review
    ]


def keras_postprocess(
    raw: dict[str, np.ndarray],
    num_words: int = VOCABULARY_SIZE,
    limits: tuple[int | None, int | None] = (None, None),
):
    """Apply ``keras.datasets.imdb.load_data``'s steps (default arguments) to a raw file.

    ``limits`` keeps only the first reviews of each split after Keras' shuffle, the same
    reviews whether or not the rest are processed.
    """
    rng = np.random.RandomState(KERAS_SHUFFLE_SEED)
    splits = []
    for (x_key, y_key), limit in zip(
        (("x_train", "y_train"), ("x_test", "y_test")), limits, strict=True
    ):
        order = np.arange(len(raw[x_key]))
        rng.shuffle(order)
        order = order[:limit]
        reviews = [_keras_ids(x, num_words) for x in raw[x_key][order]]
        splits.append((np.array(reviews, dtype="object"), raw[y_key][order]))
    return tuple(splits)


def generate_raw_imdb(
    train_reviews: int = 25_000,
    test_reviews: int = 25_000,
    seed: int = 2019,
    sentiment_words: int = 40,
    sentiment_rate: float = 0.15,
    agreement: float = 0.9,
    argued_closing: bool = False,
    compact: bool = False,
) -> dict[str, np.ndarray]:
    """Synthetic reviews in Keras' raw format with a sentiment signal a model can learn.

    Words follow a Zipf law over 20,000 ranks. A few hundred mid-frequency ranks, picked at
    random so that a rank's size says nothing, carry sentiment: positive reviews use more of
    the "good" words and negative ones more of the "bad" words. A model that looks words up
    (an embedding) learns this; one that reads ids as magnitudes does not.

    With ``argued_closing`` (the ``generated-long`` source), a review of ``LONG_REVIEW_WORDS``
    words or more (about 1 in 4) ends with ``CLOSING_WORDS`` words that argue a side drawn at
    random, whatever the verdict: like a real review's closing paragraph that weighs the
    other side. Its verdict sits earlier, inside the 500 words the lab keeps, so a model that
    carries what it read across the closing (an LSTM) gets it right, and one that in effect
    reads the last few dozen words (a SimpleRNN, through vanishing gradients) is misled half
    the time: the gap the lab's question 5 asks about. Without it the reviews are exactly
    those of the ``generated`` source; with it, so is every word outside a closing.

    ``compact``: each review an int32 array (a view of one array of every word) instead of a
    list of ints, a tenth of the memory; ``keras_postprocess`` takes either.
    """
    rng = np.random.default_rng(seed)
    closing_rng = np.random.default_rng([seed, 1])  # its own stream: the rest stays the same
    ranks = np.arange(1, 20_001)
    background = 1.0 / ranks**1.05
    background /= background.sum()
    sentiment_ranks = rng.choice(np.arange(20, 4_000), size=2 * sentiment_words, replace=False)
    good, bad = sentiment_ranks[:sentiment_words], sentiment_ranks[sentiment_words:]

    def reviews(count: int) -> tuple[np.ndarray, np.ndarray]:
        # Every draw in a fixed order (the reviews are part of what a calibration and a
        # stored measurement depend on); words as int32 and masks as booleans, each
        # temporary dropped once used, so making them peaks at about 200 MB, not 300.
        labels = rng.permutation(np.arange(count) % 2).astype("int64")
        lengths = np.clip(rng.lognormal(5.3, 0.55, size=count).astype(int), 20, 1_500)
        words = int(lengths.sum())
        tokens = rng.choice(ranks, size=words, p=background).astype(np.int32)
        is_sentiment = rng.random(words) < sentiment_rate
        agrees = rng.random(words) < agreement
        argued = np.repeat(labels == 1, lengths)  # the side each word's review takes
        if argued_closing:
            in_closing = _closing_words(lengths)
            sides = np.repeat(closing_rng.random(count) < 0.5, lengths)
            np.copyto(argued, sides, where=in_closing)
            del sides
            np.copyto(agrees, closing_rng.random(words) < CLOSING_AGREEMENT, where=in_closing)
            del in_closing
        positive = agrees == argued  # a word that agrees takes its side, else the other one
        del agrees, argued
        # The good picks are drawn before the bad ones, for every word, as they always were.
        np.copyto(tokens, rng.choice(good, words), where=is_sentiment & positive, casting="unsafe")
        np.copyto(tokens, rng.choice(bad, words), where=is_sentiment & ~positive, casting="unsafe")
        del is_sentiment, positive
        split = np.split(tokens, np.cumsum(lengths)[:-1])
        texts = np.empty(count, dtype="object")
        for index, part in enumerate(split):
            texts[index] = part if compact else part.tolist()
        return texts, labels

    x_train, y_train = reviews(train_reviews)
    x_test, y_test = reviews(test_reviews)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


# A generated review this long or longer ends with an argued closing (see generate_raw_imdb).
LONG_REVIEW_WORDS = 300
CLOSING_WORDS = 100
CLOSING_AGREEMENT = 0.7  # share of a closing's sentiment words that take its argued side


def _closing_words(lengths: np.ndarray) -> np.ndarray:
    """For every word of reviews of the given lengths, laid end to end: whether it is in the
    last CLOSING_WORDS words of a review of LONG_REVIEW_WORDS words or more."""
    words_to_end = np.repeat(np.cumsum(lengths).astype(np.int32), lengths)
    words_to_end -= np.arange(lengths.sum(), dtype=np.int32)
    return np.repeat(lengths >= LONG_REVIEW_WORDS, lengths) & (words_to_end <= CLOSING_WORDS)


def save_raw_imdb(raw: dict[str, np.ndarray], path: Path) -> None:
    """Write reviews in Keras' raw format (for a local copy or a test fixture)."""
    np.savez_compressed(path, **{key: raw[key] for key in RAW_KEYS})


# --------------------------------------------------------------------------- training helper


def _require_model(model) -> None:
    if not hasattr(model, "fit"):
        raise TypeError(
            f"Expected a Keras model but got {type(model).__name__}: "
            "finish the builder above and run its cell first."
        )


@contextlib.contextmanager
def _without_retracing_notices():
    """TensorFlow logs "triggered tf.function retracing" once a notebook has trained about
    five models: each new model traces its own training function, which is expected here
    and costs nothing worth a warning. Other TensorFlow warnings still show."""
    import logging

    class DropRetracing(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "retracing" not in record.getMessage()

    logger, notice_filter = logging.getLogger("tensorflow"), DropRetracing()
    logger.addFilter(notice_filter)
    try:
        yield
    finally:
        logger.removeFilter(notice_filter)


def fit_model(model, data: ImdbData, *, epochs: int, batch_size: int):
    """Train an IMDB classifier, capped by the active profile, and report test accuracy."""
    _require_model(model)
    profile = active_profile()
    x_train, y_train, x_test, y_test = _capped(
        profile, data.x_train, data.y_train, data.x_test, data.y_test
    )
    history = _fit_capped(model, profile, (x_train, y_train), (x_test, y_test), epochs, batch_size)
    if history.epoch:
        with _without_retracing_notices():
            _, accuracy = model.evaluate(x_test, y_test, verbose=0)
        print(
            f"[{profile.name} profile, {len(x_train)} training reviews] "
            f"test accuracy: {accuracy:.3f}"
        )
    return history


def _fit_capped(model, profile: Profile, training, validation, epochs: int, batch_size: int):
    """``model.fit`` within the profile's epoch cap. At a cap of 0 (grading: the checker
    trains a fresh copy of the model itself) nothing is trained or compiled."""
    epochs = _capped_epochs(profile, epochs)
    if not epochs:
        print(f"[{profile.name} profile] training skipped: the grader trains its own copy.")
    with _without_retracing_notices():
        return model.fit(
            *training, epochs=epochs, batch_size=batch_size, validation_data=validation, verbose=2
        )


def _capped(profile: Profile, *arrays: np.ndarray) -> list[np.ndarray]:
    """The first ``notebook_examples`` rows of each array (all of them without a cap)."""
    return [array[: profile.notebook_examples] for array in arrays]


def _capped_epochs(profile: Profile, epochs: int) -> int:
    return epochs if profile.notebook_epochs is None else min(epochs, profile.notebook_epochs)


# --------------------------------------------------------------------------- adder


class CharacterTable:
    """One-hot encoding of strings over a fixed alphabet, and back."""

    def __init__(self, alphabet: str = ALPHABET):
        self.alphabet = alphabet
        self.index = {char: i for i, char in enumerate(alphabet)}

    def encode(self, text: str, length: int) -> np.ndarray:
        """``text`` right-padded with spaces to ``length``, as a (length, alphabet) one-hot array."""
        if len(text) > length:
            raise ValueError(f"{text!r} is longer than {length} characters.")
        one_hot = np.zeros((length, len(self.alphabet)), dtype="float32")
        for position, char in enumerate(text.ljust(length)):
            one_hot[position, self.index[char]] = 1.0
        return one_hot

    def decode(self, scores: np.ndarray) -> str:
        """The most likely character at each position (works on one-hot rows or softmax output)."""
        return "".join(self.alphabet[i] for i in np.argmax(scores, axis=-1))


CHARACTERS = CharacterTable()


def addition_pairs(
    count: int, seed: int, exclude: frozenset = frozenset()
) -> list[tuple[int, int]]:
    """``count`` distinct unordered pairs (a <= b) of 0..999, none of them in ``exclude``."""
    available = (MAX_OPERAND + 1) * (MAX_OPERAND + 2) // 2 - len(exclude)
    if count > available:
        raise ValueError(f"Only {available} distinct pairs exist; asked for {count}.")
    rng = np.random.default_rng(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < count:
        a, b = sorted(int(v) for v in rng.integers(0, MAX_OPERAND + 1, size=2))
        if (a, b) not in exclude:
            pairs.add((a, b))
    ordered = sorted(pairs)
    rng.shuffle(ordered)
    return ordered


def encode_additions(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Questions ``'a+b'`` and answers ``'a+b'``'s sum, right-padded, one-hot encoded."""
    x = np.stack([CHARACTERS.encode(f"{a}+{b}", QUESTION_LENGTH) for a, b in pairs])
    y = np.stack([CHARACTERS.encode(str(a + b), ANSWER_LENGTH) for a, b in pairs])
    return x, y


@dataclass(frozen=True)
class AdditionData:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    pairs: list[tuple[int, int]]


def load_additions(count: int | None = None, seed: int = 0, train_fraction: float = 0.9):
    """Distinct addition problems (the profile's number by default), split 90 / 10."""
    count = count or active_profile().adder_problems
    pairs = addition_pairs(count, seed)
    x, y = encode_additions(pairs)
    cut = int(round(train_fraction * count))
    return AdditionData(x[:cut], y[:cut], x[cut:], y[cut:], pairs)


def fit_adder(model, data: AdditionData, *, epochs: int, batch_size: int = 128):
    """Train the adder, capped by the active profile."""
    _require_model(model)
    profile = active_profile()
    x_train, y_train, x_val, y_val = _capped(
        profile, data.x_train, data.y_train, data.x_val, data.y_val
    )
    return _fit_capped(model, profile, (x_train, y_train), (x_val, y_val), epochs, batch_size)


def plot_history(history, title: str) -> None:
    """Draw accuracy per epoch on the training data and on the held-out data (matplotlib).

    ``history`` is what ``fit_model``, ``fit_adder`` or ``model.fit`` returned; its
    ``history`` dict needs an ``accuracy`` entry (compile with ``metrics=["accuracy"]``).
    """
    import matplotlib.pyplot as plt

    if not history.epoch or "accuracy" not in history.history:
        print(f"[{active_profile().name} profile] no epochs were trained here: no curve to draw.")
        return
    epochs = [epoch + 1 for epoch in history.epoch]
    figure, axis = plt.subplots(figsize=(5, 3))
    axis.plot(epochs, history.history["accuracy"], marker="o", label="training data")
    if "val_accuracy" in history.history:
        axis.plot(epochs, history.history["val_accuracy"], marker="o", label="held-out data")
    axis.set(xlabel="epoch", ylabel="accuracy", title=title)
    axis.legend()
    plt.show()


def whole_answer_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of problems whose four answer characters are all right."""
    predicted = np.argmax(model.predict(x, verbose=0), axis=-1)
    return float(np.mean(np.all(predicted == np.argmax(y, axis=-1), axis=-1)))


if in_a_notebook():
    # In a notebook, lab_checks sets how each grader.check result is shown. It must happen
    # here, in the notebook's first cell: otter runs the checks with IPython's display
    # formatters swapped out, so a registration made during a check would be lost. Without
    # lab_checks next to the notebook, checks show otter's own report instead.
    with contextlib.suppress(ImportError):
        import lab_checks  # noqa: F401
