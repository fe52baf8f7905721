"""What leaves the service as files: spreadsheet exports and the printable PDF report.

Both read the one evidence matrix read model (``service.domain.matrix.SubmissionMatrix``).
"""
