"""Request bodies for the server, built from the model's reader, and the truncation note of a response.

A classification model takes ``{"text"}``, a pair model ``{"text", "text_pair"}``, regression the
same, NER ``{"text"}``, QA ``{"question", "context"}``, a multi-task model adds ``"task"``. Every
field is a non-empty string; FastAPI answers 422 naming the field otherwise.
"""

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, create_model


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


Text = Annotated[StrictStr, Field(min_length=1), AfterValidator(_not_blank)]


def request_model(reader) -> type[BaseModel]:
    """The pydantic model of one prediction input for this reader."""
    tasks = getattr(reader, "names", None) if reader.task == "multi_task" else None
    fields = {"id": (Optional[StrictStr], None)}  # noqa: UP045 (a runtime pydantic field)
    if tasks:
        fields["task"] = (Literal[tuple(tasks)], ...)
        needed = sorted({f for t in tasks for f in reader.input_fields(t)})
        for name in needed:  # which of them a task needs is checked against its reader
            fields[name] = (Optional[Text], None)  # noqa: UP045 (a runtime pydantic field)
    else:
        for name in reader.input_fields():
            fields[name] = (Text, ...)
    return create_model("PredictInput", __config__=ConfigDict(extra="forbid"), **fields)


def batch_model(item_model) -> type[BaseModel]:
    return create_model(
        "PredictBatch",
        __config__=ConfigDict(extra="forbid"),
        inputs=(Annotated[list[item_model], Field(min_length=1, max_length=256)], ...),
    )


def task_reader(reader, record):
    return reader.readers[record["task"]] if reader.task == "multi_task" else reader


def truncation(reader, tokenizer, record) -> dict:
    """What the reader cuts from this input, measured in the model's tokens."""
    reader = task_reader(reader, record)
    if reader.task == "qa":
        question = len(tokenizer(record["question"], add_special_tokens=False)["input_ids"])
        windows = len(reader.featurize([reader.example_from_input(record)], tokenizer, with_labels=False))
        note = {
            "truncated": question > reader.max_question_length,
            "question_tokens": question,
            "max_question_length": reader.max_question_length,
            "windows": windows,
        }
        if note["truncated"]:
            note["note"] = f"question cut to its first {reader.max_question_length} tokens"
        return note
    pair = record.get("text_pair") if "text_pair" in reader.input_fields() else None
    tokens = len(tokenizer(record["text"], pair, truncation=False)["input_ids"])
    note = {"truncated": tokens > reader.max_seq_length, "tokens": tokens, "max_seq_length": reader.max_seq_length}
    if note["truncated"]:
        note["note"] = f"input has {tokens} tokens; the model read the first {reader.max_seq_length}" + (
            " (text parts beyond them are tagged O)" if reader.task == "tok_cls" else ""
        )
    return note


def missing_task_fields(reader, record) -> list[str]:
    """A multi-task input: the fields its task needs that it lacks."""
    if reader.task != "multi_task":
        return []
    return [f for f in reader.input_fields(record["task"]) if not record.get(f)]


def validation_records(checkpoint, limit=None) -> list[dict]:
    """Prediction inputs made from the run's validation rows (needs the run's config.json)."""
    import json
    from pathlib import Path

    from claf.data.sources import resolve_data_file
    from claf.models.task_file import read_task_file
    from claf.registry import READERS

    config_file = Path(checkpoint).parent.parent / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"{config_file} not found: give input records (--input) for this checkpoint")
    data_reader = json.loads(config_file.read_text(encoding="utf-8"))["data_reader"]
    meta = read_task_file(checkpoint)["data_reader"]
    reader = READERS.get(meta["dataset"])(**meta["options"])
    if reader.task == "multi_task":
        raise ValueError("validation_records: give input records (--input) for a multi-task model")
    examples = reader.read(resolve_data_file(data_reader["valid_file_path"]), limit)
    fields = reader.input_fields()
    return [{f: e[f] for f in fields} for e in examples]
