"""placeholder"""


def rows() -> list:
    return []
