"""The original CLaF BaseConfig shape, accepted and brought to today's shape.

The original wrote ``token: {names: [...], types: [...], tokenizer: {...}, <name>: {vocab: {...},
indexer: {do_tokenize, ...}}}``. Today a config has ``token: {tokenizer, indexer: {name}}``: the
vocab travels with the checkpoint and indexing is BERT-style. Keys without a meaning any more are
dropped, each with a note for the log.
"""


def normalize_token_block(data: dict) -> tuple[dict, list[str]]:
    """Return (data, notes); ``data`` is modified in place when it has the original shape."""
    token = data.get("token")
    if not isinstance(token, dict) or "names" not in token:
        return data, []
    notes = []
    names = token.get("names") or []
    indexer = {"name": "bert"}
    for name in names:
        block = token.get(name) or {}
        given = dict(block.get("indexer") or {})
        if name == names[0] and given.get("name"):
            indexer["name"] = given["name"]
        ignored = [f"token.{name}.{key}" for key in block if key != "indexer"]
        ignored += [f"token.{name}.indexer.{key}" for key in given if key != "name"]
        if ignored:
            notes.append(f"ignored {', '.join(ignored)}: the vocab and casing travel with the checkpoint")
    for key in ("names", "types"):
        if key in token:
            notes.append(f"ignored token.{key}: one tokenizer per experiment (token.tokenizer)")
    data["token"] = {"tokenizer": token.get("tokenizer") or {}, "indexer": indexer}
    return data, notes
