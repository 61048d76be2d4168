"""Region rules: where known devices stamp text into their images, as rectangles to blank.

A rule file (JSON) holds a list of rules; a rule applies when every condition holds on the
original header, and then its rectangles [x, y, width, height] (pixels, top left origin)
are filled in every frame. Conditions, per attribute keyword:
  {"equals": "US"}           the value, exactly (numbers as text: "480")
  {"contains": "LOGIQ"}      the value contains this, in any letter case
The shipped file (data/burned_in_regions.json) records the layouts of CTP's public
burned-in annotation library for ultrasound devices; users add their own with
DeidentifyOptions.pixel_rules_file. Rules only add to OCR: text outside them is still found.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

BUILT_IN = Path(__file__).parent / "data" / "burned_in_regions.json"


@dataclass(frozen=True)
class RegionRule:
    """One region rule from a rule file: its `name`, the `conditions` on the original header (see the
    module docstring) and the `regions` to blank, (x, y, width, height) in pixels from the top left."""
    name: str
    conditions: dict      # keyword -> {"equals": text} or {"contains": text}
    regions: tuple        # ((x, y, width, height), ...)

    def applies(self, dataset) -> bool:
        """Whether every condition holds on `dataset` (the original header): the attribute's value as text,
        stripped, equals the condition's text exactly, or contains it in any letter case. An absent
        attribute counts as ''."""
        for keyword, condition in self.conditions.items():
            value = str(dataset.get(keyword, "") if keyword in dataset else "").strip()
            if "equals" in condition and value != str(condition["equals"]):
                return False
            if "contains" in condition and str(condition["contains"]).lower() not in value.lower():
                return False
        return True


def load_rules(path=None) -> list:
    """The built-in rules, plus those of `path` if given. A malformed file raises ValueError naming it."""
    rules = []
    for source in [BUILT_IN] + ([Path(path)] if path else []):
        try:
            entries = json.loads(Path(source).read_text(encoding="utf-8"))["rules"]
            for entry in entries:
                regions = tuple(tuple(int(v) for v in region) for region in entry["regions"])
                if any(len(region) != 4 or region[2] <= 0 or region[3] <= 0 for region in regions):
                    raise ValueError(f"rule {entry.get('name')!r}: a region is [x, y, width, height]")
                for condition in entry["when"].values():
                    if not set(condition) <= {"equals", "contains"} or not condition:
                        raise ValueError(f"rule {entry.get('name')!r}: conditions are equals or contains")
                rules.append(RegionRule(entry["name"], dict(entry["when"]), regions))
        except (OSError, KeyError, TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"{source}: not a region rule file: {error}") from None
    return rules


def regions_for(dataset, rules) -> list:
    """[(rule name, (x, y, width, height))] of every rule that applies."""
    return [(rule.name, region) for rule in rules if rule.applies(dataset) for region in rule.regions]
