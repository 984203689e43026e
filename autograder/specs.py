"""What each model exercise fixes and what it lets students vary (read by ``lab_architecture``).

Specs are plain data so that a test can carry one as a literal. A setting is one allowed
value, a tuple of allowed values, or ``{"min": n}``; ``repeat`` allows a stack. From
LAB_SPEC.md: the input, the embedding, the output layer and the layer kinds an exercise is
about are fixed; dropout, 'same' or 'valid' padding, the pooling size, stacked LSTMs and
(exercise 4) more LSTM units may vary.
"""

from __future__ import annotations

from lab_support import (
    ALPHABET,
    ANSWER_LENGTH,
    EMBEDDING_DIM,
    MAX_REVIEW_LENGTH,
    QUESTION_LENGTH,
    VOCABULARY_SIZE,
)

REVIEW_INPUT_HINT = (
    f"each review is {MAX_REVIEW_LENGTH} token ids, so start with "
    f"keras.Input(({MAX_REVIEW_LENGTH},), dtype='int32')."
)
EMBEDDING = {"kind": "Embedding", "vocabulary": VOCABULARY_SIZE, "dimensions": EMBEDDING_DIM}
PADDING = ("same", "valid")
HIDDEN_DENSE = {"kind": "Dense", "units": 250, "activation": "relu"}
PROBABILITY = {
    "kind": "Dense", "units": 1, "activation": "sigmoid",
    "role": "the output layer", "why": "a probability between 0 and 1 needs",
}  # fmt: skip


def classifier(*layers: dict) -> dict:
    """A review classifier: 500 token ids in, one probability out."""
    return {
        "input": (MAX_REVIEW_LENGTH,),
        "input_hint": REVIEW_INPUT_HINT,
        "output": (1,),
        "loss": "binary_crossentropy",
        "dropout": True,
        "layers": [*layers, PROBABILITY],
    }


def lstm_stack(min_units: int | tuple) -> dict:
    """One LSTM or a stack of up to three, the last one giving one vector per review."""
    units = {"min": min_units} if isinstance(min_units, int) else min_units
    return {"kind": "LSTM", "units": units, "repeat": (1, 3), "return_sequences": False}


FEEDFORWARD = classifier(HIDDEN_DENSE)

CNN = classifier(
    EMBEDDING,
    {"kind": "Conv1D", "filters": 200, "kernel_size": 3, "padding": PADDING, "activation": "relu"},
    {"kind": "MaxPooling1D"},
    {"kind": "Flatten"},
    HIDDEN_DENSE,
)

LSTM = classifier(EMBEDDING, lstm_stack(100))

CNN_LSTM = classifier(
    EMBEDDING,
    {"kind": "Conv1D", "filters": 32, "kernel_size": 3, "padding": PADDING, "activation": "relu"},
    {"kind": "MaxPooling1D"},
    lstm_stack((100,)),
)

ADDER = {
    "input": (QUESTION_LENGTH, len(ALPHABET)),
    "input_hint": (
        f"each question is {QUESTION_LENGTH} characters, each one-hot over {len(ALPHABET)} "
        f"symbols, so start with keras.Input(({QUESTION_LENGTH}, {len(ALPHABET)}))."
    ),
    "output": (ANSWER_LENGTH, len(ALPHABET)),
    "loss": "categorical_crossentropy",
    "dropout": False,
    "layers": [
        {"kind": "LSTM", "units": 128, "role": "the encoder"},
        {
            "kind": "RepeatVector",
            "repeats": ANSWER_LENGTH,
            "role": f"an answer of {ANSWER_LENGTH} characters",
        },  # fmt: skip
        {"kind": "LSTM", "units": 128, "return_sequences": True, "role": "the decoder"},
        {
            "kind": "Dense",
            "units": len(ALPHABET),
            "activation": "softmax",
            "role": "the output layer",
            "why": f"a choice among {len(ALPHABET)} characters needs",
        },  # fmt: skip
    ],
}
