"""URL converters: ids that fit a 64-bit column, so a huge number is a 404, not an overflow."""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
