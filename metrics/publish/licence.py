"""The Open Government Licence the council publishes its performance under: one wording for the
transparency file and the public view."""

OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
LICENCE = f"Open Government Licence v3.0: {OGL_URL}"
LICENCE_NOTE = "Contains public sector information licensed under the Open Government Licence v3.0."
