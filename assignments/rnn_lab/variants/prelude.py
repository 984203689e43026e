# The first cell of every variant notebook: what the lab's own set-up cell imports.
import keras
import numpy as np
from keras import layers

from lab_support import (
    ALPHABET,
    ANSWER_LENGTH,
    EMBEDDING_DIM,
    MAX_REVIEW_LENGTH,
    QUESTION_LENGTH,
    VOCABULARY_SIZE,
)
