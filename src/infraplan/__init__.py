"""infraplan: planner and simulator for AI compute infrastructure, from the chip to the gigawatt."""

__version__ = "0.2.0"
