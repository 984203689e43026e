"""Building an assignment: the master notebook, otter assign, the Gradescope zip and its pins."""
