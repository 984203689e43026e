"""rnnlab: build, grade and check the autograded recurrent-networks lab."""
