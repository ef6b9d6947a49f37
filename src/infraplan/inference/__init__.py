"""Inference: LLM serving (iteration model, simulator, capacity search) and other serving workloads."""
