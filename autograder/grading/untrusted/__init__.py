"""Code that runs student notebooks or runs beside them: the sandbox, isolation levels, limits, and what is injected into the student's kernel. Nothing here decides a score."""
