from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """For bounded lists: `?limit=&offset=`, with a count."""

    default_limit = 25
    max_limit = 200


class CursorPagination(pagination.CursorPagination):
    """For tables that grow without bound: no COUNT(*), a stable cursor."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "-id"
