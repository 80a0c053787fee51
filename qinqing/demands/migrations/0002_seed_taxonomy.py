"""Seed the default 1231 rule and seed 000's eight kinds of demand (editable afterwards)."""

from django.db import migrations

KINDS = [
    ("准入难", "准入 审批 许可 资质 登记 办证 备案 招投标 门槛 市场准入"),
    ("融资难", "融资 贷款 授信 银行 担保 抵押 资金 利率 续贷 转贷"),
    ("降本增效难", "成本 电价 用电 用水 用气 租金 物流 税费 社保 降本"),
    ("政策落地难", "政策 补贴 奖励 兑现 申报 扶持 落实 减免 退税"),
    ("引才用工难", "招工 用工 人才 招聘 员工 技工 培训 落户 子女 住房"),
    ("创业难", "创业 孵化 场地 初创 注册 开办"),
    ("转型升级难", "转型 升级 技改 数字化 智能化 研发 创新 技术 设备"),
    ("其它", ""),
]


def seed(apps, schema_editor):
    SlaRule = apps.get_model("demands", "SlaRule")
    Category = apps.get_model("demands", "Category")
    SlaRule.objects.get_or_create(name="1231", defaults={
        "dispatch_days": 1, "contact_days": 2, "path_days": 3, "resolve_months": 1, "resolve_workdays": 0,
        "redo_days": 10, "is_default": True})
    for position, (name, keywords) in enumerate(KINDS, start=1):
        Category.objects.get_or_create(parent=None, name=name, defaults={"keywords": keywords,
                                                                          "position": position})


class Migration(migrations.Migration):
    dependencies = [("demands", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
