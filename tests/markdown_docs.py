"""The project's Markdown docs as the doc tests read them: fenced blocks, links, headings,
tables, and the shell commands of `sh` blocks split as bash would run them."""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = (README, *sorted((ROOT / "docs").glob("*.md")))

_FENCE = re.compile(r"^```(\S*)\s*$")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# A status the example expects, in a comment at the end of its command: `# -> 201`.
_EXPECT = re.compile(r"#\s*->\s*(\d{3})\b")
_OPENERS = {"for", "while", "until", "if", "case"}
_CLOSERS = {"done", "fi", "esac"}


@dataclass(frozen=True, slots=True)
class Block:
    path: Path
    language: str
    first_line: int  # line number (1-based) of the block's first content line
    text: str


@dataclass(frozen=True, slots=True)
class Command:
    """One top-level shell command of an `sh` block, maybe spanning several lines."""

    line: int  # line number in the Markdown file of its first line
    text: str
    expected_status: int | None


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    language: str | None = None
    body: list[str] = []
    start = 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = _FENCE.match(line)
        if language is None and fence:
            language, start, body = fence.group(1), number + 1, []
        elif language is not None and line.strip() == "```":
            found.append(Block(path, language, start, "\n".join(body)))
            language = None
        elif language is not None:
            body.append(line)
    assert language is None, f"{path.name}: a fenced block is not closed"
    return found


def prose(path: Path) -> str:
    """The text outside fenced blocks."""
    lines, inside = [], False
    for line in path.read_text().splitlines():
        if _FENCE.match(line) or (inside and line.strip() == "```"):
            inside = not inside
            continue
        if not inside:
            lines.append(line)
    return "\n".join(lines)


def links(path: Path) -> list[str]:
    return _LINK.findall(prose(path))


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in prose(path).splitlines():
        heading = _HEADING.match(line)
        if heading:
            text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(2)).lower()
            found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def table_rows(path: Path, first_header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header row starts with `first_header`."""
    rows, inside = [], False
    for line in prose(path).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            inside = False
        elif cells[0] == first_header:
            inside = True
        elif inside and not set(line) <= set("|-: "):
            rows.append(cells)
    return rows


def commands(block: Block) -> list[Command]:
    """Split a block into top-level commands: a newline ends one unless it is quoted,
    escaped, inside `$( )` or `( )`, after a `|`, `&&` or `||`, or inside for/if/case."""
    found: list[Command] = []
    lines = block.text.splitlines()
    start, depth, quote, compound = None, 0, "", 0
    for index, line in enumerate(lines):
        if start is None:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = index
        position, words, continued = 0, [], False
        while position < len(line):
            char = line[position]
            if quote == "'":
                quote = "" if char == "'" else quote
            elif char == "\\":
                if position == len(line) - 1:
                    continued = True
                position += 1
            elif quote == '"':
                quote = "" if char == '"' else quote
            elif char in "'\"":
                quote = char
            elif char == "#" and (position == 0 or line[position - 1] in " \t;"):
                break
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            position += 1
        code = line[:position]
        words = re.findall(r"[A-Za-z_]+", code) if not quote else []
        compound += sum(word in _OPENERS for word in words[:1] + _after_separators(code))
        compound -= sum(word in _CLOSERS for word in words[:1] + _after_separators(code))
        pending = code.rstrip().endswith(("|", "&&", "||"))
        if quote or depth or continued or compound or pending:
            continue
        text = "\n".join(lines[start : index + 1])
        expected = _EXPECT.search(line[position:])
        found.append(
            Command(
                line=block.first_line + start,
                text=text,
                expected_status=int(expected.group(1)) if expected else None,
            )
        )
        start = None
    assert start is None, f"{block.path.name}:{block.first_line}: a command is not finished"
    return found


def _after_separators(code: str) -> list[str]:
    """Words that start a command after `;`, `&&`, `||`, `|`, `do` or `then` on a line."""
    return re.findall(r"(?:;|&&|\|\||\||\bdo\b|\bthen\b)\s*([A-Za-z_]+)", code)
