"""Wrong variants generated from a model question's derived spec: the faults every model
exercise must catch, so an instructor's corpus need not list them.

Each mutant is notebook code that defines the reference builder (its source, from the lab's
``reference/``), builds the reference, changes one thing in its Keras config and compiles the
result as ``variable``: the output layer's activation left linear, a loss the task does not
use, fewer units or filters than the spec's minimum, the first required hidden layer left out
(a Sequential reference only), plain SGD (an optimizer that cannot learn in the grader's
budget), and every layer frozen (built right but unable to learn: only the accuracy test can
catch it). ``kerasgrade verify-tests`` grades them beside the lab's own variants.
"""

from __future__ import annotations

import inspect

from autograder.lab.questions import DerivedSpec, ModelQuestion
from autograder.quality.verify import Variant

# Config entries that the folded chain of labkit.architecture does not count as layers.
SKIPPED_KINDS = {"InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
                 "GaussianDropout", "GaussianNoise", "AlphaDropout", "Activation"}  # fmt: skip
WRONG_LOSS = "mean_squared_error"
# After an edit the layers' recorded input shapes no longer fit: each is rebuilt for its input.
REBUILD = "for _layer in _config['layers']:\n    _layer.pop('build_config', None)"
FROZEN_FAULT = "held-out"  # every lab's failed accuracy check says what it scored held out


def chain_entries(config: dict) -> list[int]:
    """Indices in a model config's ``layers`` of the layers the folded chain counts."""
    return [
        i for i, layer in enumerate(config["layers"]) if layer["class_name"] not in SKIPPED_KINDS
    ]


def _code(source: str, builder: str, variable: str, loss: str, *, edit: str = "",
          optimizer: str = "adam", frozen: bool = False) -> str:  # fmt: skip
    lines = [
        source, "", "", f"_reference = {builder}()", "_config = _reference.get_config()",
        *([edit, REBUILD] if edit else []), f"{variable} = type(_reference).from_config(_config)",
    ]  # fmt: skip
    if frozen:
        lines.append(f"for _layer in {variable}.layers:\n    _layer.trainable = False")
    lines.append(
        f"{variable}.compile(loss={loss!r}, optimizer={optimizer!r}, metrics=['accuracy'])"
    )
    return "\n".join(lines) + "\n"


def mutants(name: str, question: ModelQuestion, spec: dict, source: str, sequential: bool,
            entries: list[int]) -> list[Variant]:  # fmt: skip
    """The mutants of model question ``name`` (``spec`` resolved, ``source`` its builder's
    code, ``sequential`` whether the reference is a Sequential model, ``entries`` its chain
    layers' indices in the model config)."""
    builder, variable, loss = question.builder.function, question.variable, spec["loss"]
    made = []

    def add(kind: str, fault: str, untrainable: bool = False, **code) -> None:
        made.append(Variant(name, f"mutant_{kind}", False, _code(source, builder, variable, **code),
                            fault, untrainable))  # fmt: skip

    output = spec["layers"][-1]
    if "activation" in output:
        edit = f"_config['layers'][{entries[-1]}]['config']['activation'] = 'linear'"
        add("linear_output", f"needs {output['activation']!r}", loss=loss, edit=edit)
    add("wrong_loss", f"this task needs {loss!r}", loss=WRONG_LOSS)
    for index, rule in enumerate(spec["layers"][:-1]):
        for key in ("units", "filters"):
            minimum = rule.get(key, {}).get("min") if isinstance(rule.get(key), dict) else None
            if minimum and minimum >= 2:
                edit = f"_config['layers'][{entries[index]}]['config'][{key!r}] = {minimum // 2}"
                add(f"too_few_{key}", f"needs at least {minimum}", loss=loss, edit=edit)
                break
        else:
            continue
        break
    required = [i for i, rule in enumerate(spec["layers"][:-1]) if rule.get("repeat", (1,))[0] >= 1]
    if sequential and required:
        edit = f"del _config['layers'][{entries[required[0]]}]"
        add("missing_layer", "", loss=loss, edit=edit)
    add("sgd", "the SGD optimizer", loss=loss, optimizer="sgd")
    if question.accuracy_check:
        add("every_layer_frozen", FROZEN_FAULT, untrainable=True, loss=loss, frozen=True)
    return made


def generated_variants(config, questions: list[str] | None = None) -> list[Variant]:
    """The mutants of every model question of ``config``'s lab whose spec is derived
    (``DerivedSpec``) and compiled, in question order (imports Keras: it builds each
    reference once)."""
    lab = config.lab
    builders = None
    variants = []
    for name, question in lab.questions.items():
        if not isinstance(question, ModelQuestion) or not isinstance(question.spec, DerivedSpec):
            continue
        if questions and name not in questions:
            continue
        builders = builders or lab.builders()
        reference = question.builder()
        spec = question.spec.resolve(question.builder, reference)
        if "loss" not in spec:
            continue
        model_config = reference.get_config()
        sequential = type(reference).__name__ == "Sequential"
        source = inspect.getsource(builders[question.builder.function]).rstrip()
        variants += mutants(name, question, spec, source, sequential, chain_entries(model_config))
    return variants
