"""Code that decides scores, in processes that never ran student code: the checker and its pool, reading exported answers, model sizes and the measurement store."""
