"""RuleSyntaxError: an invalid rule, with the path of the bad node."""


class RuleSyntaxError(ValueError):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
