"""What each model exercise fixes and what it lets students vary (read by ``lab_checks``).

This module ships next to the student notebook, so a test names a spec (``"LSTM"``)
instead of carrying it. Specs are plain data. A setting is one allowed value, a tuple of
allowed values, or ``{"min": n}``; ``repeat`` allows a stack; ``wrapper`` asks for a
layer wrapped in ``TimeDistributed``. From LAB_SPEC.md: the input, the embedding, the
output layer and the layer kinds an exercise is about are fixed; dropout, 'same' or
'valid' padding, the pooling size, stacked LSTMs and (exercises 4 and 5) other sizes may
vary. ``builder`` names the notebook function that builds the answer, so a message can
point at it; ``optimizer`` says which optimizers and learning rates a fresh copy can
learn with inside the grader's small budget.

What may vary is bounded where a bound is needed for the grade to be fair: the grader trains
a fresh copy of each answer for seconds, and its accuracy thresholds are calibrated on the
slowest-learning design these specs allow (``reference/slow_designs.py``), so a design the
specs accept but nobody calibrated could fail while it learns. Hence: at most two stacked
LSTMs, an LSTM of at most 128 units in exercise 4, pooling of 2 to 4, a dropout layer (or an
LSTM's own dropout) dropping at most half of its inputs, and a learning rate of 0.001 to 0.01.
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
from labkit.checks import ADAPTIVE_OPTIMIZERS

REVIEW_INPUT_HINT = (
    f"each review is {MAX_REVIEW_LENGTH} token ids (whole numbers, hence dtype='int32'), so "
    f"start with keras.Input(({MAX_REVIEW_LENGTH},), dtype='int32')."
)
# The lab compiles with Adam at Keras' default learning rate, 0.001. Below it, the stacked
# LSTM the spec allows learns too little in the grader's few epochs (as in the digits lab).
ADAPTIVE_OPTIMIZER = {**ADAPTIVE_OPTIMIZERS, "learning_rate": (1e-3, 1e-2)}
EMBEDDING = {"kind": "Embedding", "vocabulary": VOCABULARY_SIZE, "dimensions": EMBEDDING_DIM}
PADDING = ("same", "valid")
POOLING = {"kind": "MaxPooling1D", "pool_size": {"min": 2, "max": 4}}
MAX_DROPOUT = 0.5  # the largest share of its inputs a layer may drop
MAX_STACK = 2  # LSTMs stacked at most
HIDDEN_DENSE = {"kind": "Dense", "units": 250, "activation": "relu"}
PROBABILITY = {
    "kind": "Dense", "units": 1, "activation": "sigmoid",
    "role": "the output layer", "why": "a probability between 0 and 1 needs",
}  # fmt: skip
# Keras' defaults for an LSTM: the gates squash with a sigmoid, the cell with tanh.
LSTM_ACTIVATIONS = {"activation": "tanh", "recurrent_activation": "sigmoid"}


def classifier(builder: str, *layers: dict) -> dict:
    """A review classifier: 500 token ids in, one probability out."""
    return {
        "builder": builder,
        "input": (MAX_REVIEW_LENGTH,),
        "input_hint": REVIEW_INPUT_HINT,
        "output": (1,),
        "loss": "binary_crossentropy",
        "optimizer": ADAPTIVE_OPTIMIZER,
        "dropout": MAX_DROPOUT,
        "layers": [*layers, PROBABILITY],
    }


def lstm_stack(units: int | tuple | dict) -> dict:
    """One LSTM or a stack of two, the last one giving one vector per review."""
    units = {"min": units} if isinstance(units, int) else units
    return {
        "kind": "LSTM", "units": units, "repeat": (1, MAX_STACK), "return_sequences": False,
        **LSTM_ACTIVATIONS,
    }  # fmt: skip


FEEDFORWARD = classifier(
    "build_feedforward_model",
    {"kind": "Dense", "units": 250, "activation": "relu"},
)
FEEDFORWARD["input_hint"] = (
    f"each review is {MAX_REVIEW_LENGTH} numbers, so start with keras.Input(({MAX_REVIEW_LENGTH},))."
)

CNN = classifier(
    "build_cnn_model",
    EMBEDDING,
    {"kind": "Conv1D", "filters": 200, "kernel_size": 3, "padding": PADDING, "activation": "relu"},
    POOLING,
    {"kind": "Flatten"},
    HIDDEN_DENSE,
)

# More units than the lab's 100 learn no slower, but each costs the grader's training time.
LSTM = classifier("build_lstm_model", EMBEDDING, lstm_stack({"min": 100, "max": 128}))

# Exercise 5 of the original lab is an open design: "an LSTM over the features a CNN
# learned, after a max-pooling layer", with no sizes given. Each layer's parameter count is
# still checked against its formula for the sizes chosen.
CNN_LSTM = classifier(
    "build_cnn_lstm_model",
    EMBEDDING,
    {
        "kind": "Conv1D",
        "filters": {"min": 8},
        "kernel_size": {"min": 2},
        "padding": PADDING,
        "activation": "relu",
    },  # fmt: skip
    POOLING,
    lstm_stack({"min": 16}),
)

ADDER = {
    "builder": "build_adder_model",
    "input": (QUESTION_LENGTH, len(ALPHABET)),
    "input_hint": (
        f"each question is {QUESTION_LENGTH} characters, each one-hot over {len(ALPHABET)} "
        f"symbols, so start with keras.Input(({QUESTION_LENGTH}, {len(ALPHABET)}))."
    ),
    "output": (ANSWER_LENGTH, len(ALPHABET)),
    "loss": "categorical_crossentropy",
    "optimizer": ADAPTIVE_OPTIMIZER,
    "dropout": False,
    "layers": [
        {"kind": "LSTM", "units": 128, "role": "the encoder", **LSTM_ACTIVATIONS},
        {
            "kind": "RepeatVector",
            "repeats": ANSWER_LENGTH,
            "role": f"an answer of {ANSWER_LENGTH} characters",
        },  # fmt: skip
        {
            "kind": "LSTM",
            "units": 128,
            "return_sequences": True,
            "role": "the decoder",
            **LSTM_ACTIVATIONS,
        },  # fmt: skip
        {
            "kind": "Dense",
            "units": len(ALPHABET),
            "activation": "softmax",
            "role": "the output layer",
            "why": f"a choice among {len(ALPHABET)} characters needs",
        },  # fmt: skip
    ],
}

# Exercise 6: the two wrapper layers on their own. Not compiled: they are only called.
TIME_DISTRIBUTED_DEMO = {
    "builder": "build_time_distributed_demo",
    "input": (3, 5),
    "input_hint": "the demo reads 3 steps of 5 numbers, so start with keras.Input((3, 5)).",
    "output": (3, 8),
    "layers": [
        {
            "kind": "Dense",
            "units": 8,
            "wrapper": "TimeDistributed",
            "role": "the demo",
        },  # fmt: skip
    ],
}
REPEAT_VECTOR_DEMO = {
    "builder": "build_repeat_vector_demo",
    "input": (10,),
    "input_hint": "the demo reads 10 numbers, so start with keras.Input((10,)).",
    "output": (3, 6),
    "layers": [
        {"kind": "Dense", "units": 6},
        {"kind": "RepeatVector", "repeats": 3, "role": "the demo"},
    ],
}

SPECS = {
    "FEEDFORWARD": FEEDFORWARD,
    "CNN": CNN,
    "LSTM": LSTM,
    "CNN_LSTM": CNN_LSTM,
    "ADDER": ADDER,
    "TIME_DISTRIBUTED_DEMO": TIME_DISTRIBUTED_DEMO,
    "REPEAT_VECTOR_DEMO": REPEAT_VECTOR_DEMO,
}
