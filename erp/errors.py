"""The base of every error a service raises for the user to read.

Services in every app raise subclasses; the API turns them into ``{"code", "detail", ...}``
with the subclass's HTTP status, and pages show the message. Lives in ``erp`` so that the
lowest app owns it and higher apps only import downwards.
"""


class ServiceError(Exception):
    code = "invalid"
    http_status = 400

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self)}
