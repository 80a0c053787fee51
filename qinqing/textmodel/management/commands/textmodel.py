"""`manage.py textmodel evaluate`: how well the classifier does on labelled files.

  textmodel evaluate --train FILE --test FILE   fit on one file (search inside it), score on the other
  textmodel evaluate --cv K FILE                nested stratified K-fold cross-validation on one file
  textmodel train --kind category|unit          train a new version on the confirmed demands (as the worker)
  textmodel rollback --kind category|unit       activate the version before the active one
  textmodel signatures                          index the demands not yet in the duplicate check's index
  textmodel segment                             segment and keep the demands without a current reading
  textmodel replies FILE                        the reply quality check's figures on messages with replies
                                                (附件4: 留言主题, 留言详情, 答复意见)

Both print macro-F1, per-class F1, the confusion table and the throughput (segmenting, fitting,
classifying). Seeds are fixed: the same file gives the same figures.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from qinqing.demands.errors import DomainError
from qinqing.hotissues import hotfile
from qinqing.textmodel import classifier, duplicates, reading, services
from qinqing.textmodel.datasets import DatasetError, read_examples
from qinqing.textmodel.models import Kind


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "文本模型：evaluate 在带标注的文件上评估分类效果（宏F1、各类F1、混淆表、吞吐量）。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser("evaluate", help="评估：--train 与 --test 两个文件，或 --cv K 一个文件")
        evaluate.add_argument("file", nargs="?", help="--cv 时的数据文件")
        evaluate.add_argument("--train", help="训练文件（CSV 或 .xlsx）")
        evaluate.add_argument("--test", help="测试文件（CSV 或 .xlsx）")
        evaluate.add_argument("--cv", type=int, metavar="K", help="分层 K 折嵌套交叉验证")
        evaluate.add_argument("--inner", type=int, default=3, help="每个外层训练折内部调参的折数（默认 3）")
        for name, text in (("train", "用已交办诉求训练新版本并启用"), ("rollback", "回退到当前版本之前的版本")):
            sub.add_parser(name, help=text).add_argument("--kind", choices=Kind.values, default=Kind.CATEGORY)
        sub.add_parser("signatures", help="为尚未建立查重签名的诉求建立签名（批量导入后运行）")
        sub.add_parser("segment", help="为尚未分词（或分词词典已变）的诉求分词并保存，供训练与批量分类使用（批量导入后运行）")
        sub.add_parser("replies", help="答复质量检查在带答复的留言文件上的统计（如泰迪杯附件4）").add_argument(
            "file", help="CSV 或 .xlsx，列：留言主题、留言详情、答复意见")
        hotfile.add_parser(sub)  # textmodel hot FILE: qinqing.hotissues.hotfile

    def handle(self, *args, action, **options):
        try:
            if action == "evaluate":
                self.evaluate(**options)
            elif action == "train":
                model = services.train_model(None, options["kind"])
                self.stdout.write(f"已训练并启用{model}：{model.n_examples} 条，"
                                  f"{model.scores['protocol']}宏F1 {model.macro_f1:.4f}")
            elif action == "signatures":
                started = time.perf_counter()
                done = duplicates.index_missing()
                self.stdout.write(f"已为 {done} 件诉求建立查重签名（{time.perf_counter() - started:.1f} 秒）。")
            elif action == "segment":
                started = time.perf_counter()
                done = reading.read_missing()
                self.stdout.write(f"已为 {done} 件诉求分词并保存（{time.perf_counter() - started:.1f} 秒）。")
            elif action == "replies":
                self.replies(options["file"])
            elif action == "hot":
                hotfile.run(self, options["file"], options["top"])
            elif action == "rollback":
                self.stdout.write(f"已回退到{services.rollback_model(None, options['kind'])}。")
        except DatasetError as exc:
            raise CommandError(str(exc)) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None

    # ---------------------------------------------------------------- evaluate

    def _docs(self, examples):
        started = time.perf_counter()
        docs = [classifier.make_doc(e.title, e.content) for e in examples]
        took = time.perf_counter() - started
        chars = sum(len(e.title) + len(e.content) for e in examples)
        self.stdout.write(f"分词：{len(docs)} 条，{chars} 字，{took:.2f} 秒（{len(docs) / max(took, 1e-9):.0f} 条/秒）")
        return docs, [e.label for e in examples]

    def evaluate(self, *, file=None, train=None, test=None, cv=None, inner=3, **options):
        if cv is not None:
            if not file or train or test:
                raise CommandError("--cv K 只需要一个数据文件：textmodel evaluate --cv 5 FILE")
            if cv < 2:
                raise CommandError("--cv 至少为 2。")
            self._cross_validate(file, cv, inner)
        elif train and test and not file:
            self._train_test(train, test, inner)
        else:
            raise CommandError("请给出 --train FILE --test FILE，或 --cv K FILE。")

    def _cross_validate(self, path, k, inner):
        docs, labels = self._docs(read_examples(path))
        smallest = min(labels.count(label) for label in set(labels))
        if smallest < k:
            raise CommandError(f"最少的类别只有 {smallest} 条，不够分成 {k} 折。")
        self.stdout.write(f"嵌套交叉验证：外层分层 {k} 折；每个外层训练折内部再分层 {inner} 折选参数"
                          f"（{self._grid()}）并拟合置信度温度，然后在整个外层训练折上重训，只在留出折上打分。")
        started = time.perf_counter()

        def progress(n, fold):
            self.stdout.write(f"  第 {n} 折：宏F1 {fold['macro_f1']:.4f}，选定 {fold['params']}，"
                              f"温度 {fold['temperature']}（累计 {time.perf_counter() - started:.1f} 秒）")

        result = classifier.cross_validate(docs, labels, k=k, inner=inner, progress=progress)
        took = time.perf_counter() - started
        self._report(result)
        self.stdout.write(f"耗时：{took:.1f} 秒（{k} 个外层模型，含内层搜索）")

    def _train_test(self, train_path, test_path, inner):
        train_docs, train_labels = self._docs(read_examples(train_path))
        test_docs, test_labels = self._docs(read_examples(test_path))
        started = time.perf_counter()
        model = classifier.Classifier(folds=inner).fit(train_docs, train_labels)
        fit_took = time.perf_counter() - started
        self.stdout.write(f"训练：{len(train_docs)} 条，{fit_took:.1f} 秒；选定 {model.params}，温度 {model.temperature:.3f}")
        started = time.perf_counter()
        predicted = model.predict(test_docs)
        took = time.perf_counter() - started
        labels = sorted(set(train_labels) | set(test_labels))
        self._report(classifier.evaluate_predictions(test_labels, predicted, labels))
        self.stdout.write(f"分类：{len(test_docs)} 条，{took:.3f} 秒（{len(test_docs) / max(took, 1e-9):.0f} 条/秒，不含分词）")

    @staticmethod
    def _grid() -> str:
        return "，".join(f"{k}∈{{{', '.join(map(str, v))}}}" for k, v in classifier.GRID.items())

    def _report(self, result):
        labels = result["labels"]
        self.stdout.write(f"宏F1：{result['macro_f1']:.4f}")
        self.stdout.write("各类F1：")
        name_width = max(_width(label) for label in labels) + 2
        for label in labels:
            self.stdout.write(f"  {_pad(label, name_width)}{result['per_class'][label]:.4f}"
                              f"（{result['support'][label]} 条）")
        self.stdout.write("混淆表（行为实际类别，列为预测类别，列号同行号）：")
        cell = max(5, *(len(str(v)) + 1 for row in result["confusion"] for v in row))
        self.stdout.write(" " * (name_width + 5) + "".join(f"{n:>{cell}}" for n in range(1, len(labels) + 1)))
        for n, (label, row) in enumerate(zip(labels, result["confusion"], strict=True), start=1):
            self.stdout.write(f"  {n:>2} {_pad(label, name_width)}" + "".join(f"{v:>{cell}}" for v in row))

    # ---------------------------------------------------------------- replies

    def replies(self, path):
        from qinqing.textmodel import replies
        from qinqing.textmodel.datasets import read_replies

        rows = read_replies(path)
        started = time.perf_counter()
        result = replies.calibrate(rows)
        took = time.perf_counter() - started
        q = "、".join(f"{v:.3f}" for v in result["real_quantiles"])
        w = "、".join(f"{v:.3f}" for v in result["wrong_quantiles"])
        self.stdout.write(f"留言与答复：{result['n']} 条")
        self.stdout.write("相关度（诉求与答复的汉字二元组重叠系数，去掉最常见的40个）分位数 P10、P25、P50、P75、P90：")
        self.stdout.write(f"  真实答复：{q}")
        self.stdout.write(f"  随机配给另一条留言的答复：{w}")
        self.stdout.write(f"阈值 {replies.RELEVANCE_THRESHOLD}：提示“未回应诉求”的真实答复 {result['real_below']:.1%}，"
                          f"错配答复 {result['wrong_below']:.1%}")
        self.stdout.write("各项提示占真实答复的比例：")
        for flag, share in result["flags"].items():
            self.stdout.write(f"  {replies.FLAGS[flag]}：{share:.1%}")
        self.stdout.write(f"至少一项提示：{result['any_flag']:.1%}；同一答复（去掉数字后）用于超过"
                          f"{replies.BOILERPLATE_AFTER}条留言的：{result['reused_groups']} 组")
        self.stdout.write(f"耗时：{took:.1f} 秒（{result['n'] / max(took, 1e-9):.0f} 条/秒）")
