"""`manage.py textmodel evaluate` on a tiny labelled file: the figures a reader needs, and clear refusals."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db  # the words come from a tokenizer built with the terms in the database

# Three kinds of demand an enterprise raises, written for this test, six of each.
TEXTS = {
    "融资": ["流动资金贷款到期需要银行续贷", "银行抽贷导致贷款资金周转困难", "申请贴息贷款迟迟未批",
             "担保公司要求反担保贷款难", "企业想申请银行信用贷款额度", "票据贴现利率太高贷款贵"],
    "用工": ["技术工人招工困难缺少技工", "员工社保缴费基数调整咨询", "新招员工培训补贴如何申请",
             "企业招工难一线员工流失", "高校毕业生招工补贴政策", "员工劳动合同纠纷需要调解"],
    "用地": ["厂房用地指标迟迟未落实", "工业用地规划调整影响扩建", "用地土地证办理进度缓慢",
             "企业扩产需要新增建设用地", "标准厂房用地租金补贴申请", "用地红线与规划不一致"],
}


def write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["留言主题", "留言详情", "一级分类"])
        out.writerows(rows)
    return path


def rows():
    return [(text[:6], text, label) for label, texts in TEXTS.items() for text in texts]


def run(*args) -> str:
    out = io.StringIO()
    call_command("textmodel", "evaluate", *args, stdout=out)
    return out.getvalue()


def test_cross_validation_prints_macro_f1_per_class_f1_a_confusion_table_and_throughput(tmp_path):
    output = run("--cv", "3", str(write(tmp_path / "sample.csv", rows())))
    assert "外层分层 3 折" in output and output.count("第 ") == 3
    macro = float(output.split("宏F1：")[1].split()[0])
    assert 0.8 <= macro <= 1.0  # three well-separated kinds: a model that learned nothing scores about 0.33
    for label in TEXTS:
        assert f"  {label}" in output and "（6 条）" in output
    table = output.split("混淆表")[1].splitlines()[2:5]
    assert sum(int(v) for line in table for v in line.split()[2:]) == 18  # every held-out text counted once
    assert "条/秒" in output


def test_the_same_file_gives_the_same_figures(tmp_path):
    path = str(write(tmp_path / "sample.csv", rows()))
    first, second = run("--cv", "3", path), run("--cv", "3", path)
    strip = lambda text: [line for line in text.splitlines() if "秒" not in line]  # noqa: E731
    assert strip(first) == strip(second)


def test_a_train_file_and_a_test_file_are_scored_on_the_test_file(tmp_path):
    all_rows = rows()
    train = write(tmp_path / "train.csv", [r for n, r in enumerate(all_rows) if n % 6 != 0])
    test = write(tmp_path / "test.csv", [r for n, r in enumerate(all_rows) if n % 6 == 0])
    output = run("--train", str(train), "--test", str(test))
    assert "训练：15 条" in output and "分类：3 条" in output and "宏F1：" in output


def test_bad_input_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        run("--cv", "3", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="不够分成 5 折"):
        run("--cv", "5", str(write(tmp_path / "small.csv", rows()[:4] + rows()[6:10] + rows()[12:16])))
    bad = tmp_path / "bad.csv"
    bad.write_text("标题,正文\n一,二\n", encoding="utf-8")
    with pytest.raises(CommandError, match="缺少“内容”列"):
        run("--cv", "3", str(bad))
    with pytest.raises(CommandError, match="--train FILE --test FILE"):
        run("--train", str(bad))


def test_a_large_training_set_is_fitted_once_and_scored_on_a_held_out_fifth():
    from qinqing.textmodel import classifier

    data = rows() * 3  # 54 texts of three kinds
    docs = [classifier.make_doc(title, text) for title, text, _ in data]
    labels = [label for _, _, label in data]
    model, scores = classifier.fit_large(docs, labels, params={"title_weight": 2, "char_max": 2, "C": 1.0})
    assert scores["k"] is None and sum(scores["support"].values()) == 11  # a stratified fifth held out
    assert scores["macro_f1"] >= 0.8 and model.temperature > 0
    assert list(model.predict([classifier.make_doc("贷款", "银行续贷困难")])) == ["融资"]
