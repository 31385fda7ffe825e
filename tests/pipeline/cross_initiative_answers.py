"""Expected answers of the competency questions that cut across initiatives (``queries/16-`` on)."""

from __future__ import annotations

from competency import Expected

CROSS_INITIATIVE: dict[str, Expected] = {
}
