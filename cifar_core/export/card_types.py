"""Model card, its shape: the card as data (sections of facts, tables, paragraphs and bullets)."""

from __future__ import annotations

from dataclasses import dataclass

from cifar_core.bias_privacy.content import Reference
from cifar_core.export.bootstrap import Interval


@dataclass(frozen=True)
class Table:
    """A table of a section: column names and rows of text."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    """One section of the card, as structured text (the renderers escape all of it).

    Attributes:
        key: a stable name (model_details, training_data, metrics, intended_use,
            out_of_scope, caveats).
        title: the heading.
        facts: (label, value) pairs, shown as a two-column table.
        table: a table after the facts, or None.
        paragraphs: plain-text paragraphs.
        bullets: plain-text list items.
    """

    key: str
    title: str
    facts: tuple[tuple[str, str], ...] = ()
    table: Table | None = None
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Figures:
    """The card's measured numbers (None or empty where the run lacks what they need).

    Attributes:
        test: test accuracy with its bootstrap interval.
        per_class: one interval per class, in label order.
        train: accuracy on the saved sample of training images.
        gap: training minus test accuracy.
    """

    test: Interval | None = None
    per_class: tuple[Interval, ...] = ()
    train: Interval | None = None
    gap: Interval | None = None


@dataclass(frozen=True)
class ModelCard:
    """A model card of one run: its sections in reading order, its sources, what is missing.

    Attributes:
        run_id: the run.
        title: the card's heading.
        intro: what the card is (and, for an incomplete run, that it is incomplete).
        model_details, training_data, metrics, intended_use, out_of_scope, caveats: sections.
        references: every source the sections cite as "(Key year)".
        missing: one sentence per thing the run lacks (empty for a complete run).
        figures: the measured numbers behind the Metrics section.
    """

    run_id: str
    title: str
    intro: str
    model_details: Section
    training_data: Section
    metrics: Section
    intended_use: Section
    out_of_scope: Section
    caveats: Section
    references: tuple[Reference, ...]
    missing: tuple[str, ...]
    figures: Figures

    @property
    def sections(self) -> tuple[Section, ...]:
        """The six sections, in reading order."""
        return (
            self.model_details,
            self.training_data,
            self.metrics,
            self.intended_use,
            self.out_of_scope,
            self.caveats,
        )
