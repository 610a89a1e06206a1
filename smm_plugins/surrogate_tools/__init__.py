"""General surrogate tools for anyone's merge logs: build an SMM-Bench surrogate from a table of
configurations and accuracies, and validate a surrogate against a truth benchmark.

* :mod:`~smm_plugins.surrogate_tools.build` - a table -> a surrogate directory in the official format
  (``smm-bench build-surrogate``);
* :mod:`~smm_plugins.surrogate_tools.validate` - fidelity of a surrogate against a truth: optimiser runs on
  both, picks re-scored on the truth, uniform configurations (``smm-bench validate``);
* :mod:`~smm_plugins.surrogate_tools.cli` - the two ``smm-bench`` sub-commands.

The merge lab (:mod:`smm_plugins.lab`) is one user of these tools; nothing here is specific to it.
"""
