"""Which registered component a config block configures, and which options its constructor takes.

Overrides use this for keys the BaseConfig omits (``--bert_basic.strip_accents false``) and for
keys whose BaseConfig value is null (typed by the constructor's annotation or default). The
registries are imported only here, and only when such a key is given.
"""

import inspect
import typing

# (block path, key naming the component in the block's parent or in the block, registry name)
#   ("data_reader", "<dataset>") : the options block data_reader.<dataset> configures READERS[data_reader.dataset]
SLOTS = (
    (("data_reader",), "dataset", "READERS"),
    (("model",), "name", "MODELS"),
    (("token", "tokenizer", "word"), "name", "TOKENIZERS"),
    (("token", "tokenizer", "subword"), "name", "TOKENIZERS"),
    (("optimizer",), "op_type", "OPTIMIZERS"),
    (("optimizer",), "lr_scheduler_type", "LR_SCHEDULERS"),
)
TRAINER_BLOCK = ("trainer",)


def component_of(config: dict, parts: list[str]):
    """For the dotted key ``parts``: (registry name, component name, option name) or None."""
    parent, option = tuple(parts[:-1]), parts[-1]
    if parent == TRAINER_BLOCK and isinstance(config.get("trainer"), dict):
        return "TRAINERS", config["trainer"].get("name", "default"), option
    for block, selector, registry in SLOTS:
        node = _node(config, block)
        if isinstance(node, dict) and parent == block + (node.get(selector),):
            return registry, node.get(selector), option
    return None


def _node(config, path):
    node = config
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def constructor_parameters(registry_name: str, component: str):
    """{option: inspect.Parameter} a component accepts, or None when it takes any keyword."""
    import claf.registry as registries

    obj = getattr(registries, registry_name).get(component)
    if registry_name == "TRAINERS":  # a trainer takes the trainer block whole: its options are the spec's fields
        return _spec_parameters()
    params = {}
    targets = (
        [c.__init__ for c in obj.__mro__ if "__init__" in vars(c) and c is not object]
        if inspect.isclass(obj)
        else [obj]
    )
    closed = False
    for function in targets:
        signature = inspect.signature(function)
        hints = _hints(function)
        open_ended = False
        for name, p in signature.parameters.items():
            if p.kind is p.VAR_KEYWORD:
                open_ended = True
            elif p.kind is not p.VAR_POSITIONAL and name != "self" and name not in params:
                params[name] = (p, hints.get(name))
        if not open_ended:
            closed = True
            break
    forwarded = getattr(obj, "option_functions", ()) if inspect.isclass(obj) else ()
    for method in forwarded:  # **kwargs that reach these methods: their parameters are options too
        function = getattr(obj, method)
        hints = _hints(function)
        for name, p in inspect.signature(function).parameters.items():
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and name != "self":
                params.setdefault(name, (p, hints.get(name)))
    return params if closed or forwarded else None


def _hints(function):
    try:
        return typing.get_type_hints(function, include_extras=True)  # keep Field constraints (ranges)
    except Exception:
        return {}


def expects_list(annotation, default) -> bool:
    """Whether a parameter takes a list (by its annotation, else by its default)."""
    if annotation is not None:
        origins = {typing.get_origin(a) or a for a in (typing.get_args(annotation) or (annotation,))}
        origins.add(typing.get_origin(annotation) or annotation)
        return bool(origins & {list, tuple})
    return isinstance(default, (list, tuple))


def _spec_parameters():
    """{option: (Parameter, annotation)} of the trainer block (``claf.config.specs.run.TrainerSpec``, and
    the keys only a pre-training recipe's trainer takes, which its spec checks)."""
    from claf.config.specs.pretrain import PretrainTrainerSpec
    from claf.config.specs.run import TrainerSpec

    params = {}
    fields = dict(PretrainTrainerSpec.model_fields, **TrainerSpec.model_fields)
    for name, field in fields.items():
        default = inspect.Parameter.empty if field.is_required() else field.default
        params[name] = (inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default), field.annotation)
    return params
