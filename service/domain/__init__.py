"""What evidencia is about, apart from how it is reached (HTTP, pages, command line, queue).

Tables (``models``), the document lifecycle (``lifecycle``), submissions and decisions
(``submissions``), the evidence matrix read model (``matrix``), the pipeline steps a job runs
(``pipeline``), who may see what (``access``), the file store (``storage``) and the one door to
the job queue (``dispatch``). Entry points import from here; nothing here imports them.
"""
