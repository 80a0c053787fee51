"""Seed the business environment's 4 classes × 4 aspects (seed 004: "市场环境、政务环境、法治环境、创新环境
4大类16个方面"), each of seed 000's kinds' default aspect, and the aspect of demands received before.

All of it is configuration, editable in the admin afterwards. Existing demands get their category's default
with one UPDATE per category (set-based, only where no aspect is set), so that the dashboard's and the
circulars' 4×16 breakdown covers the history, not only what is received from now on.
"""

from django.db import migrations

CLASSES = [
    ("市场环境", ["市场准入", "公平竞争", "要素保障", "拖欠账款"]),
    ("政务环境", ["政务服务", "审批效率", "政策落实", "监管执法"]),
    ("法治环境", ["产权保护", "公正司法", "涉企执法", "纠纷化解"]),
    ("创新环境", ["科技创新", "人才支撑", "融资服务", "数字转型"]),
]
# Seed 000's kinds of problem → the aspect an intake suggests (其它 suggests none).
DEFAULTS = {
    "准入难": ("市场环境", "市场准入"),
    "融资难": ("创新环境", "融资服务"),
    "降本增效难": ("市场环境", "要素保障"),
    "政策落地难": ("政务环境", "政策落实"),
    "引才用工难": ("创新环境", "人才支撑"),
    "创业难": ("政务环境", "政务服务"),
    "转型升级难": ("创新环境", "数字转型"),
}


def seed(apps, schema_editor):
    EnvironmentClass = apps.get_model("demands", "EnvironmentClass")
    EnvironmentAspect = apps.get_model("demands", "EnvironmentAspect")
    Category = apps.get_model("demands", "Category")
    Demand = apps.get_model("demands", "Demand")
    aspects = {}
    for class_position, (class_name, names) in enumerate(CLASSES, start=1):
        env_class, _ = EnvironmentClass.objects.get_or_create(name=class_name,
                                                              defaults={"position": class_position})
        for position, name in enumerate(names, start=1):
            aspect, _ = EnvironmentAspect.objects.get_or_create(env_class=env_class, name=name,
                                                                defaults={"position": position})
            aspects[(class_name, name)] = aspect
    for category_name, key in DEFAULTS.items():
        for category in Category.objects.filter(parent=None, name=category_name, default_aspect=None):
            category.default_aspect = aspects[key]
            category.save(update_fields=["default_aspect"])
    for category in Category.objects.exclude(default_aspect=None):
        Demand.objects.filter(category=category, aspect=None).update(aspect=category.default_aspect)
    # A subcategory without a default of its own takes its parent's.
    for category in Category.objects.filter(default_aspect=None).exclude(parent=None).select_related("parent"):
        if category.parent.default_aspect_id:
            Demand.objects.filter(category=category, aspect=None).update(aspect=category.parent.default_aspect_id)


class Migration(migrations.Migration):
    dependencies = [("demands", "0007_environment_taxonomy")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
