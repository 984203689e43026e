"""A lab: its folder, config, questions, run settings and the digest of what decides a score."""
