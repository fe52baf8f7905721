"""What a deployment chooses for the classifier, passed in by the caller (no environment reads
here): ``service.settings.Settings.classifier_options`` builds it from the data folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from classifiers import defaults

__all__ = ["ClassifierOptions"]


@dataclass(frozen=True, slots=True)
class ClassifierOptions:
    #: The second-stage model promoted by ``evidencia train`` (in the data folder). While no
    #: file is there, or while the one there is refused (stale after an upgrade), the model
    #: shipped with the package (``classifiers/model/``) is used (``second_stage.load_in_force``).
    second_stage_file: Path | None = None

    def model_path(self) -> Path:
        """The artefact in force: the promoted one when it exists, else the packaged one."""
        if self.second_stage_file is not None and self.second_stage_file.exists():
            return self.second_stage_file
        return defaults.SECOND_STAGE_FILE
