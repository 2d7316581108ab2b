"""An import-linter contract type of this project: domains import each other only through their public modules.

Each domain package under ``insight/`` (calls, customers, transcribe, nlp ...) keeps its inner modules to itself;
another domain may import only the modules listed as that domain's public face (its ``service``, ``types``,
``schemas``, ``tasks`` and the few engines others build on). Used by ``make lint`` through ``pyproject.toml``.
"""

from __future__ import annotations

from typing import Any

import grimp
from importlinter import Contract, ContractCheck, fields, output


def _domain_of(module: str, domains: list[str]) -> str | None:
    for domain in domains:
        if module == domain or module.startswith(domain + "."):
            return domain
    return None


def _is_public(module: str, domain: str, public: list[str]) -> bool:
    if module == domain:
        return True
    return any(module == p or module.startswith(p + ".") for p in public)


class PublicModulesContract(Contract):
    """Imports between two of ``domains`` must target the other domain's package or one of its ``public`` modules."""

    type_name = "public_modules"

    domains = fields.ListField(subfield=fields.StringField())
    public = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        domains: list[str] = list(self.domains)  # type: ignore[call-overload]
        public: list[str] = list(self.public)  # type: ignore[call-overload]
        illegal: list[dict[str, Any]] = []
        for domain in domains:
            for importer in sorted(graph.find_descendants(domain) | {domain}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    target = _domain_of(imported, domains)
                    if target is None or target == domain or _is_public(imported, target, public):
                        continue
                    details = graph.get_import_details(importer=importer, imported=imported)
                    illegal.append(
                        {
                            "importer": importer,
                            "imported": imported,
                            "lines": sorted({d["line_number"] for d in details}),
                        }
                    )
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for link in check.metadata["illegal"]:
            lines = ", ".join(map(str, link["lines"]))
            output.print_error(f"- {link['importer']} -> {link['imported']} (l.{lines})", bold=False)
            output.new_line()
        output.print_error(
            "Import the other domain's service (or another module listed as public in pyproject.toml), "
            "or move the code to where it belongs.",
            bold=False,
        )
