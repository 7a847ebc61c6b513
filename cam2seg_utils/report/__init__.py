"""The book's report layer: one module per artefact of the paper / book (the notebooks call one
or two functions of their own module). Here: :mod:`.hitl` (chapter "The human in the loop,
measured")."""
