"""kerasgrade: build, grade and check autograded Keras lab notebooks (``kerasgrade --help``)."""
