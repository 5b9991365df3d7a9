"""Sigma import: YAML documents, folders and zips -> ordinary rules, in one transaction.

`compile_sigma(yaml_text)` compiles without saving (the rule-test API uses it);
`import_sigma(documents)` creates or updates rules by Sigma id and bumps the rule-set
version once. Correlation documents are translated by `secalerts.sigma.correlations`
once the rules they reference are stored.
"""

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from secalerts.rules import registry
from secalerts.rules.models import Rule
from secalerts.sigma import compiler
from secalerts.sigma.correlations import (
    UnsupportedCorrelation,
    correlation_rule_from_sigma,
    silenced_references,
)
from secalerts.sigma.logsources import default_mappings
from secalerts.sigma.models import LogsourceMapping

MAX_NAME = 200
MAX_ZIP_FILES = 10_000
MAX_ZIP_BYTES = 64 << 20  # uncompressed, all files together
MAX_RULE_FILE_BYTES = 1 << 20
# What an import writes of a rule it updates (the rest is the analysts': enabled, dedup).
SAVED_FIELDS = ("name", "description", "severity", "condition", "group_by", "threshold",
                "sigma", "correlation", "generate")  # fmt: skip
CORRELATIONS_NEED_IMPORT = "correlation rules reference stored rules: import them to use them"


class InvalidSigma(ValueError):
    """The upload is not Sigma YAML (or not a readable zip of it); str() says why."""


@dataclass
class Compiled:
    """What a Sigma document compiles to: rule fields, and the rules skipped with why."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    # Compiled when imported: they name stored rules by id (see _save_correlations).
    correlations: list[SigmaCorrelationRule] = field(default_factory=list)


@dataclass
class ImportResult:
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped}


def load_targets() -> dict[tuple[str, str, str], list[compiler.Target]]:
    """The shipped table (logsources.py) with the LogsourceMapping rows over it: a row
    adds or replaces its logsource's mapping, a disabled row removes it."""
    table = {(r["product"], r["category"], r["service"]): r["targets"] for r in default_mappings()}
    for row in LogsourceMapping.objects.all():
        key = (row.product, row.category, row.service)
        if row.enabled:
            table[key] = row.targets
        else:
            table.pop(key, None)
    return {key: [compiler.Target.from_json(t) for t in targets] for key, targets in table.items()}


def parse_collection(text: str, origin: str = "") -> SigmaCollection:
    """Raises InvalidSigma naming the problem (YAML syntax, not a Sigma document)."""
    where = f"{origin}: " if origin else ""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise InvalidSigma(f"{where}invalid YAML: {error}") from error
    except RecursionError as error:  # PyYAML recurses once per nesting level
        raise InvalidSigma(f"{where}invalid YAML: nested too deeply") from error
    documents = [d for d in documents if d is not None]
    if not documents or not all(isinstance(d, dict) for d in documents):
        raise InvalidSigma(f"{where}expected Sigma rule documents (YAML mappings)")
    if not any({"detection", "correlation"} & set(d) for d in documents) or not all(
        {"detection", "correlation", "action"} & set(d) for d in documents
    ):
        raise InvalidSigma(
            f"{where}not a Sigma rule: each document needs detection or correlation "
            "(or an action: global/reset/repeat)"
        )
    try:
        # References are resolved at import, against every rule stored by then: a
        # correlation may name a rule of another file or of an earlier import.
        return SigmaCollection.from_dicts(documents, collect_errors=True, resolve_references=False)
    except (SigmaError, TypeError, ValueError, KeyError, AttributeError, RecursionError) as error:
        raise InvalidSigma(f"{where}not a Sigma document: {error}") from error


def compile_sigma(yaml_text: str) -> Compiled:
    """Sigma YAML (one or several documents) -> rule fields, without saving anything.

    Each rule is {name, description, severity, condition, sigma}; names are the titles
    (not made unique against stored rules). Correlations are skipped: they reference
    stored rules by id. Raises InvalidSigma for bad YAML.
    """
    compiled = compile_collections([parse_collection(yaml_text)], load_targets())
    for correlation in compiled.correlations:
        sigma_id = str(correlation.id) if correlation.id else None
        reason = CORRELATIONS_NEED_IMPORT
        compiled.skipped.append(
            {"title": str(correlation.title), "sigma_id": sigma_id, "reason": reason}
        )
    return compiled


def compile_collections(
    collections: Iterable[SigmaCollection],
    targets: dict[tuple[str, str, str], list[compiler.Target]],
) -> Compiled:
    out = Compiled()
    for collection in collections:
        for rule in collection.rules:
            if isinstance(rule, SigmaRule):
                _compile_one(rule, targets, out)
            elif isinstance(rule, SigmaCorrelationRule):
                out.correlations.append(rule)
    return out


def _compile_one(
    rule: SigmaRule, targets: dict[tuple[str, str, str], list[compiler.Target]], out: Compiled
) -> None:
    title = str(rule.title or "")
    sigma_id = str(rule.id) if rule.id else None
    if rule.errors:
        out.skipped.append({"title": title, "sigma_id": sigma_id, "reason": str(rule.errors[0])})
        return
    source = rule.logsource
    key = (source.product or "", source.category or "", source.service or "")
    logsource = "/".join(part or "-" for part in key)
    try:
        mapped = targets.get(key)
        if mapped is None:
            raise compiler.Unsupported(f"unmapped logsource {logsource}")
        condition = compiler.compile_condition(rule, mapped, logsource)
        compiler.check(condition)
    except RecursionError:
        reason = "condition nested too deeply"
        out.skipped.append({"title": title, "sigma_id": sigma_id, "reason": reason})
        return
    except compiler.Unsupported as error:
        out.skipped.append({"title": title, "sigma_id": sigma_id, "reason": str(error)})
        return
    out.rules.append(
        {
            "name": title[:MAX_NAME] or f"Sigma {sigma_id}",
            "description": str(rule.description or ""),
            "severity": compiler.severity_of(rule.level),
            "condition": condition,
            "sigma": _metadata(rule, sigma_id),
            "generate": True,  # until a correlation importing with it says otherwise
        }
    )


def _metadata(rule: SigmaRule | SigmaCorrelationRule, sigma_id: str | None) -> dict[str, Any]:
    source = rule.logsource if isinstance(rule, SigmaRule) else None  # correlations: none
    return {
        "id": sigma_id,
        "name": rule.name,  # how correlations may reference it
        "title": str(rule.title or ""),
        "status": rule.status.name.lower() if rule.status else None,
        "level": rule.level.name.lower() if rule.level else None,
        "tags": [str(tag) for tag in rule.tags],
        "logsource": source
        and {"product": source.product, "category": source.category, "service": source.service},
        "references": [str(r) for r in rule.references],
        "author": rule.author,
    }


def _save_correlations(correlations: list[SigmaCorrelationRule], result: ImportResult) -> None:
    """Correlations after the rules they reference are stored, since they name them by
    id; in passes, so a chain's lower correlation is stored before the one above it."""
    referenced = _stored_references()
    silenced: set[int] = set()
    waiting = correlations
    while waiting:
        unresolved: list[tuple[SigmaCorrelationRule, str]] = []
        for correlation in waiting:
            sigma_id = str(correlation.id) if correlation.id else None
            try:
                fields = correlation_rule_from_sigma(correlation, referenced)
            except (UnsupportedCorrelation, SigmaError) as error:
                unresolved.append((correlation, str(error)))
                continue
            silenced.update(referenced[r] for r in silenced_references(correlation))
            saved = _save([{**fields, "sigma": _metadata(correlation, sigma_id)}], result)
            referenced.update(
                {key: pk for key in (sigma_id, correlation.name) if key for pk in saved}
            )
        if len(unresolved) == len(waiting):  # no progress: what is left is skipped
            for correlation, reason in unresolved:
                sigma_id = str(correlation.id) if correlation.id else None
                skip = {"title": str(correlation.title), "sigma_id": sigma_id, "reason": reason}
                result.skipped.append(skip)
            break
        waiting = [correlation for correlation, _ in unresolved]
    # Sigma's `generate: false`: the referenced rules only feed their correlations.
    Rule.objects.filter(pk__in=silenced).update(generate=False)


def _stored_references() -> dict[str, int]:
    """How a correlation may name a stored Sigma rule (its id or its `name`) -> rule id."""
    referenced = {}
    for pk, sigma in Rule.objects.filter(sigma__isnull=False).values_list("pk", "sigma"):
        for key in (sigma.get("id"), sigma.get("name")) if isinstance(sigma, dict) else ():
            if key:
                referenced[key] = pk
    return referenced


def documents_from_zip(content: bytes) -> Iterator[tuple[str, str]]:
    """(path, text) of the .yml/.yaml files of a zip, bounded against zip bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as error:
        raise InvalidSigma(f"not a zip file: {error}") from error
    members = [m for m in archive.infolist() if not m.is_dir()]
    members = [m for m in members if m.filename.lower().endswith((".yml", ".yaml"))]
    if len(members) > MAX_ZIP_FILES:
        raise InvalidSigma(f"the zip holds more than {MAX_ZIP_FILES} rule files")
    total = 0
    for member in members:
        # The sizes in the directory can lie: read at most one byte more than allowed.
        with archive.open(member) as handle:
            data = handle.read(MAX_RULE_FILE_BYTES + 1)
        if len(data) > MAX_RULE_FILE_BYTES:
            raise InvalidSigma(f"{member.filename}: larger than {MAX_RULE_FILE_BYTES} bytes")
        total += len(data)
        if total > MAX_ZIP_BYTES:
            raise InvalidSigma(f"the zip's files hold more than {MAX_ZIP_BYTES} bytes")
        yield member.filename, data.decode("utf-8", errors="replace")


def documents_from_paths(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.suffix.lower() in (".yml", ".yaml") and child.is_file():
                    yield str(child), child.read_text(errors="replace")
        elif path.suffix.lower() == ".zip":
            yield from documents_from_zip(path.read_bytes())
        else:
            yield str(path), path.read_text(errors="replace")


def collections_of(
    documents: Iterable[tuple[str, str]], *, strict: bool
) -> tuple[list[SigmaCollection], list[dict[str, Any]]]:
    """Parsed documents; a bad one raises (strict) or is skipped with its reason."""
    collections, skipped = [], []
    for origin, text in documents:
        try:
            collections.append(parse_collection(text, origin))
        except InvalidSigma as error:
            if strict:
                raise
            skipped.append({"title": origin, "sigma_id": None, "reason": str(error)})
    return collections, skipped


def import_sigma(documents: Iterable[tuple[str, str]], *, strict: bool = False) -> ImportResult:
    """Compile and save: a rule with a known Sigma id is updated, others are created."""
    # Parsing and compiling thousands of rules allocates much and frees little.
    with registry.collector_paused():
        collections, bad = collections_of(documents, strict=strict)
        compiled = compile_collections(collections, load_targets())
        result = ImportResult(skipped=bad + compiled.skipped)
        with transaction.atomic():
            _save(compiled.rules, result)
            _save_correlations(compiled.correlations, result)
            if result.created or result.updated:
                registry.bump_version()
    return result


def _save(rules: list[dict[str, Any]], result: ImportResult) -> list[int]:
    """Creates or updates (by Sigma id); returns the ids of the rules saved, in order."""
    existing = {
        rule.sigma.get("id"): rule
        for rule in Rule.objects.filter(sigma__isnull=False).only("id", "name", "sigma")
        if isinstance(rule.sigma, dict) and rule.sigma.get("id")
    }
    taken = set(Rule.objects.values_list("name", flat=True))
    seen: set[str] = set()
    to_create, to_update = [], []
    for fields in rules:
        sigma_id = (fields.get("sigma") or {}).get("id")
        if sigma_id and sigma_id in seen:
            result.skipped.append(
                {"title": fields["name"], "sigma_id": sigma_id, "reason": "duplicate Sigma id"}
            )
            continue
        if sigma_id:
            seen.add(sigma_id)
        rule = existing.get(sigma_id)
        if rule is not None:
            taken.discard(rule.name)
        name = _unique_name(fields["name"], sigma_id, taken)
        taken.add(name)
        if rule is None:
            rule = Rule(**{**fields, "name": name})
            to_create.append(rule)
        else:
            for key, value in {**fields, "name": name}.items():
                setattr(rule, key, value)
            to_update.append(rule)
    Rule.objects.bulk_create(to_create, batch_size=500)
    Rule.objects.bulk_update(
        to_update,
        SAVED_FIELDS,
        batch_size=500,
    )
    # bulk_create only returns ids on backends that can; read them back by name.
    ids = dict(Rule.objects.filter(name__in=[r.name for r in to_create]).values_list("name", "id"))
    result.created += [_summary(r, ids.get(r.name)) for r in to_create]
    result.updated += [_summary(r, r.pk) for r in to_update]
    saved = [rule.pk or ids.get(rule.name) for rule in to_create + to_update]
    return [pk for pk in saved if pk is not None]


def _summary(rule: Rule, pk: int | None) -> dict[str, Any]:
    return {"id": pk, "name": rule.name, "sigma_id": (rule.sigma or {}).get("id")}


def _unique_name(name: str, sigma_id: str | None, taken: set[str]) -> str:
    if name not in taken:
        return name
    suffix = f" ({(sigma_id or 'sigma')[:8]})"
    candidate = name[: MAX_NAME - len(suffix)] + suffix
    number = 2
    while candidate in taken:
        suffix = f" ({(sigma_id or 'sigma')[:8]}-{number})"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        number += 1
    return candidate
