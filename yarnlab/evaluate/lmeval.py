"""Hook to lm-evaluation-harness for the short-context benchmarks (YaRN Section 4.4, Table 3).

The paper reports the Open LLM Leaderboard tasks: 25-shot ARC-Challenge, 10-shot HellaSwag,
5-shot MMLU and 0-shot TruthfulQA (mc2). This is meant for GPU machines with real checkpoints
and needs the ``gpu`` extra (``pip install 'yarnlab[gpu]'``); nothing on the CPU path imports it.
"""

from __future__ import annotations

from yarnlab.errors import UsageError

#: task name -> number of few-shot examples, as in the paper's Table 3.
PAPER_TASKS = {"arc_challenge": 25, "hellaswag": 10, "mmlu": 5, "truthfulqa_mc2": 0}

_METRIC_PREFERENCE = ("acc_norm,none", "acc,none", "mc2,none")


def _import_lm_eval():
    try:
        import lm_eval
        from lm_eval.models.huggingface import HFLM
    except ModuleNotFoundError as exc:
        raise UsageError("lm_eval: lm-evaluation-harness is not installed; pip install 'yarnlab[gpu]' "
                         "(or pip install lm-eval) on the machine that runs the benchmark") from exc
    return lm_eval, HFLM


def run_lm_eval(model, tokenizer, tasks: dict[str, int] | None = None, batch_size: int | str = 8,
                limit: int | float | None = None, device: str | None = None) -> list[dict]:
    """Evaluate an in-memory Hugging Face ``model`` (already scaled with ``apply_scaling`` if
    wanted) with its ``tokenizer`` on ``tasks`` (name -> few-shot count; default
    :data:`PAPER_TASKS`). Returns rows ``task, num_fewshot, metric, value, stderr``.
    """
    lm_eval, HFLM = _import_lm_eval()
    tasks = dict(tasks or PAPER_TASKS)
    kwargs = {"pretrained": model, "tokenizer": tokenizer, "batch_size": batch_size}
    if device:
        kwargs["device"] = device
    lm = HFLM(**kwargs)
    rows = []
    for task, shots in tasks.items():
        out = lm_eval.simple_evaluate(model=lm, tasks=[task], num_fewshot=shots, limit=limit)
        for name, metrics in out["results"].items():
            for metric in _METRIC_PREFERENCE:
                if metric in metrics:
                    rows.append({"task": name, "num_fewshot": shots, "metric": metric.split(",")[0],
                                 "value": float(metrics[metric]),
                                 "stderr": metrics.get(metric.replace(",", "_stderr,"))})
                    break
    return rows
