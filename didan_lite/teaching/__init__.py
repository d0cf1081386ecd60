"""Teaching helpers of the notebooks, apart from the library they teach.

==============  ==============================================================
``toy``         2-D clouds, IDA and MMD on them, the witness function, a widget
``exercises``   ``check_exercise_N_M(answer)``: one message per exercise
``listening``   audio players of the corpora whose licence allows it
``pretrained``  small shipped full-mode models and their features
==============  ==============================================================

The notebooks import their names from :mod:`didan_lite` (``from didan_lite import toy_losses``).
"""
