# The first cell of every variant notebook: what the lab's own set-up cell imports.
import keras
import numpy as np
from keras import layers

from starter_support import FEATURES
